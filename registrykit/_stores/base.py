"""The Store protocol: where images live, seen as manifests and blobs.

A copy, a pull and a push are one algorithm (``_ops.transfer``) over two
stores, as regclient's ``scheme`` and go-containerregistry's
``remote``/``layout`` packages do. The backends: ``registry`` (one
repository of a registry), ``layout`` (OCI image layout directory),
``archive`` (docker-archive tarball) and ``memory`` (images built in Python).

Every store verifies what it hands out: ``manifest_get`` checks the manifest
bytes against their digest and ``blob_open`` yields chunks whose digest is
checked after the last one, raising ``DigestMismatch`` before the consumer can
treat the data as complete. Stores are context managers: leaving the block
finishes what was written (``close``), or drops it after an error (``abort``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol, Self, runtime_checkable

from .._model import mediatypes as mt
from .._model.errors import NotFound, RegistryKitError
from .._model.manifest import Descriptor

__all__ = [
    "BlobOpener",
    "Closing",
    "Store",
    "blob_path",
    "entry_tag",
    "find_entry",
    "not_found",
    "tagged",
]

# The digests a blob may be stored under: the OCI-registered algorithms, in
# lowercase hex of their length; nothing else becomes a file or member name.
_STORABLE_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")

# What blob_put reads from: a callable that opens a fresh stream of chunks, so
# an upload that must restart (chunked fallback) can read the source again.
BlobOpener = Callable[[], AbstractContextManager[Iterable[bytes]]]


@runtime_checkable
class Store(Protocol):
    """Manifests by tag or digest, and blobs by digest."""

    def describe(self, ref: str | None = None) -> str:
        """A human name for the store (and a tag or digest in it)."""
        ...

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        """Raw bytes, media type and verified digest of a tag or digest."""
        ...

    def manifest_head(self, ref: str) -> Descriptor | None:
        """The manifest's descriptor, or None when the tag or digest is absent."""
        ...

    def manifest_put(self, ref: str, raw: bytes, media_type: str, *, top: bool = False) -> str:
        """Store manifest bytes under a tag or digest; returns the digest.

        ``top=True`` marks the image itself (not one platform of an index):
        a store that lists its images (a layout's index.json) lists it, even
        when ``ref`` is a digest.
        """
        ...

    def blob_exists(self, digest: str) -> bool: ...

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        """Chunks of a blob; the iterator raises DigestMismatch after a bad last chunk."""
        ...

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        """Store a blob, streaming from ``opener``; verified before it becomes visible."""
        ...

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        """Make a blob of ``from_store`` available without moving bytes, if possible."""
        ...

    def tags(self) -> list[str]: ...

    def entries(self) -> list[Descriptor]:
        """The images the store names; a tag, if any, is the ``REF_NAME`` annotation."""
        ...

    def close(self) -> None:
        """Finish what was written and release files or handles."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


class Closing:
    """``with store:`` closes it, or aborts it when the block raised."""

    def close(self) -> None:
        """Nothing to finish or release."""

    def abort(self) -> None:
        """Drop what an unfinished write left; by default the same as ``close``."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # exc_info is (type, value, traceback): all None when the block ended normally.
        if exc_info[0] is None:
            self.close()
        else:
            self.abort()


def blob_path(digest: object, where: str) -> str:
    """``blobs/<alg>/<hex>`` for ``digest``, after checking it is a digest that may name a file.

    Digests come from manifests another party wrote: one that is not sha256 or
    sha512 lowercase hex (``../x``, ``md5:…``) never becomes a path.
    """
    if not isinstance(digest, str) or not _STORABLE_DIGEST.fullmatch(digest):
        shown = repr(digest)[:80]
        raise RegistryKitError(
            f"{where}: {shown} is not a sha256 or sha512 digest, so it cannot name a blob"
        )
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def not_found(store: Store, ref: str) -> NotFound:
    """The error for a tag or digest ``store`` lacks, listing the tags it has."""
    have = ", ".join(store.tags()) or "no tagged images"
    return NotFound(f"{ref!r} is not in {store.describe()} (it has: {have})")


def find_entry(entries: Iterable[Descriptor], ref: str) -> Descriptor | None:
    """The entry a tag or digest names.

    skopeo names entries by the bare tag (``1.0``); containerd and buildkit
    by the full reference (``docker.io/library/nginx:1.0``): both match a tag.
    """
    entries = list(entries)
    if ":" in ref and not ref.startswith(":"):
        return next((e for e in entries if e.digest == ref), None)
    for entry in entries:
        if entry.annotations.get(mt.REF_NAME) == ref:
            return entry
    for entry in entries:
        name = entry.annotations.get(mt.REF_NAME, "")
        if name.endswith(f":{ref}") and "/" in name:
            return entry
    return None


def entry_tag(entry: Descriptor) -> str | None:
    """The tag an entry names (the part after the last ':' of a full name)."""
    name = entry.annotations.get(mt.REF_NAME)
    if not name:
        return None
    if "/" in name and ":" in name.rsplit("/", 1)[1]:
        return name.rsplit(":", 1)[1]
    return name


def tagged(descriptor: Descriptor, tag: str | None) -> Descriptor:
    """``descriptor`` named by ``tag`` (the ``REF_NAME`` annotation), other annotations kept."""
    annotations = dict(descriptor.annotations)
    if tag:
        annotations[mt.REF_NAME] = tag
    return Descriptor(
        descriptor.media_type,
        descriptor.digest,
        descriptor.size,
        platform=descriptor.platform,
        annotations=annotations,
    )
