"""A content-addressed cache for immutable documents (manifests, configs).

Content named by its digest never changes, so it can be kept forever: a
second look at a registry then costs only tag lists and HEAD requests.
Entries are checked against their digest when read back, so a damaged file
is a miss, never wrong data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from .._model.manifest import compute_digest
from .._model.reference import digest_problem

log = logging.getLogger(__name__)

# Memory holds at most this many entries and bytes: a listing of ten
# thousand tags with real (many-KiB) configs must not keep them all.
_MEMORY_ITEMS = 4096
_MEMORY_BYTES = 16 * 1024 * 1024
_MAX_ENTRY = 4 * 1024 * 1024


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("registrykit")) / "content"


class ContentCache:
    """Memory in front of an optional directory; ``directory=None`` keeps memory only."""

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_bytes = 0
        self._made_dirs: set[Path] = set()  # one mkdir per fan-out directory, not per entry
        self._markers: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ContentCache(directory={str(self.directory) if self.directory else None!r})"

    def _path(self, digest: str) -> Path | None:
        # Only a canonical digest becomes a file name (no separators, no dots).
        if self.directory is None or digest_problem(digest) is not None:
            return None
        algorithm, hexpart = digest.split(":", 1)
        return self.directory / algorithm / hexpart[:2] / hexpart

    def get(self, digest: str) -> bytes | None:
        with self._lock:
            data = self._memory.get(digest)
            if data is not None:
                self._memory.move_to_end(digest)
                return data
        path = self._path(digest)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if compute_digest(data, digest.split(":", 1)[0]) != digest:
            log.debug("cache entry %s is damaged; ignoring it", digest)
            return None
        self._remember(digest, data)
        return data

    def put(self, digest: str, data: bytes) -> None:
        """Store ``data``, whose digest the caller has verified."""
        if len(data) > _MAX_ENTRY:
            return
        self._remember(digest, data)
        path = self._path(digest)
        if path is None or path.exists():
            return
        try:
            self._make_dir(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            # A cache that cannot be written is only slower; never fail the caller.
            # The directory may have been removed under us: make it again next time.
            self._made_dirs.discard(path.parent)
            log.debug("cannot write cache entry %s: %s", digest, exc)

    def has_marker(self, name: str) -> bool:
        """Whether ``set_marker(name)`` was called before (by any process using this dir)."""
        with self._lock:
            if name in self._markers:
                return True
        path = self._marker_path(name)
        return path is not None and path.exists()

    def set_marker(self, name: str) -> None:
        """Remember a fact about the cache's contents, such as "this repository was listed"."""
        with self._lock:
            self._markers.add(name)
        path = self._marker_path(name)
        if path is None:
            return
        try:
            self._make_dir(path.parent)
            path.touch()
        except OSError as exc:
            self._made_dirs.discard(path.parent)
            log.debug("cannot write cache marker %s: %s", name, exc)

    def _marker_path(self, name: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / "markers" / hashlib.sha256(name.encode()).hexdigest()

    def _make_dir(self, directory: Path) -> None:
        if directory not in self._made_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(directory)

    def _remember(self, digest: str, data: bytes) -> None:
        with self._lock:
            old = self._memory.pop(digest, None)
            if old is not None:
                self._memory_bytes -= len(old)
            self._memory[digest] = data
            self._memory_bytes += len(data)
            while len(self._memory) > _MEMORY_ITEMS or self._memory_bytes > _MEMORY_BYTES:
                _, dropped = self._memory.popitem(last=False)
                self._memory_bytes -= len(dropped)
