"""Registries as DataFrames: catalogs, tags, histories, layers, audits, files.

Each function gathers records with the core (``_images``, ``_analysis``,
``_filesystem``, ``_inspect``) and types them with one schema per frame, so
an empty result has the same columns and dtypes as a full one. Sizes are
int64 bytes, times ``datetime64[ns, UTC]`` (NaT when unknown), and columns
with few values are categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

from .._client import Client, get_client
from .._model.manifest import Platform
from .._model.reference import Reference
from .._ops import analysis
from .._ops.filesystem import image_files, summarize_waste
from .._ops.listing import (
    ImageRecord,
    audit_targets,
    catalog_records,
    resolve_image,
    tag_records,
)
from .._ops.login import credential_records
from .._ops.vendors import search_records
from ._dtypes import Kind, typed_frame

PlatformArg = str | Platform | None

CATALOG: dict[str, Kind] = {"registry": "category", "repository": "str"}
SEARCH: dict[str, Kind] = {
    "registry": "category",
    "name": "str",
    "description": "str",
    "stars": "Int64",
    "official": "bool",
    "automated": "bool",
}
TAGS: dict[str, Kind] = {
    "repository": "category",
    "tag": "str",
    "digest": "str",
    "media_type": "category",
    "platform": "category",
    "image_digest": "str",
    "created": "time",
    "size": "int",
    "layers": "int",
    "tag_kind": analysis.TAG_KINDS,
    "artifact_type": "category",
    "attestation": "bool",
}
TAG_HISTORY: dict[str, Kind] = {
    "tag": "str",
    "created": "time",
    "digest": "str",
    "size": "int",
    "size_change": "Int64",
    "layers": "int",
    "layers_added": "int",
    "layers_removed": "int",
}
HISTORY: dict[str, Kind] = {
    "step": "int",
    "created": "time",
    "created_by": "str",
    "empty_layer": "bool",
    "layer_digest": "str",
    "size": "int",
    "cumulative_size": "int",
}
LAYERS: dict[str, Kind] = {
    "index": "int",
    "digest": "str",
    "media_type": "category",
    "size": "int",
    "percent": "float",
    "created_by": "str",
}
DIFF: dict[str, Kind] = {"digest": "str", "size": "int", "status": ("added", "removed", "common")}
AUDIT: dict[str, Kind] = {
    "repository": "str",
    "tags": "int",
    "images": "int",
    "logical_size": "int",
    "stored_size": "int",
    "shared_size": "int",
}
FILE_KINDS = (
    "file",
    "dir",
    "symlink",
    "hardlink",
    "whiteout",
    "opaque",
    "char",
    "block",
    "fifo",
    "other",
)
FILES: dict[str, Kind] = {
    "path": "str",
    "size": "int",
    "layer": "int",
    "layer_digest": "category",
    "kind": FILE_KINDS,
    "visible": "bool",
}
TAG_REPORT: dict[str, Kind] = {"check": "str", "passed": "bool", "detail": "str"}
CREDENTIALS: dict[str, Kind] = {"registry": "str", "username": "str", "source": "str"}


# -- listings -----------------------------------------------------------------------


def catalog(
    registry: str, pattern: str | re.Pattern[str] | None = None, *, client: Client | None = None
) -> pd.DataFrame:
    """Every repository of ``registry`` (all pages): ``registry, repository``.

    ``pattern`` filters names: a compiled ``re.Pattern`` or a string starting
    with ``^`` is a regular expression (``re.search``); any other string is a
    shell glob matched against the whole name (``library/*``, ``*nginx*``),
    where ``*`` also crosses ``/``.
    """
    return typed_frame(catalog_records(registry, pattern, client=client), CATALOG)


def search(
    term: str, registry: str = "docker.io", limit: int = 25, *, client: Client | None = None
) -> pd.DataFrame:
    """Repositories matching ``term``: ``registry, name, description, stars, official, automated``.

    Docker Hub's search API on docker.io; elsewhere a case-insensitive
    substring filter over the catalog (description and stars missing).
    """
    return typed_frame(search_records(term, registry, limit, client=client), SEARCH)


def _tag_rows(records: Iterable[ImageRecord]) -> list[dict[str, object]]:
    return [
        {
            "repository": r.repository,
            "tag": r.tag,
            "digest": r.digest,
            "media_type": r.media_type,
            "platform": r.platform,
            "image_digest": r.image_digest,
            "created": r.created,
            "size": r.size,
            "layers": len(r.layers),
            "tag_kind": analysis.classify_tag(r.tag) if r.tag else "other",
            "artifact_type": r.artifact_type,
            "attestation": r.attestation,
        }
        for r in records
    ]


def tags(
    repository: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per tag and platform of ``repository``.

    Columns: ``repository, tag, digest, media_type, platform, image_digest,
    created, size, layers, tag_kind, artifact_type, attestation``. A
    multi-arch tag's rows share the index's ``digest`` and ``media_type``;
    ``image_digest`` is the platform's manifest. ``size`` is the compressed
    config plus layers of that image. Attestation manifests (``unknown/unknown``)
    are rows with ``attestation=True``, so they can be filtered out and are
    never counted as platforms; artifacts (Helm charts, signatures, SBOMs)
    have no platform and their config or artifact media type in
    ``artifact_type``.
    """
    records = tag_records(
        repository,
        platform=platform,
        include_attestations=platform is None,
        progress=progress,
        client=client,
    )
    return typed_frame(_tag_rows(records), TAGS)


def tag_history(
    repository: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Tags ordered by ``created``, each compared with the one before.

    ``size_change`` (nullable; missing on the first row), ``layers_added`` and
    ``layers_removed`` (counts of layer digests) are against the previous row.
    Without ``platform`` a multi-arch tag is represented by linux/amd64 (else
    its first platform). Artifacts are left out; tags without a known
    creation time come last.
    """
    records = tag_records(repository, platform=platform, progress=progress, client=client)
    return typed_frame(analysis.tag_history_records(records), TAG_HISTORY)


def tag_report(
    repository: str | Reference, *, client: Client | None = None, progress: bool | None = None
) -> pd.DataFrame:
    """The usual tagging strategy checked: ``check, passed, detail``.

    Checks: semver tags present, ``latest`` points at the newest semver
    release, ``stable`` present, and a count of tag kinds.
    """
    rows = analysis.tag_report_records(repository, progress=progress, client=client)
    return typed_frame(rows, TAG_REPORT)


# -- one image --------------------------------------------------------------------


def history(
    image: str | Reference, platform: PlatformArg = None, *, client: Client | None = None
) -> pd.DataFrame:
    """The config history with each step's layer: ``step, created, created_by,
    empty_layer, layer_digest, size, cumulative_size`` (empty steps: size 0, no digest)."""
    resolved = resolve_image(image, platform, client=client)
    return typed_frame(analysis.history_records(resolved), HISTORY)


def layers(
    image: str | Reference, platform: PlatformArg = None, *, client: Client | None = None
) -> pd.DataFrame:
    """``index, digest, media_type, size, percent, created_by``; percent of layer bytes."""
    resolved = resolve_image(image, platform, client=client)
    return typed_frame(analysis.layer_records(resolved), LAYERS)


def diff(
    image_a: str | Reference,
    image_b: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
) -> pd.DataFrame:
    """Layers of ``image_b`` against ``image_a``: ``digest, size, status``.

    ``removed`` layers are only in a, ``added`` only in b, ``common`` in both.
    """
    c = get_client(client)
    a, b = c.map(lambda i: resolve_image(i, platform, client=c), [image_a, image_b])
    return typed_frame(analysis.diff_records(a, b), DIFF)


def files(
    image: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Every file version in the image's layers: ``path, size, layer, layer_digest,
    kind, visible``.

    Layers stream from the registry and only tar headers are read. ``visible``
    is False for versions a later layer overwrites or deletes; whiteouts are
    rows of kind ``whiteout`` (``path`` is what they delete) or ``opaque``
    (``path`` is the directory whose lower contents they hide).
    """
    versions = image_files(image, platform, client=client, progress=progress)
    return typed_frame([v.__dict__ for v in versions], FILES)


def waste(
    image: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """The file versions later layers overwrite or delete, largest first.

    Each hidden copy counts once (a file written in two layers and kept
    wastes one copy, not two as dive reports: wagoodman/dive#684).
    ``df.attrs`` holds ``wasted_bytes``, ``total_bytes`` (file bytes of all
    versions) and ``efficiency`` = ``1 - wasted_bytes / total_bytes``.
    """
    versions = image_files(image, platform, client=client, progress=progress)
    summary = summarize_waste(versions)
    hidden = sorted(summary.versions, key=lambda v: (-v.size, v.path, v.layer))
    df = typed_frame([v.__dict__ for v in hidden], FILES)
    df.attrs.update(
        wasted_bytes=summary.wasted_bytes,
        total_bytes=summary.total_bytes,
        efficiency=summary.efficiency,
    )
    return df


# -- many repositories -------------------------------------------------------------


def audit(
    registry_or_repositories: str | Sequence[str | Reference],
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Storage per repository: ``repository, tags, images, logical_size,
    stored_size, shared_size``.

    A registry host (``"localhost:5000"``) audits every repository of its
    catalog; a repository or a list of them audits those. ``repository`` is
    ``host/name``. ``logical_size`` sums the size of every tag-platform image
    (what the tag listing claims); ``stored_size`` counts each config and
    layer blob of the repository once; ``shared_size`` is the part of it that
    other audited repositories also reference. The registry-wide figure,
    every blob counted once across all audited repositories, is in
    ``df.attrs["total_stored_size"]`` (see ``audit_total``), not a row, so
    column sums stay meaningful.
    """
    c = get_client(client)
    targets = audit_targets(registry_or_repositories, client=c)
    result = analysis.audit_records(targets, progress=progress, client=c)
    df = typed_frame(result.rows, AUDIT)
    df.attrs.update(
        total_stored_size=result.total_stored_size,
        total_logical_size=result.total_logical_size,
    )
    return df


def audit_total(df: pd.DataFrame) -> pd.Series:
    """An audit frame's totals: logical, stored (every blob once) and their ratio.

    ``stored_size`` here is the registry-wide figure, smaller than the column
    sum whenever repositories share blobs.
    """
    stored = int(df.attrs.get("total_stored_size", df["stored_size"].sum()))
    logical = int(df.attrs.get("total_logical_size", df["logical_size"].sum()))
    return pd.Series(
        {
            "repositories": len(df),
            "logical_size": logical,
            "stored_size": stored,
            "dedup_ratio": logical / stored if stored else float("nan"),
        },
        dtype=object,
        name="total",
    )


def credentials(*, client: Client | None = None) -> pd.DataFrame:
    """Where you are logged in: ``registry, username, source``; never a secret."""
    return typed_frame(credential_records(client=client), CREDENTIALS)
