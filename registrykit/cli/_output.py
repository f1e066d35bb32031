"""What the ``registrykit`` command prints: results in a format, errors in one line.

Registry text (repository names, tags, messages) reaches the terminal with
its control characters and escape sequences removed, and secrets the client
sent scrubbed from errors.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any, TextIO

from .._credentials.process import printable, scrub

__all__ = ["emit", "error", "terminal_text"]

_MAX_ERROR_LINE = 1000  # an error is one line; past this the rest is cut


def error(message: str) -> None:
    """``message`` on stderr as one line: no control character, no secret, cut when very long."""
    sys.stderr.write(f"registrykit: {scrub(message, limit=_MAX_ERROR_LINE)}\n")


def emit(result: Any, fmt: str, out: TextIO) -> None:
    """Write a DataFrame, a result object or plain data; no control characters, line by line."""
    buffer = io.StringIO()
    _emit(result, fmt, buffer)
    out.write(terminal_text(buffer.getvalue()))


def terminal_text(text: str) -> str:
    """``text`` with its lines kept and every control character and escape sequence removed."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _emit(result: Any, fmt: str, out: TextIO) -> None:
    import pandas as pd

    from ..frames._format import readable

    if isinstance(result, pd.DataFrame):
        if fmt == "csv":
            result.to_csv(out, index=False)
        elif fmt == "json":
            out.write(result.to_json(orient="records", date_format="iso", indent=2) + "\n")
        elif fmt == "markdown":
            out.write(_markdown(readable(result)) + "\n")
        elif result.empty:
            out.write("(no rows)\n")
        else:
            out.write(readable(result).to_string(index=False) + "\n")
        return
    if fmt == "json" or isinstance(result, dict | list):
        # Raw documents (manifests, configs) are JSON whatever the format.
        out.write(json.dumps(_jsonable(result), indent=2, default=str) + "\n")
    else:
        out.write(f"{result}\n")


def _markdown(frame: Any) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def _jsonable(value: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.repr and not f.name.startswith("_")
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
