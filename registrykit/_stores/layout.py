"""``LayoutStore``: an OCI image layout directory as a Store.

The layout is ``oci-layout``, ``index.json`` and ``blobs/<alg>/<hex>``, as
the OCI image spec describes and skopeo's ``oci:`` transport reads and
writes. Tagged entries of ``index.json`` carry the tag in the
``org.opencontainers.image.ref.name`` annotation. skopeo and podman open an
entry by tag only when its media type is OCI: :func:`as_oci` converts Docker
manifests on the way in, as skopeo does (a copy may keep the bytes instead).

Two rules keep the directory trustworthy after a crash or a bad download:

* a blob is written to a temp file inside ``blobs/<alg>/`` and renamed to
  its digest only after the bytes hash to it, so a corrupt or partial blob is
  never visible under a digest (and existence means verified);
* ``index.json`` is written to a temp file and renamed, so readers see the
  old or the new index, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .._model import mediatypes as mt
from .._model.digest import (
    CHUNK_SIZE,
    compute_digest,
    is_digest,
    sized_chunks,
    verified_chunks,
    verify_digest,
    write_verified,
)
from .._model.errors import DigestMismatch, NotFound, RegistryKitError
from .._model.manifest import Descriptor
from .archive import DOCKER_LAYER_TAR
from .base import (
    BlobOpener,
    Closing,
    Store,
    blob_path,
    entry_tag,
    find_entry,
    not_found,
    tagged,
)

__all__ = ["LayoutStore", "as_oci"]

_LAYOUT_VERSION = b'{"imageLayoutVersion":"1.0.0"}'
# Docker media types and their OCI equivalents, as skopeo converts them when
# it writes an oci: layout: skopeo and podman skip index entries of any other type.
_TO_OCI = {
    mt.DOCKER_MANIFEST: mt.OCI_MANIFEST,
    mt.DOCKER_MANIFEST_LIST: mt.OCI_INDEX,
    mt.DOCKER_CONFIG: mt.OCI_CONFIG,
    mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP,
    DOCKER_LAYER_TAR: mt.OCI_LAYER,
    mt.DOCKER_FOREIGN_LAYER: mt.OCI_LAYER_NONDIST_GZIP,
}


def as_oci(raw: bytes, media_type: str, converted: Mapping[str, Descriptor]) -> tuple[bytes, str]:
    """A Docker manifest or manifest list rewritten with OCI media types (others unchanged).

    Blob bytes stay as they are; only the manifest changes, and with it its
    digest. ``converted`` maps a child manifest's old digest to the descriptor
    of its converted bytes, so a manifest list points at the converted children.
    """
    if media_type not in (mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST):
        return raw, media_type
    doc = json.loads(raw)
    doc["mediaType"] = _TO_OCI[media_type]
    described = [doc.get("config"), *(doc.get("layers") or ()), *(doc.get("manifests") or ())]
    for item in described:
        if not isinstance(item, dict):
            continue
        child = converted.get(item.get("digest", ""))
        if child is not None:
            item.update(mediaType=child.media_type, digest=child.digest, size=child.size)
        elif item.get("mediaType") in _TO_OCI:
            item["mediaType"] = _TO_OCI[item["mediaType"]]
    return json.dumps(doc, separators=(",", ":")).encode(), _TO_OCI[media_type]


class LayoutStore(Closing):
    """An OCI image layout directory. ``create=True`` makes one when missing."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        if create:
            _refuse_foreign_target(self.path)
            self.path.mkdir(parents=True, exist_ok=True)
            if not (self.path / "oci-layout").exists():
                _atomic_write(self.path / "oci-layout", _LAYOUT_VERSION)
            if not (self.path / "index.json").exists():
                self._write_index([])
        elif not (self.path / "index.json").is_file():
            raise NotFound(
                f"{self.path} is not an OCI image layout (no index.json). Pull into it first "
                "(rk.pull(image, path)) or point at the directory that holds index.json."
            )

    def __repr__(self) -> str:
        return f"LayoutStore({str(self.path)!r})"

    def describe(self, ref: str | None = None) -> str:
        return f"oci:{self.path}" + (f":{ref}" if ref else "")

    # -- index.json ------------------------------------------------------------

    def entries(self) -> list[Descriptor]:
        index = self.path / "index.json"
        manifests = _index_manifests(index)
        try:
            return [Descriptor.from_json(m) for m in manifests]
        except RegistryKitError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RegistryKitError(
                f"{index} lists a manifest that is not a valid descriptor ({exc}); "
                "the layout is damaged"
            ) from None

    def _write_index(self, entries: Sequence[Descriptor]) -> None:
        doc = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [e.to_json() for e in entries],
        }
        _atomic_write(self.path / "index.json", json.dumps(doc, separators=(",", ":")).encode())

    def tags(self) -> list[str]:
        return [t for t in (entry_tag(e) for e in self.entries()) if t]

    # -- manifests ---------------------------------------------------------------

    def manifest_head(self, ref: str) -> Descriptor | None:
        entry = find_entry(self.entries(), ref)
        if entry is not None:
            return entry
        if is_digest(ref) and self.blob_exists(ref):
            raw = self._blob_path(ref).read_bytes()
            return Descriptor(mt.sniff_media_type(raw), ref, len(raw))
        return None

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        entry = self.manifest_head(ref)
        if entry is None:
            raise not_found(self, ref)
        try:
            raw = self._blob_path(entry.digest).read_bytes()
        except FileNotFoundError:
            raise NotFound(
                f"the layout {self.path} lists {entry.digest} but its blob is missing; "
                "the layout is incomplete, pull it again"
            ) from None
        verify_digest(raw, entry.digest, f"manifest {entry.digest} in {self.path}")
        return raw, entry.media_type or mt.sniff_media_type(raw), entry.digest

    def manifest_put(
        self,
        ref: str,
        raw: bytes,
        media_type: str,
        *,
        top: bool = False,
    ) -> str:
        digest = compute_digest(raw)
        if is_digest(ref) and ref != digest:
            raise DigestMismatch(f"manifest bytes hash to {digest}, not {ref}")
        self._put_bytes(digest, raw)
        if top or not is_digest(ref):
            # Pulled by digest: listed unnamed, so a push can find it.
            tag = None if is_digest(ref) else ref
            self.add_entry(Descriptor(media_type, digest, len(raw)), tag)
        return digest

    def add_entry(self, descriptor: Descriptor, tag: str | None) -> None:
        """Name ``descriptor`` in index.json (replacing the entry of the same tag)."""
        entry = tagged(descriptor, tag)
        with self._lock:
            kept = [
                e
                for e in self.entries()
                if not (
                    (tag and e.annotations.get(mt.REF_NAME) == tag)
                    or (not tag and not e.annotations.get(mt.REF_NAME) and e.digest == entry.digest)
                )
            ]
            self._write_index([*kept, entry])

    # -- blobs -------------------------------------------------------------------

    def _blob_path(self, digest: str) -> Path:
        return self.path / blob_path(digest, f"the layout {self.path}")

    def blob_exists(self, digest: str) -> bool:
        # Only verified blobs are ever renamed into place, so existence is enough.
        return self._blob_path(digest).is_file()

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        return self._open(digest)

    @contextmanager
    def _open(self, digest: str) -> Iterator[Iterator[bytes]]:
        path = self._blob_path(digest)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is not in the layout {self.path}") from None
        with handle:
            yield verified_chunks(
                iter(lambda: handle.read(CHUNK_SIZE), b""),
                digest,
                f"blob {digest[:19]}… in {self.path}",
                "The file is damaged; pull the image into the layout again.",
            )

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        target = self._blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".partial")
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; blobs are content, not secrets
            what = f"blob {digest[:19]}… for {self.path}"
            with os.fdopen(fd, "wb") as out, opener() as chunks:
                write_verified(sized_chunks(chunks, size, what), out.write, digest, size, what)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _put_bytes(self, digest: str, data: bytes) -> None:
        if self.blob_exists(digest):
            return
        self.blob_put(digest, len(data), lambda: contextlib.nullcontext([data]))

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        return False  # a directory has no cross-repository mount


def _index_manifests(index: Path) -> list[Any]:
    """The ``manifests`` list of a layout's index.json, checked to be one."""
    try:
        doc = json.loads(index.read_bytes())
    except (OSError, ValueError) as exc:
        raise RegistryKitError(f"cannot read {index}: {exc}") from None
    if not isinstance(doc, dict):
        raise RegistryKitError(
            f"{index} holds a JSON {type(doc).__name__}, not an object: not an OCI image layout"
        )
    manifests = doc.get("manifests", [])
    if not isinstance(manifests, list) or "manifests" not in doc:
        raise RegistryKitError(f"{index} has no manifests list: not an OCI image layout")
    return manifests


def _refuse_foreign_target(path: Path) -> None:
    """Refuse to write a layout into anything but an empty directory or an OCI layout.

    A pull never overwrites a file it did not write (an unrelated index.json).
    """
    if path.exists() and not path.is_dir():
        raise RegistryKitError(
            f"{path} exists and is not a directory; an OCI image layout is a directory"
        )
    if not path.is_dir() or not any(path.iterdir()):
        return
    remedy = "pull into an empty or new directory, or into an existing OCI image layout"
    index = path / "index.json"
    if not index.is_file():
        raise RegistryKitError(
            f"{path} is not empty and not an OCI image layout (no index.json); {remedy}"
        )
    try:
        _index_manifests(index)
    except RegistryKitError as exc:
        raise RegistryKitError(f"{exc}; {remedy}") from None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
