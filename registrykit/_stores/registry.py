"""``RegistryStore``: one repository of a registry as a Store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

from .._model.errors import NotFound
from .._model.manifest import Descriptor
from .._registry.api import RegistryClient
from .base import BlobOpener, Closing, Store, tagged

__all__ = ["RegistryStore"]


class RegistryStore(Closing):
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

    def manifest_put(self, ref: str, raw: bytes, media_type: str, *, top: bool = False) -> str:
        return self.registry.put_manifest(self.repository, ref, raw, media_type)

    def blob_exists(self, digest: str) -> bool:
        return self.registry.blob_size(self.repository, digest) is not None

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        return self.registry.open_blob(self.repository, digest)

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        # The registry verifies the digest given in the final PUT and refuses a
        # mismatch, so nothing unverified becomes visible under that digest.
        self.registry.upload_blob(self.repository, digest, size, opener)

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        source = self._mount_source(digest, from_store)
        if source is None:
            return False
        return self.registry.mount_blob(self.repository, digest, source)

    def _mount_source(self, digest: str, other: Store) -> str | None:
        """Another repository of this registry that holds the blob: the source's, or one seen.

        Mounting works only within one registry; a blob uploaded or found
        earlier through this client is mounted from there (as docker does),
        so pushing one layout to two repositories moves its bytes once.
        """
        if isinstance(other, RegistryStore) and other.registry.base_url == self.registry.base_url:
            return other.repository if other.repository != self.repository else None
        home = self.registry.blob_homes.get(digest)
        return home if home is not None and home != self.repository else None

    def tags(self) -> list[str]:
        try:
            return self.registry.tags(self.repository)
        except NotFound:
            return []  # a repository nobody pushed to yet has no tags

    def entries(self) -> list[Descriptor]:
        """One HEAD per tag: the registry has no listing of tags with digests."""
        found = ((tag, self.manifest_head(tag)) for tag in self.tags())
        return [tagged(head, tag) for tag, head in found if head is not None]
