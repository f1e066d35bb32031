"""What every form shares: a status line, friendly errors, showing results.

Forms only gather input and show results; the work is done by the operation
each form takes in its constructor (the public function by default, as
ipywidgets' ``interact`` takes a function), so a form calls what a notebook
would and a test or a notebook can hand it another.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        empty(output)
    for value in values:
        output.append_display_data(value)


@contextmanager
def busy(*buttons: w.Button) -> Iterator[None]:
    """Disable ``buttons`` while work runs (a second click cannot start it twice), then restore."""
    before = [button.disabled for button in buttons]
    for button in buttons:
        button.disabled = True
    try:
        yield
    finally:
        for button, was in zip(buttons, before, strict=True):
            button.disabled = was


def on_click(button: w.Button, action: Callable[[], object]) -> None:
    """Run ``action`` on a click, unless the button is disabled (work is running)."""
    button.on_click(lambda b: None if b.disabled else action())


def empty(output: w.Output) -> None:
    """Remove everything ``output`` shows: recorded outputs and, in a kernel, captured ones."""
    output.outputs = ()
    # Outside a kernel clear_output() only writes terminal escapes to stdout.
    shell = _shell()
    if shell is not None and hasattr(shell, "kernel"):
        output.clear_output()


def _shell() -> object | None:
    from IPython.core.getipython import get_ipython

    shell: object | None = get_ipython()  # type: ignore[no-untyped-call]
    return shell


def clear(status: w.HTML, output: w.Output | None = None) -> None:
    """Forget a shown result: its input changed, so it no longer describes the form."""
    status.value = ""
    if output is not None:
        empty(output)
