"""Uncompressed docker-archive layers, gzip-compressed on their way to a registry.

``docker save`` (before Docker 25) and ``podman save`` write layers as plain
tars; docker, podman and skopeo gzip them when they push, and so does this:
the manifest gets the gzip media types and the compressed digests and sizes,
while the config, and with it the diff_ids (the uncompressed digests), stays.

Each layer is compressed once, into a temporary file, before anything is
uploaded. The manifest and the transfer plan need the compressed digest and
size first (a blob the registry already has is skipped by that digest), and
a file keeps memory flat where holding a compressed layer would not;
compressing twice (once to hash, once to send) would double the CPU time.
The output is deterministic (mtime 0, a fixed level), so pushing the same
archive again finds its layers already in the registry.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from .._model import digest as dg
from .._model import mediatypes as mt
from .._model.errors import Unsupported
from .._model.manifest import Descriptor, json_object
from .archive import DOCKER_LAYER_TAR, ArchiveReader
from .base import BlobOpener, Closing, Store

__all__ = ["GzipLayers", "gzip_layers"]

# The gzip media type each uncompressed layer type gets.
_GZIP_OF = {DOCKER_LAYER_TAR: mt.DOCKER_LAYER_GZIP, mt.OCI_LAYER: mt.OCI_LAYER_GZIP}
# Go's gzip.DefaultCompression, which docker and podman push with.
_LEVEL = 6


def gzip_layers(store: Store, enabled: bool = True) -> AbstractContextManager[Store]:
    """``store`` with a docker-archive's plain-tar layers served gzipped; others as they are."""
    if enabled and isinstance(store, ArchiveReader):
        return GzipLayers(store)
    return contextlib.nullcontext(store)


class _HashingFile:
    """A write-only file that hashes what passes through (GzipFile's ``fileobj``)."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.hasher = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


class GzipLayers(Closing):
    """An open docker-archive whose uncompressed layers are read as gzip blobs.

    Closing it removes the temporary files; the archive itself stays open
    (its opener closes it).
    """

    def __init__(self, inner: ArchiveReader) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._layers: dict[str, Descriptor] = {}  # plain digest -> gzip descriptor
        self._files: dict[str, Path] = {}  # gzip digest -> temporary file

    def __repr__(self) -> str:
        return f"GzipLayers({self.inner!r})"

    def describe(self, ref: str | None = None) -> str:
        return self.inner.describe(ref)

    def entries(self) -> list[Descriptor]:
        return self.inner.entries()

    def tags(self) -> list[str]:
        return self.inner.tags()

    def manifest_head(self, ref: str) -> Descriptor | None:
        return self.inner.manifest_head(ref)

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        """The archive's manifest, with every plain-tar layer replaced by its gzip blob."""
        raw, media_type, digest = self.inner.manifest_get(ref)
        if mt.is_index(media_type):
            return raw, media_type, digest
        doc = json_object(raw, f"manifest {digest} in {self.describe()}")
        layers = doc.get("layers")
        if not isinstance(layers, list) or not any(
            isinstance(layer, dict) and layer.get("mediaType") in _GZIP_OF for layer in layers
        ):
            return raw, media_type, digest
        doc["layers"] = [self._gzip_entry(layer) for layer in layers]
        out = json.dumps(doc, separators=(",", ":")).encode()
        return out, media_type, dg.compute_digest(out)

    def _gzip_entry(self, layer: Any) -> Any:
        if not isinstance(layer, dict) or layer.get("mediaType") not in _GZIP_OF:
            return layer
        done = self._compress(Descriptor.from_json(layer, "layer"))
        return {**layer, "mediaType": done.media_type, "digest": done.digest, "size": done.size}

    def _compress(self, plain: Descriptor) -> Descriptor:
        with self._lock:
            done = self._layers.get(plain.digest)
            if done is not None:
                return done
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="registrykit-gzip-"))
            partial = self._dir / f"{len(self._layers)}.partial"
            what = f"layer {plain.digest[:19]}… of {self.describe()}"
            with partial.open("wb") as handle:
                hashing = _HashingFile(handle)
                # filename="" and mtime=0: the same layer always gives the same bytes.
                with (
                    gzip.GzipFile("", "wb", _LEVEL, hashing, mtime=0) as packed,
                    self.inner.blob_open(plain.digest) as chunks,
                ):
                    for chunk in dg.sized_chunks(chunks, plain.size, what):
                        packed.write(chunk)
            digest = f"sha256:{hashing.hasher.hexdigest()}"
            path = partial.with_suffix(".tar.gz")
            partial.rename(path)
            done = Descriptor(_GZIP_OF[plain.media_type], digest, path.stat().st_size)
            self._layers[plain.digest] = done
            self._files[digest] = path
            return done

    def blob_exists(self, digest: str) -> bool:
        return digest in self._files or self.inner.blob_exists(digest)

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        path = self._files.get(digest)
        return self.inner.blob_open(digest) if path is None else _read_file(path, digest)

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        raise Unsupported(f"{self.describe()} is opened for reading")

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        return False

    def manifest_put(self, ref: str, raw: bytes, media_type: str, *, top: bool = False) -> str:
        raise Unsupported(f"{self.describe()} is opened for reading")

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


@contextmanager
def _read_file(path: Path, digest: str) -> Iterator[Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(dg.CHUNK_SIZE):
                yield chunk

    yield dg.verified_chunks(chunks(), digest, f"compressed layer {digest[:19]}…")
