"""Progress bars for listings, audits and layer reads: the only ``tqdm.auto`` import here.

``progress=None`` (auto) shows a bar only when the work is big enough to
notice: more than ``REQUEST_THRESHOLD`` requests, or more than
``BYTE_THRESHOLD`` bytes to stream, and even then only once it has run for
``AUTO_DELAY`` seconds (a warm listing that ends at once draws nothing).
``True`` always shows one at once, ``False`` never. The copy engine's byte
bar (``transfer._Progress``) is separate.

Workers count into a ``Progress`` under a lock; the bar itself is redrawn
at most every ``REDRAW_INTERVAL`` seconds, so a loop of ten thousand
tags does not pay tqdm's (or a notebook widget's) cost ten thousand times.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "AUTO_DELAY",
    "BYTE_THRESHOLD",
    "REDRAW_INTERVAL",
    "REQUEST_THRESHOLD",
    "Advance",
    "Progress",
    "ProgressArg",
    "bar",
    "counted",
    "progress_bar",
]

ProgressArg = bool | None
Advance = Callable[[int], None]

# More requests than this (tags to resolve, repositories to audit) get a bar.
REQUEST_THRESHOLD = 16
# More bytes than this (layers to read for files/waste) get a bar.
BYTE_THRESHOLD = 64 * 1024 * 1024
# An automatic bar appears only when the work lasts longer than this (seconds).
AUTO_DELAY = 1.0
# Counts reach the drawn bar at most this often (seconds), and when work ends.
REDRAW_INTERVAL = 0.2


class Progress:
    """A count of done work against a total that may grow, drawn as a tqdm.auto bar.

    Safe to call from the client's worker threads. ``grow`` adds work as it
    becomes known (an audit learns each repository's tag count as its tag
    list arrives); ``advance`` counts work done; the bar closes itself when
    the count reaches the total (unless ``grows``: then the owner calls
    ``close``), or on ``close``. Without a bar (``shown`` None) every method
    is a cheap no-op.
    """

    def __init__(self, shown: Any | None, total: int, *, grows: bool = False) -> None:
        self._shown = shown
        self._grows = grows
        self._lock = threading.Lock()
        self._total = total
        self._done = 0  # counted, drawn or not
        self._drawn = 0  # what the bar shows
        self._next_draw = time.monotonic() + REDRAW_INTERVAL
        self._closed = shown is None

    def grow(self, n: int) -> None:
        """``n`` more units of work became known."""
        if self._closed or n <= 0:
            return
        with self._lock:
            self._total += n  # drawn with the next batch of counts

    def advance(self, n: int = 1) -> None:
        """``n`` units of work are done."""
        if self._closed:
            return
        with self._lock:
            self._done += n
            now = time.monotonic()
            if now < self._next_draw and (self._grows or self._done < self._total):
                return
            self._next_draw = now + REDRAW_INTERVAL
            self._draw()

    def note(self, text: str) -> None:
        """Text shown after the counts (``3/500 repositories``), redrawn with them."""
        if self._closed or self._shown is None:
            return
        with self._lock:
            self._shown.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        """Draw the last count and close the bar (once; later calls do nothing)."""
        with self._lock:
            if self._closed:
                return
            self._draw(closing=True)

    def _draw(self, closing: bool = False) -> None:
        # Called with the lock held.
        shown = self._shown
        if shown is None or self._closed:
            return
        shown.total = self._total  # a grown total shows with this update
        if self._done > self._drawn:
            shown.update(self._done - self._drawn)
            self._drawn = self._done
        if closing or (not self._grows and self._done >= self._total):
            self._closed = True
            shown.close()


def _wanted(progress: ProgressArg, total: int, threshold: int) -> bool:
    if progress is None:
        return total > threshold
    return progress


def progress_bar(
    total: int,
    desc: str,
    *,
    unit: str = "req",
    progress: ProgressArg = None,
    threshold: int = REQUEST_THRESHOLD,
    grows: bool = False,
) -> Progress:
    """A ``Progress`` over ``total`` units; drawn when ``progress`` asks (see the module doc).

    With ``grows`` the total is only a first estimate: ``grow`` adds to it
    and the caller closes the bar.
    """
    if not _wanted(progress, total, threshold):
        return Progress(None, total)
    from tqdm.auto import tqdm  # on first bar: picking the notebook or terminal bar is slow

    in_bytes = unit == "B"  # bytes read as KiB/MiB, requests as plain counts
    shown = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=in_bytes,
        unit_divisor=1024,
        leave=False,
        delay=AUTO_DELAY if progress is None else 0.0,
    )
    return Progress(shown, total, grows=grows)


def bar(total: int, desc: str, **options: Any) -> Advance:
    """A function that advances a ``progress_bar(total, desc, **options)`` by ``n``."""
    return progress_bar(total, desc, **options).advance


def counted(chunks: Iterator[bytes], advance: Advance) -> Iterator[bytes]:
    """``chunks`` unchanged, advancing the bar by each chunk's length."""
    for chunk in chunks:
        advance(len(chunk))
        yield chunk
