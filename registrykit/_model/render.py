"""One renderer for every result and info object: rows of (key, value) as
plain text (``str()``) and as an HTML table (``_repr_html_`` in Jupyter).

A value is inline text (``str``), a bulleted list (``list``) or a block of
commands shown as-is (``tuple``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["Summary", "Value", "render_html", "render_text"]

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
