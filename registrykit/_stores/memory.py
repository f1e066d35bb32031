"""``MemoryStore``: images held as bytes in memory (built in Python, for samples and tests).

Small by nature: what it holds is what ``registrykit.lab`` builds. A copy
from it into a registry, a layout or an archive runs through the same
transfer as any other copy, so built images reach disk or a registry exactly
as pulled images do.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager

from .._model import mediatypes as mt
from .._model.digest import compute_digest, is_digest, verify_digest, write_verified
from .._model.errors import DigestMismatch, NotFound
from .._model.manifest import Descriptor
from .base import BlobOpener, Closing, Store, entry_tag, find_entry, not_found, tagged

__all__ = ["MemoryStore"]


class MemoryStore(Closing):
    """Blobs and manifests by digest, and named entries, all in memory."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self._blobs: dict[str, bytes] = {}
        self._manifests: dict[str, str] = {}  # digest -> media type (bytes in _blobs)
        self._entries: list[Descriptor] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore({self.name!r}, {len(self._entries)} entries)"

    def describe(self, ref: str | None = None) -> str:
        return f"{self.name}:{ref}" if ref else self.name

    def add_blob(self, data: bytes) -> str:
        """Hold ``data``; returns its digest."""
        digest = compute_digest(data)
        with self._lock:
            self._blobs.setdefault(digest, data)
        return digest

    # -- manifests -------------------------------------------------------------

    def manifest_head(self, ref: str) -> Descriptor | None:
        entry = find_entry(self._entries, ref)
        if entry is not None:
            return entry
        if is_digest(ref) and ref in self._manifests:
            return Descriptor(self._manifests[ref], ref, len(self._blobs[ref]))
        return None

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        found = self.manifest_head(ref)
        if found is None:
            raise not_found(self, ref)
        raw = self._blobs[found.digest]
        verify_digest(raw, found.digest, f"manifest {found.digest} in {self.name}")
        return raw, found.media_type, found.digest

    def manifest_put(self, ref: str, raw: bytes, media_type: str, *, top: bool = False) -> str:
        digest = self.add_blob(raw)
        if is_digest(ref) and ref != digest:
            raise DigestMismatch(f"manifest bytes hash to {digest}, not {ref}")
        with self._lock:
            self._manifests[digest] = media_type
            if top or not is_digest(ref):
                tag = None if is_digest(ref) else ref
                entry = tagged(Descriptor(media_type, digest, len(raw)), tag)
                self._entries = [
                    e
                    for e in self._entries
                    if e.annotations.get(mt.REF_NAME, e.digest) != (tag or digest)
                ]
                self._entries.append(entry)
        return digest

    def tags(self) -> list[str]:
        return [t for t in (entry_tag(e) for e in self._entries) if t]

    def entries(self) -> list[Descriptor]:
        return list(self._entries)

    # -- blobs -----------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        return digest in self._blobs

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        data = self._blobs.get(digest)
        if data is None:
            raise NotFound(f"blob {digest} is not in {self.name}")
        # Held bytes were hashed on the way in: the digest is their name.
        return contextlib.nullcontext(iter([data]))

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        if digest in self._blobs:
            return
        buffer = io.BytesIO()
        with opener() as chunks:
            write_verified(chunks, buffer.write, digest, size, f"blob {digest[:19]}…")
        with self._lock:
            self._blobs[digest] = buffer.getvalue()

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        return False
