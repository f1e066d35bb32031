"""Registries as DataFrames: catalogs, tags, histories, layers, audits, files.

Each function gathers records with the core (``_images``, ``_analysis``,
``_filesystem``, ``_inspect``) and types them with one schema per frame, so
an empty result has the same columns and dtypes as a full one. Sizes are
int64 bytes, times ``datetime64[ns, UTC]`` (NaT when unknown), and columns
with few values are categories.

Rows come in a meaningful order (``rk.tags`` newest first, ``tag_history``
oldest to newest, ``audit`` largest first; tags in ``analysis.order_tags``
order, never the registry's storage order). Columns a person reads first
(tag, date, size, platform) come before long digests, and what every row
shares (the repository) is in ``df.attrs`` instead of a column. Show any of
them with ``rk.frames.readable(df)`` for human sizes and short digests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

import pandas as pd

from .._client import Client, get_client
from .._model.manifest import Platform
from .._model.reference import Reference, parse_repository
from .._ops import analysis
from .._ops import audit as audit_ops
from .._ops.filesystem import image_files, summarize_waste
from .._ops.listing import ImageRecord, resolve_image, tag_records
from .._ops.login import credential_records
from .._ops.vendors import search_records
from .._ops.webapis import audit_targets, catalog_records
from ._dtypes import Kind, typed_frame

PlatformArg = str | Platform | None


class HasHost(Protocol):
    """A registry object such as ``rk.LocalRegistry``: anything with a ``host``."""

    @property
    def host(self) -> str: ...


RegistryArg = str | HasHost


def registry_name(registry: RegistryArg) -> str:
    """``registry`` as a host string: a ``LocalRegistry`` (or any ``.host``) gives its host."""
    return registry if isinstance(registry, str) else str(registry.host)


CATALOG: dict[str, Kind] = {"registry": "category", "repository": "str"}
SEARCH: dict[str, Kind] = {
    "registry": "category",
    "name": "str",
    "description": "str",
    "stars": "Int64",
    "official": "bool",
    "automated": "bool",
}
# The repository is the same on every row: it is in df.attrs["repository"].
DATE_SOURCES = ("pushed", "created")
TAGS: dict[str, Kind] = {
    "tag": "str",
    "date": "time",
    "size": "int",
    "platform": "category",
    "layers": "int",
    "tag_kind": analysis.TAG_KINDS,
    "attestation": "bool",
    "date_source": DATE_SOURCES,
    "created": "time",
    "pushed": "time",
    "media_type": "category",
    "digest": "str",
    "image_digest": "str",
    "artifact_type": "category",
}
# Columns shown only when some row has a value (private registries have none).
OPTIONAL_COLUMNS = ("artifact_type",)
TAG_HISTORY: dict[str, Kind] = {
    "tag": "str",
    "tags": "object",
    "date": "time",
    "date_source": DATE_SOURCES,
    "created": "time",
    "pushed": "time",
    "size": "int",
    "size_change": "Int64",
    "layers": "int",
    "layers_added": "int",
    "layers_removed": "int",
    "digest": "str",
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
# The layer's position (from 0) is the frame's index, named "layer".
LAYERS: dict[str, Kind] = {
    "size": "int",
    "percent": "float",
    "created_by": "str",
    "media_type": "category",
    "digest": "str",
}
DIFF: dict[str, Kind] = {"digest": "str", "size": "int", "status": ("added", "removed", "common")}
AUDIT_TOTAL: dict[str, Kind] = {
    "repositories": "int",
    "logical_size": "int",
    "stored_size": "int",
    "dedup_ratio": "float",
}
AUDIT: dict[str, Kind] = {
    "repository": "str",
    "tags": "int",
    "images": "int",
    "logical_size": "int",
    "stored_size": "int",
    "shared_size": "int",
    "unique_size": "int",
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
    registry: RegistryArg,
    pattern: str | re.Pattern[str] | None = None,
    *,
    client: Client | None = None,
) -> pd.DataFrame:
    """Every repository of ``registry`` (all pages): ``registry, repository``.

    ``docker.io/NAMESPACE`` and ``ghcr.io/OWNER`` list through Docker Hub's
    and GitHub's APIs (they have no ``_catalog``); a registry that refuses
    ``_catalog`` raises ``Unsupported`` saying what to do instead.

    ``pattern`` filters names: a compiled ``re.Pattern`` or a string starting
    with ``^`` is a regular expression (``re.search``); any other string is a
    shell glob matched against the whole name (``library/*``, ``*nginx*``),
    where ``*`` also crosses ``/``. ``registry`` is a host or a ``LocalRegistry``.
    """
    records = catalog_records(registry_name(registry), pattern, client=client)
    return typed_frame(records, CATALOG)


def search(
    term: str, registry: RegistryArg = "docker.io", limit: int = 25, *, client: Client | None = None
) -> pd.DataFrame:
    """Repositories matching ``term``: ``registry, name, description, stars, official, automated``.

    Docker Hub's search API on docker.io; elsewhere a case-insensitive
    substring filter over the catalog (description and stars missing).
    """
    records = search_records(term, registry_name(registry), limit, client=client)
    return typed_frame(records, SEARCH)


def _tag_rows(records: Iterable[ImageRecord]) -> list[dict[str, object]]:
    """Rows in ``order_tags`` order (newest first); a tag's platforms keep their index order."""
    by_tag: dict[str, list[ImageRecord]] = {}
    for r in records:
        by_tag.setdefault(r.tag or "", []).append(r)
    dates = {
        tag: max((r.date for r in rows if r.date and not r.attestation), default=None)
        for tag, rows in by_tag.items()
    }
    return [
        {
            "tag": r.tag,
            "date": r.date,
            "size": r.size,
            "platform": r.platform,
            "layers": len(r.layers),
            "tag_kind": analysis.classify_tag(r.tag) if r.tag else "other",
            "attestation": r.attestation,
            "date_source": r.date_source,
            "created": r.created,
            "pushed": r.pushed,
            "media_type": r.media_type,
            "digest": r.digest,
            "image_digest": r.image_digest,
            "artifact_type": r.artifact_type,
        }
        for tag in analysis.order_tags(by_tag, dates)
        for r in by_tag[tag]
    ]


def _repository_name(repository: str | Reference) -> str:
    ref = repository if isinstance(repository, Reference) else parse_repository(repository)
    return ref.name


def _drop_empty_optional(frame: pd.DataFrame) -> pd.DataFrame:
    empty = [c for c in OPTIONAL_COLUMNS if c in frame and frame[c].isna().all()]
    return frame.drop(columns=empty)


def tags(
    repository: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per tag and platform of ``repository``, newest first.

    Columns: ``tag, date, size, platform, layers, tag_kind, attestation,
    date_source, created, pushed, media_type, digest, image_digest`` and, when some
    row is an artifact, ``artifact_type``; ``df.attrs["repository"]`` names
    the repository. ``created`` is the config's (or the index annotation's)
    build time, NaT for the fake fixed values reproducible builders stamp;
    ``pushed`` is when the registry's own API says the tag was pushed (Docker
    Hub, GCR/Artifact Registry, GHCR with a token), and ``date`` is ``pushed``,
    else ``created``, with ``date_source`` saying which. Rows are newest
    ``date`` first, undated last, ties by version (``analysis.order_tags``).
    On Docker Hub the rows come from Hub's tags API and no manifest is pulled
    (no pull is counted), so ``layers`` is 0 and ``created`` NaT there.
    A multi-arch tag's rows share the index's ``digest`` and ``media_type``;
    ``image_digest`` is the platform's manifest. ``size`` is the compressed
    config plus layers of that image. Attestation manifests (``unknown/unknown``)
    are rows with ``attestation=True``, so they can be filtered out and are
    never counted as platforms; artifacts (Helm charts, signatures, SBOMs)
    have no platform and their config or artifact media type in
    ``artifact_type``. Show it with ``rk.frames.readable(df)``.
    """
    records = tag_records(
        repository,
        platform=platform,
        include_attestations=platform is None,
        progress=progress,
        client=client,
    )
    df = _drop_empty_optional(typed_frame(_tag_rows(records), TAGS))
    df.attrs["repository"] = _repository_name(repository)
    return df


def tag_history(
    repository: str | Reference,
    platform: PlatformArg = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per image (digest), oldest to newest, each compared with the one before.

    Columns: ``tag, tags, date, date_source, created, pushed, size,
    size_change, layers, layers_added, layers_removed, digest`` (dates as in
    ``tags``; rows go by ``date``). ``tags`` lists every tag on the image, best
    first (semver, then the others: ``analysis.order_tags``), and ``tag`` is
    the first of them. ``size_change`` (nullable; missing on the first row),
    ``layers_added`` and ``layers_removed`` (counts of layer digests) are
    against the previous image. Without ``platform`` a multi-arch image is
    represented by linux/amd64 (else its first platform). Artifacts are left
    out; images without a date come last.
    ``df.attrs["repository"]`` names the repository; show it with
    ``rk.frames.readable(df)``.
    """
    records = tag_records(repository, platform=platform, progress=progress, client=client)
    df = typed_frame(analysis.tag_history_records(records), TAG_HISTORY)
    df.attrs["repository"] = _repository_name(repository)
    return df


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
    """``size, percent, created_by, media_type, digest`` per layer, base layer first.

    The frame's index, named ``layer``, is the layer's position from 0 (the
    ``index`` of the contract). ``percent`` is of the image's layer bytes,
    to one decimal. Show it with ``rk.frames.readable(df)``.
    """
    resolved = resolve_image(image, platform, client=client)
    df = typed_frame(analysis.layer_records(resolved), LAYERS)
    df.index.name = "layer"
    df.attrs["image"] = resolved.name
    return df


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
    registry_or_repositories: RegistryArg | Sequence[str | Reference],
    *,
    client: Client | None = None,
    progress: bool | None = None,
    engine: Literal["local", "dask"] = "local",
    dask_client: Any = None,
    partitions: int | None = None,
) -> pd.DataFrame:
    """Storage per repository, largest ``stored_size`` first: ``repository, tags,
    images, logical_size, stored_size, shared_size, unique_size``.

    A registry (``"localhost:5000"`` or a ``LocalRegistry``) audits every
    repository of its catalog; a repository or a list of them audits those.
    When all are on one registry, ``repository`` is the name without the host
    and ``df.attrs["registry"]`` holds the host. ``logical_size`` sums the
    size of every tag-platform image (what the tag listing claims);
    ``stored_size`` counts each config and layer blob of the repository
    once; ``shared_size`` is the part of it that other audited repositories
    also reference. The registry-wide figure, every blob counted once across
    all audited repositories, is in ``df.attrs["total_stored_size"]`` (see
    ``audit_total``), not a row, so column sums stay meaningful. Show it with
    ``rk.frames.readable(df)``.

    ``engine="dask"`` (``pip install registrykit[dask]``) audits ``partitions``
    (default: two per worker thread) on ``dask_client``, else the current
    ``distributed.Client``, and returns the same frame. Workers get names and
    ``client``'s non-secret settings, and read logins from their own login files.
    """
    c = get_client(client)
    names = _audit_names(registry_or_repositories, c)
    if engine == "dask":
        from .distributed import audit_on_dask

        return audit_on_dask(
            names, client=c, dask_client=dask_client, partitions=partitions, progress=progress
        )
    if engine != "local":
        raise ValueError(f"engine must be 'local' or 'dask', not {engine!r}")
    result = audit_ops.audit_records(names, progress=progress, client=c)
    registry = _one_registry(r["repository"] for r in result.rows)
    return _audit_frame(result.rows, registry, result.total_stored_size, result.total_logical_size)


def _audit_names(target: RegistryArg | Sequence[str | Reference], client: Client) -> list[str]:
    """``host/name`` of every repository to audit (a registry expands to its catalog)."""
    named = target if isinstance(target, str | Sequence) else registry_name(target)
    return audit_targets(named, client=client)


def _one_registry(repositories: Iterable[str]) -> str | None:
    """The host of every ``host/name``, when they share one."""
    hosts = {r.split("/", 1)[0] for r in repositories}
    return hosts.pop() if len(hosts) == 1 else None


def _audit_frame(
    rows: Iterable[dict[str, Any]], registry: str | None, total_stored: int, total_logical: int
) -> pd.DataFrame:
    """The audit frame of ``rows`` (repositories as ``host/name``), in the audit's order."""
    ordered = sorted(rows, key=lambda r: (-r["stored_size"], r["repository"]))
    if registry is not None:
        ordered = [{**r, "repository": r["repository"].split("/", 1)[1]} for r in ordered]
    df = typed_frame(ordered, AUDIT)
    df.attrs.update(
        registry=registry, total_stored_size=total_stored, total_logical_size=total_logical
    )
    return df


def audit_total(df: pd.DataFrame) -> pd.DataFrame:
    """An audit frame's totals as one row: ``repositories, logical_size,
    stored_size, dedup_ratio`` (logical / stored, two decimals).

    ``stored_size`` here is the registry-wide figure, smaller than the column
    sum whenever repositories share blobs. The row is named by the audited
    registry (``total`` for several).
    """
    stored = int(df.attrs.get("total_stored_size", df["stored_size"].sum()))
    logical = int(df.attrs.get("total_logical_size", df["logical_size"].sum()))
    row = {
        "repositories": len(df),
        "logical_size": logical,
        "stored_size": stored,
        "dedup_ratio": round(logical / stored, 2) if stored else None,
    }
    total = typed_frame([row], AUDIT_TOTAL)
    total.index = pd.Index([df.attrs.get("registry") or "total"])
    total.attrs = dict(df.attrs)
    return total


def credentials(*, client: Client | None = None) -> pd.DataFrame:
    """Where you are logged in: ``registry, username, source``; never a secret."""
    return typed_frame(credential_records(client=client), CREDENTIALS)
