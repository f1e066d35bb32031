"""Audits split by repository, for engines that run the parts on other machines.

An audit's work is independent per repository except for one question:
whether a blob is shared, which only all repositories together can answer.
A partition therefore returns each repository's counts with its blob
digest -> size map (digests are not secret); ``audit.blob_counts`` folds
a partition's maps into one, the caller adds those up, and
``audit.audit_rows`` turns a partition into rows once the shared digests
are known (the same rules as the local engine, in ``audit.py``).

What travels to a worker is ``WorkerSettings``: names, paths and numbers,
never a credential. Each worker builds its own ``Client`` from them and
reads logins from its own login files (``auth_file``, else the default
docker/podman locations on that machine).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from .._client import Client
from .._model.errors import Unsupported
from .._model.reference import parse_repository
from .._registry.cache import default_cache_dir
from .._transport.adaptive import AUTO, Concurrency
from .._transport.settings import RegistrySettings
from .audit import RepositoryAudit, repository_audit
from .listing import tag_records

__all__ = [
    "WorkerSettings",
    "audit_partition",
    "audit_repository",
    "chunks",
]

T = TypeVar("T")


@dataclass(frozen=True)
class WorkerSettings:
    """A ``Client``'s settings that may travel in a task graph: no secret among them.

    Logins the driver's client holds in memory (``logins=``, ``add_login``)
    stay on the driver: a worker reads its own login files.
    """

    auth_file: str | None
    insecure: tuple[str, ...]
    ca_bundle: str | None
    cert_dir: str | None
    concurrency: Concurrency  # "auto" stays adaptive on each worker
    # None keeps the cache in memory; "" means the worker's own default directory.
    cache_dir: str | None
    timeout: httpx.Timeout
    settings: RegistrySettings

    @classmethod
    def of(cls, client: Client) -> WorkerSettings:
        """``client``'s settings; refuses what cannot leave this process."""
        if isinstance(client.ca_bundle, ssl.SSLContext):
            raise Unsupported(
                "an ssl.SSLContext cannot be sent to workers: pass ca_bundle as a PEM file path"
            )
        if client._transport is not None:
            raise Unsupported(
                "a Client with transport= cannot be sent to workers: use a Client without it"
            )
        cache = client.cache_dir
        return cls(
            auth_file=os.fspath(client.auth_file) if client.auth_file else None,
            insecure=client.insecure,
            ca_bundle=os.fspath(client.ca_bundle) if client.ca_bundle is not None else None,
            cert_dir=os.fspath(cert_dir) if (cert_dir := client.policy.cert_dir) else None,
            concurrency=AUTO if client._limit.adaptive else client._limit.cap,
            cache_dir="" if cache == default_cache_dir() else (os.fspath(cache) if cache else None),
            timeout=client.timeout,
            settings=client.settings,
        )

    def client(self) -> Client:
        """A new ``Client`` on this machine with these settings and its own logins."""
        # Leaving cache_dir out gives the worker its own default directory.
        kwargs: dict[str, Any] = {} if self.cache_dir == "" else {"cache_dir": self.cache_dir}
        return Client(
            self.auth_file,
            self.insecure,
            self.ca_bundle,
            self.concurrency,
            timeout=self.timeout,
            cert_dir=self.cert_dir,
            settings=self.settings,
            **kwargs,
        )


def audit_repository(name: str, *, client: Client) -> RepositoryAudit:
    """Audit one ``host/name`` repository (the rules of ``audit.repository_audit``)."""
    ref = parse_repository(name)
    records = tag_records(ref, include_attestations=True, progress=False, client=client)
    return repository_audit(f"{ref.registry}/{ref.repository}", records)


def audit_partition(names: Sequence[str], settings: WorkerSettings) -> list[RepositoryAudit]:
    """Audit ``names`` with a client built here (on the worker) from ``settings``."""
    with settings.client() as client:
        return client.map(lambda name: audit_repository(name, client=client), names)


def chunks(items: Sequence[T], parts: int) -> list[list[T]]:
    """``items`` in at most ``parts`` contiguous chunks of near-equal length; one chunk
    (empty) when there are no items."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [list(items[bounds[i] : bounds[i + 1]]) for i in range(parts)]
