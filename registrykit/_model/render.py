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

# Borders, left-aligned text and sizes that never wrap: readable when forwarded.
TABLE_STYLE = "border-collapse:collapse;text-align:left"
CELL_STYLE = "border:1px solid #d0d7de;padding:2px 8px;text-align:left;white-space:nowrap"

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
        body.append(
            f"<tr><th style='text-align:left;vertical-align:top'>{html.escape(key)}</th>"
            f"<td style='text-align:left'>{cell}</td></tr>"
        )
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
    head = "".join(f"<th style='{CELL_STYLE}'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='{CELL_STYLE}'>{html.escape(str(c))}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return (
        f"<div><strong>{html.escape(title)}</strong><table style='{TABLE_STYLE}'>"
        f"<tr>{head}</tr>{body}</table></div>"
    )


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
