"""Digests of content, and the one way bytes are checked against them while they stream.

Every store and the registry client hand out blobs as chunk iterators that
raise ``DigestMismatch`` after a bad last chunk (``verified_chunks``), and
write blobs through ``write_verified``, which counts and hashes what it
writes and refuses a mismatch before anything becomes visible.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator

from .errors import DigestMismatch

__all__ = [
    "CHUNK_SIZE",
    "ChunkReader",
    "compute_digest",
    "is_digest",
    "sized_chunks",
    "verified_chunks",
    "verify_digest",
    "write_verified",
]

# One read or upload piece: large enough for few calls, small enough for flat memory.
CHUNK_SIZE = 1024 * 1024


def is_digest(ref: str) -> bool:
    """A digest (``alg:hex``) rather than a tag: tags cannot hold a colon."""
    return ":" in ref and not ref.startswith(":")


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_digest(data: bytes, digest: str, what: str = "content") -> None:
    algorithm = digest.split(":", 1)[0]
    actual = compute_digest(data, algorithm)
    if actual != digest:
        raise DigestMismatch(
            f"{what} does not match its digest: expected {digest}, got {actual}. "
            "The registry or something between you and it altered the bytes; retry, "
            "and if it persists report it to the registry operator."
        )


def verified_chunks(
    chunks: Iterable[bytes], digest: str, what: str, remedy: str = "Retry."
) -> Iterator[bytes]:
    """``chunks`` passed through; raises DigestMismatch after the last one when they differ."""
    algorithm = digest.split(":", 1)[0]
    hasher = hashlib.new(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk
    actual = f"{algorithm}:{hasher.hexdigest()}"
    if actual != digest:
        raise DigestMismatch(
            f"{what} does not match its digest (got {actual}); the data was discarded. {remedy}"
        )


def sized_chunks(chunks: Iterable[bytes], size: int, what: str) -> Iterator[bytes]:
    """``chunks`` cut off at ``size`` bytes: more raises DigestMismatch, never passes through.

    A source that sends more than the descriptor declares would otherwise
    write without end; the declared size is the bound.
    """
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > size:
            raise DigestMismatch(
                f"{what} is longer than its declared {size} bytes; it was cut off there "
                "and discarded. The source is damaged or hostile."
            )
        yield chunk


def write_verified(
    chunks: Iterable[bytes],
    write: Callable[[bytes], object],
    digest: str,
    size: int,
    what: str,
) -> None:
    """Write ``chunks``, then raise DigestMismatch unless they were ``size`` bytes of ``digest``.

    The caller writes somewhere invisible (a temp file, a tar member it can cut
    back out, a buffer) and publishes only after this returns.
    """
    algorithm = digest.split(":", 1)[0]
    hasher = hashlib.new(algorithm)
    written = 0
    for chunk in chunks:
        hasher.update(chunk)
        written += len(chunk)
        write(chunk)
    actual = f"{algorithm}:{hasher.hexdigest()}"
    if actual != digest or written != size:
        raise DigestMismatch(
            f"{what} arrived as {written} bytes hashing to {actual} (expected {size} bytes "
            f"of {digest}); it was not written. Retry; if it persists the source's storage "
            "may be damaged."
        )


class ChunkReader(io.RawIOBase):
    """A read-only, unseekable file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = memoryview(chunk)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n
