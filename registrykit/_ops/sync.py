"""``rk.sync``: bring a destination repository up to date with a source.

Digests are compared first (a tag list on each side and a HEAD per tag), so
a sync with nothing to do costs only those requests. ``tags`` selects which
source tags take part: a list of names, a glob (``"v1.*"``), or a regular
expression (an ``re.Pattern``, or a string starting with ``^`` / ending
with ``$``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .._client import Client, get_client
from .._model.reference import Reference
from .._stores.registry import RegistryStore
from .analysis import order_tags
from .copy import copy
from .results import CopyResult, SyncResult

__all__ = ["SyncRow", "TagFilter", "match_tags", "sync", "sync_rows"]

TagFilter = str | re.Pattern[str] | Iterable[str] | None


@dataclass(frozen=True)
class SyncRow:
    """One tag of a sync plan: ``action`` is ``copy`` or ``skip``."""

    tag: str
    source_digest: str
    destination_digest: str | None
    action: str
    reason: str


def match_tags(tags: Iterable[str], selector: TagFilter) -> list[str]:
    """The tags ``selector`` picks, in their original order."""
    names = list(tags)
    if selector is None:
        return names
    if isinstance(selector, re.Pattern):
        return [t for t in names if selector.fullmatch(t)]
    if isinstance(selector, str):
        if selector.startswith("^") or selector.endswith("$"):
            pattern = re.compile(selector)
            return [t for t in names if pattern.search(t)]
        return [t for t in names if fnmatch.fnmatchcase(t, selector)]
    wanted = list(selector)
    return [t for t in wanted if t in set(names)]


def sync_rows(
    src_repository: str | Reference,
    dst_repository: str | Reference,
    tags: TagFilter = None,
    client: Client | None = None,
) -> list[SyncRow]:
    """The plan: one row per selected source tag, ``copy`` where the digests differ.

    Rows follow ``analysis.order_tags`` (by version; a sync reads no dates).
    """
    c = get_client(client)
    src_ref = c.reference(src_repository, repository=True)
    dst_ref = c.reference(dst_repository, repository=True, write=True)
    src = RegistryStore(c.registry(src_ref), src_ref.repository)
    dst = RegistryStore(c.registry(dst_ref), dst_ref.repository)
    selected = order_tags(match_tags(src.tags(), tags))
    existing = set(dst.tags())

    def compare(tag: str) -> SyncRow:
        source = src.registry.resolve(src.repository, tag)
        target = dst.manifest_head(tag) if tag in existing else None
        if target is None:
            return SyncRow(tag, source.digest, None, "copy", "missing at the destination")
        if target.digest == source.digest:
            return SyncRow(tag, source.digest, target.digest, "skip", "same digest")
        return SyncRow(tag, source.digest, target.digest, "copy", "digest differs")

    return c.map(compare, selected)


def sync(
    src_repository: str | Reference,
    dst_repository: str | Reference,
    tags: TagFilter = None,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> SyncResult:
    """Copy the tags whose digests differ (or are missing) at the destination."""
    c = get_client(client)
    src_ref = c.reference(src_repository, repository=True)
    dst_ref = c.reference(dst_repository, repository=True, write=True)
    rows = sync_rows(src_ref, dst_ref, tags, c)
    return run_sync(c, src_ref, dst_ref, rows, progress=progress)


def run_sync(
    c: Client,
    src_ref: Reference,
    dst_ref: Reference,
    rows: Iterable[SyncRow],
    *,
    progress: bool | None = None,
) -> SyncResult:
    copied: list[CopyResult] = []
    unchanged: list[str] = []
    for row in rows:
        if row.action != "copy":
            unchanged.append(row.tag)
            continue
        # By digest, so what is copied is what the plan saw, even if the tag moved since.
        source = src_ref.with_digest(row.source_digest)
        copied.append(copy(source, dst_ref.with_tag(row.tag), client=c, progress=progress))
    return SyncResult(
        source=src_ref.name, destination=dst_ref.name, copied=copied, unchanged=unchanged
    )
