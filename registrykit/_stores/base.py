"""The Store protocol: where images live, seen as manifests and blobs.

A copy, a pull and a push are one algorithm (``_transfer``) over two stores,
as regclient's ``scheme`` and go-containerregistry's ``remote``/``layout``
packages do. This module defines the protocol and the registry backend;
``_layout`` (OCI image layout directory) and ``_archive`` (docker-archive
tarball) hold the disk backends.

Every store verifies what it hands out: ``manifest_get`` checks the manifest
bytes against their digest and ``blob_open`` yields chunks whose digest is
checked after the last one, raising ``DigestMismatch`` before the consumer can
treat the data as complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from .._model.errors import NotFound
from .._model.manifest import Descriptor
from .._registry.api import RegistryClient

__all__ = ["BlobOpener", "RegistryStore", "Store"]

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

    def manifest_put(self, ref: str, raw: bytes, media_type: str) -> str:
        """Store manifest bytes under a tag or digest; returns the digest."""
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


class RegistryStore:
    """One repository of a registry, through its ``RegistryClient``."""

    def __init__(self, registry: RegistryClient, repository: str) -> None:
        self.registry = registry
        self.repository = repository

    def __repr__(self) -> str:
        return f"RegistryStore({self.registry.host}/{self.repository})"

    @property
    def host(self) -> str:
        return self.registry.host

    def describe(self, ref: str | None = None) -> str:
        name = f"{self.registry.host}/{self.repository}"
        if ref is None:
            return name
        return f"{name}{'@' if ':' in ref else ':'}{ref}"

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        return self.registry.manifest_bytes(self.repository, ref)

    def manifest_head(self, ref: str) -> Descriptor | None:
        return self.registry.head_manifest(self.repository, ref)

    def manifest_put(self, ref: str, raw: bytes, media_type: str) -> str:
        return self.registry.put_manifest(self.repository, ref, raw, media_type)

    def manifest_delete(self, digest: str) -> None:
        self.registry.delete_manifest(self.repository, digest)

    def blob_exists(self, digest: str) -> bool:
        return self.registry.blob_size(self.repository, digest) is not None

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        return self.registry.open_blob(self.repository, digest)

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        # The registry verifies the digest given in the final PUT and refuses a
        # mismatch, so nothing unverified becomes visible under that digest.
        self.registry.upload_blob(self.repository, digest, size, opener)

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        if not self.can_mount_from(from_store):
            return False
        assert isinstance(from_store, RegistryStore)
        return self.registry.mount_blob(self.repository, digest, from_store.repository)

    def can_mount_from(self, other: Store) -> bool:
        """Mounting works only between repositories of the same registry."""
        return (
            isinstance(other, RegistryStore)
            and other.registry.base_url == self.registry.base_url
            and other.repository != self.repository
        )

    def tags(self) -> list[str]:
        try:
            return self.registry.tags(self.repository)
        except NotFound:
            return []  # a repository nobody pushed to yet has no tags
