"""What every form shares: a status line, friendly errors, showing results.

Forms only gather input and show results; the work is done by the operation
each form takes in its constructor (the public function by default, as
ipywidgets' ``interact`` takes a function), so a form calls what a notebook
would and a test or a notebook can hand it another.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from .._model.errors import RegistryKitError

# What a form calls to do its work: the public function, or a stand-in.
Operation = Callable[..., Any]

OK = "#1a7f37"
ERROR = "#cf222e"
INFO = "#57606a"


WIDE = w.Layout(width="min(40em, 95%)")
LABELLED = {"description_width": "initial"}


def status_line() -> w.HTML:
    return w.HTML(value="", layout=w.Layout(min_height="1.6em"))


def set_status(widget: w.HTML, text: str, color: str = INFO) -> None:
    widget.value = f"<span style='color:{color}'>{html.escape(text)}</span>"


def friendly(exc: BaseException) -> str:
    """The one-line message with its remedy; never a traceback."""
    if isinstance(exc, RegistryKitError | ValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def show(output: w.Output, *values: object, clear: bool = True) -> None:
    """Display ``values`` (HTML reprs, frames, figures) in ``output``.

    ``append_display_data`` records the rich outputs on the widget itself, so
    the result is there whether or not a kernel is capturing (tests, voila).
    """
    if clear:
        output.clear_output()
    for value in values:
        output.append_display_data(value)
