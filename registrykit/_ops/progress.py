"""Progress bars for listings and layer reads: the only ``tqdm.auto`` import here.

``progress=None`` (auto) shows a bar only when the work is big enough to
notice: more than ``REQUEST_THRESHOLD`` requests, or more than
``BYTE_THRESHOLD`` bytes to stream. ``True`` always shows one, ``False``
never. The copy engine's byte bar (``transfer._Progress``) is separate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

__all__ = ["BYTE_THRESHOLD", "REQUEST_THRESHOLD", "Advance", "ProgressArg", "bar", "counted"]

ProgressArg = bool | None
Advance = Callable[[int], None]

# More requests than this (tags to resolve, repositories to audit) get a bar.
REQUEST_THRESHOLD = 16
# More bytes than this (layers to read for files/waste) get a bar.
BYTE_THRESHOLD = 64 * 1024 * 1024


def _wanted(progress: ProgressArg, total: int, threshold: int) -> bool:
    if progress is None:
        return total > threshold
    return progress


def bar(
    total: int,
    desc: str,
    *,
    unit: str = "req",
    progress: ProgressArg = None,
    threshold: int = REQUEST_THRESHOLD,
) -> Advance:
    """A function that advances a tqdm.auto bar by ``n``; a no-op when no bar is wanted.

    Safe to call from the client's worker threads; the bar closes itself
    when it reaches ``total``.
    """
    if not _wanted(progress, total, threshold):
        return lambda _n: None
    from tqdm.auto import tqdm  # on first bar: picking the notebook or terminal bar is slow

    in_bytes = unit == "B"  # bytes read as KiB/MiB, requests as plain counts
    shown = tqdm(
        total=total, desc=desc, unit=unit, unit_scale=in_bytes, unit_divisor=1024, leave=False
    )
    lock = threading.Lock()

    def advance(n: int) -> None:
        with lock:
            shown.update(n)
            if shown.n >= total:
                shown.close()

    return advance


def counted(chunks: Iterator[bytes], advance: Advance) -> Iterator[bytes]:
    """``chunks`` unchanged, advancing the bar by each chunk's length."""
    for chunk in chunks:
        advance(len(chunk))
        yield chunk
