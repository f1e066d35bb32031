"""One renderer for every result and info object: rows of (key, value) as
plain text (``str()``) and as an HTML table (``_repr_html_`` in Jupyter).

A value is inline text (``str``), a bulleted list (``list``) or a block of
commands shown as-is (``tuple``). ``render_table_text`` and
``render_table_html`` show a list of like items, one line each.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = [
    "Summary",
    "Value",
    "render_html",
    "render_table_html",
    "render_table_text",
    "render_text",
]

# Borders and left-aligned text: readable in Jupyter and when forwarded.
CELL_STYLE = "border-bottom:1px solid #d0d7de;padding:2px 8px;text-align:left;vertical-align:top"
# Short cells (sizes, dates, tags) never wrap; long ones (commands, paths) may.
NOWRAP_UP_TO = 32


def _cell(tag: str, text: str, inner: str | None = None) -> str:
    wrap = "white-space:nowrap" if len(text) <= NOWRAP_UP_TO else "overflow-wrap:anywhere"
    shown = html.escape(text) if inner is None else inner
    return f"<{tag} style='{CELL_STYLE};{wrap}'>{shown}</{tag}>"


Value = str | list[str] | tuple[str, ...]


def render_text(title: str, rows: Sequence[tuple[str, Value]]) -> str:
    lines = [title]
    for key, value in rows:
        if isinstance(value, str):
            lines.append(f"  {key}: {value}")
            continue
        lines.append("")
        lines.append(f"  {key}:")
        bullet = "    - " if isinstance(value, list) else "    "
        lines.extend(f"{bullet}{item}" for item in value)
    return "\n".join(lines)


def render_html(title: str, rows: Sequence[tuple[str, Value]]) -> str:
    body = []
    for key, value in rows:
        items = [value] if isinstance(value, str) else list(value)
        cell = "<br>".join(f"<code>{html.escape(v)}</code>" for v in items) or "-"
        longest = max(items, key=len, default="")
        body.append(f"<tr>{_cell('th', key)}{_cell('td', longest, cell)}</tr>")
    return f"<div><strong>{html.escape(title)}</strong><table>{''.join(body)}</table></div>"


def render_table_text(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A title, then one aligned line per row (columns as wide as their widest cell)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        title,
        "  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
    ]
    for row in rows:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def render_table_html(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The same as an HTML table with borders and left-aligned cells."""
    head = "".join(_cell("th", h) for h in header)
    body = "".join("<tr>" + "".join(_cell("td", str(c)) for c in row) + "</tr>" for row in rows)
    return f"<div><strong>{html.escape(title)}</strong><table><tr>{head}</tr>{body}</table></div>"


class Summary:
    """``str()`` and ``_repr_html_`` over ``_title()`` and ``_rows()``."""

    def _title(self) -> str:
        raise NotImplementedError

    def _rows(self) -> list[tuple[str, Value]]:
        raise NotImplementedError

    def __str__(self) -> str:
        return render_text(self._title(), self._rows())

    def _repr_html_(self) -> str:
        return render_html(self._title(), self._rows())
