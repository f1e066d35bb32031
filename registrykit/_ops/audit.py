"""The storage audit: per-repository counts and sizes, with shared blobs counted once.

The rules live here once: the local engine (``audit_records``) and the
Dask engine (``partition.py`` on workers, combined by
``frames/distributed.py``) both summarise each repository with
``repository_audit`` and turn the summaries into rows with ``audit_rows``.
"""

from __future__ import annotations

import itertools
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

from .._client import Client, get_client
from .._model.reference import parse_repository
from .listing import ImageRecord, tag_records
from .progress import ProgressArg, progress_bar

__all__ = [
    "AuditResult",
    "RepositoryAudit",
    "audit_records",
    "audit_rows",
    "blob_counts",
    "blob_sizes",
    "repository_audit",
]


@dataclass(frozen=True)
class AuditResult:
    """Per-repository rows and the registry-wide figure.

    ``total_stored_size`` counts every config and layer blob once across all
    audited repositories: what the registry's storage actually holds for
    them (registries deduplicate blobs globally).
    """

    rows: list[dict[str, Any]]
    total_stored_size: int
    total_logical_size: int


@dataclass(frozen=True)
class RepositoryAudit:
    """One repository's audit before sharing is known: counts and its blobs by digest."""

    repository: str
    tags: int
    images: int
    logical_size: int
    blobs: dict[str, int]


def repository_audit(repository: str, records: list[ImageRecord]) -> RepositoryAudit:
    """The summary of one repository (``host/name``) from its tag records."""
    images = {r.image_digest for r in records if not r.attestation and r.platform is not None}
    return RepositoryAudit(
        repository=repository,
        tags=len({r.tag for r in records}),
        images=len(images),
        logical_size=sum(r.size for r in records if not r.attestation),
        blobs=blob_sizes(records),
    )


def blob_counts(audits: Iterable[RepositoryAudit]) -> dict[str, tuple[int, int]]:
    """Each blob's ``(size, repositories holding it)`` over ``audits``; add these across parts."""
    counts: dict[str, tuple[int, int]] = {}
    for audit in audits:
        for digest, size in audit.blobs.items():
            counts[digest] = (size, counts.get(digest, (0, 0))[1] + 1)
    return counts


def audit_rows(audits: Iterable[RepositoryAudit], shared: Container[str]) -> list[dict[str, Any]]:
    """The audit's rows; ``shared`` holds the digests more than one audited repository
    references."""
    return [
        {
            "repository": a.repository,
            "tags": a.tags,
            "images": a.images,
            "logical_size": a.logical_size,
            "stored_size": sum(a.blobs.values()),
            "shared_size": sum(s for d, s in a.blobs.items() if d in shared),
            "unique_size": sum(s for d, s in a.blobs.items() if d not in shared),
        }
        for a in audits
    ]


def audit_records(
    repositories: Iterable[str],
    *,
    client: Client | None = None,
    progress: ProgressArg = None,
) -> AuditResult:
    """Audit ``repositories`` (``host/name`` each; ``listing.audit_targets`` expands a host).

    ``images`` counts distinct image manifests (one per platform; tags that
    share a digest count once; attestations and artifacts are not images);
    ``logical_size`` sums the image size of every tag, as listings claim it;
    ``stored_size`` counts each config and layer blob reachable from the repository's tags once,
    attestation blobs included since they occupy storage; ``shared_size`` is
    the part of ``stored_size`` whose blobs another audited repository also
    references; ``unique_size`` is the rest, the bytes only this repository's
    blobs hold: what deleting it would free (if no repository left out of
    the audit shares them). Untagged manifests cannot be listed over the
    API, so their blobs are not counted. With at least as many repositories as the
    client's concurrency, repositories fan out on the client's pool (each one's tags
    then resolve in its worker); with fewer, each repository's tags fan out instead.
    """
    c = get_client(client)
    names = list(repositories)
    wide = len(names) >= c.concurrency
    audits = _audit_repositories(c, names, wide, progress)
    counts = blob_counts(audits)
    shared = {digest for digest, (_, holders) in counts.items() if holders > 1}
    return AuditResult(
        audit_rows(audits, shared),
        sum(size for size, _ in counts.values()),
        sum(a.logical_size for a in audits),
    )


def _audit_repositories(
    c: Client, names: list[str], wide: bool, progress: ProgressArg
) -> list[RepositoryAudit]:
    """Each repository's summary, under one bar counting tags.

    The bar's total grows as each repository's tag list arrives; an auto bar
    (``progress=None``) appears only when the audit lasts more than a moment.
    """
    shown = progress_bar(
        0,
        f"auditing {len(names)} repositories",
        unit="tag",
        progress=progress,
        threshold=-1,
        grows=True,
    )
    finished = itertools.count(1)

    def one(name: str) -> RepositoryAudit:
        ref = parse_repository(name)
        records = tag_records(ref, include_attestations=True, progress=shown, client=c)
        shown.note(f"{next(finished)}/{len(names)} repositories")
        return repository_audit(f"{ref.registry}/{ref.repository}", records)

    try:
        return c.map(one, names) if wide else [one(name) for name in names]
    finally:
        shown.close()


def blob_sizes(records: Iterable[ImageRecord]) -> dict[str, int]:
    """Size of each config and layer blob the records reference, by digest."""
    blobs: dict[str, int] = {}
    for r in records:
        for d in r.layers:
            blobs[d.digest] = d.size
        if r.config_digest:
            blobs[r.config_digest] = _config_size(r)
    return blobs


def _config_size(record: ImageRecord) -> int:
    # ImageRecord.size is config + layers, so the config's size is the rest.
    return record.size - sum(d.size for d in record.layers)
