"""Plans before anything moves, and ``apply``, which carries one out.

A ``Plan`` is plain records: ``retention`` rows (from ``retention.py``) or
``sync`` rows (from ``sync.py``). ``apply`` checks again against the
registry before acting, so a tag that moved, or a new tag on a digest, since
planning is respected. Presentation layers hand plans back as records
(``Plan.from_records``); this module never sees a DataFrame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .._client import Client, get_client
from .._model.reference import Reference, parse_repository
from .._model.registries import determine_registry
from .delete import delete, tags_pointing_at
from .results import ApplyResult, DeleteResult, SyncResult
from .sync import SyncRow, TagFilter, run_sync, sync_rows
from .untag import remove_tags

__all__ = ["Plan", "RetentionRow", "apply", "plan_sync"]


@dataclass(frozen=True, kw_only=True)
class RetentionRow:
    """One tag's fate. ``date`` is ``pushed``, else the trusted ``created`` (None: undated)."""

    tag: str
    digest: str
    date: dt.datetime | None = None
    size: int = 0
    action: str  # keep | delete | untag
    reason: str = ""
    date_source: str | None = None  # "pushed" | "created" | None
    created: dt.datetime | None = None
    pushed: dt.datetime | None = None
    method: str | None = None  # how it would go (untag.DELETE_METHODS); None when kept


@dataclass(frozen=True)
class Plan:
    """A plan before anything moves: ``kind`` is ``retention`` or ``sync``.

    ``freed_bytes`` (retention) counts the config and layer blobs that only
    the deleted images hold; blobs a kept image shares are not freed. Space
    returns after the registry's garbage collection.
    """

    kind: str
    rows: list[Any]
    meta: dict[str, str] = field(default_factory=dict)
    freed_bytes: int = 0

    def records(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]

    @classmethod
    def from_records(
        cls, kind: str, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]
    ) -> Plan:
        """The plan back from its records (a filtered table of them, say)."""
        if kind == "sync":
            rows: list[Any] = [
                SyncRow(
                    str(r["tag"]),
                    str(r["source_digest"]),
                    _opt_str(r.get("destination_digest")),
                    str(r["action"]),
                    str(r.get("reason", "")),
                )
                for r in records
            ]
        elif kind == "retention":
            # Dates and methods are for reading: apply checks the registry again.
            rows = [
                RetentionRow(
                    tag=str(r["tag"]),
                    digest=str(r["digest"]),
                    size=int(r.get("size") or 0),
                    action=str(r["action"]),
                    reason=str(r.get("reason", "")),
                )
                for r in records
            ]
        else:
            raise ValueError(f"unknown plan kind {kind!r}")
        return cls(kind, rows, {k: str(v) for k, v in meta.items()})


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def plan_sync(
    src_repository: str | Reference,
    dst_repository: str | Reference,
    tags: TagFilter = None,
    *,
    client: Client | None = None,
) -> Plan:
    """The sync plan: one row per selected source tag, ``copy`` where the digests differ."""
    c = get_client(client)
    src_ref = c.reference(src_repository, repository=True)
    dst_ref = c.reference(dst_repository, repository=True, write=True)
    rows = sync_rows(src_ref, dst_ref, tags, c)
    return Plan("sync", rows, {"source": src_ref.name, "destination": dst_ref.name})


def apply(
    plan: Plan, *, client: Client | None = None, progress: bool | None = None
) -> ApplyResult | SyncResult:
    """Carry out a retention or sync plan; ``progress`` is passed to the sync's copies."""
    if not isinstance(plan, Plan):
        raise ValueError(
            "apply() takes a plan from rk.retention_plan(...) or rk.sync_plan(...) "
            "(the DataFrame, filtered as you like)"
        )
    c = get_client(client)
    if plan.kind == "sync":
        src = parse_repository(plan.meta["source"])
        dst = parse_repository(plan.meta["destination"])
        return run_sync(c, src, dst, plan.rows, progress=progress)
    if plan.kind != "retention":
        raise ValueError(f"unknown plan kind {plan.kind!r}")
    return _apply_retention(c, parse_repository(plan.meta["repository"]), plan.rows)


def _apply_retention(c: Client, repo: Reference, rows: Iterable[RetentionRow]) -> ApplyResult:
    """Deletes whole images, then removes the tags to untag, each checked again first.

    On GitLab an image goes by removing its tags (GitLab's own model, one bulk
    call where it fits); elsewhere by deleting its manifest with its referrers.
    """
    registry = c.registry(repo)
    by_tags = determine_registry(repo.registry).kind == "gitlab"
    done: list[DeleteResult] = []
    skipped: list[str] = []
    drop: dict[str, list[str]] = {}
    untag: dict[str, str] = {}
    staying: dict[str, list[str]] = {}
    for row in rows:
        if row.action == "delete":
            drop.setdefault(row.digest, []).append(row.tag)
        elif row.action == "untag":
            untag[row.tag] = row.digest
        else:
            staying.setdefault(row.digest, []).append(row.tag)
    for digest, planned in drop.items():
        # Check again now: a tag pushed or moved since planning must not lose its image.
        current = tags_pointing_at(c, registry, repo.repository, digest)
        others = sorted(set(current) - set(planned))
        skipped += [f"{t}: no longer points at {digest[:19]}…" for t in planned if t not in current]
        if others or by_tags:
            untag.update({t: digest for t in planned if t in current})
            staying.setdefault(digest, []).extend(others)
            if others:
                skipped.append(f"{digest[:19]}… kept: now also tagged {', '.join(others)}")
        elif current:
            done.append(delete(repo.with_digest(digest), client=c))
    still = {}
    for tag, digest in untag.items():
        now = registry.head_manifest(repo.repository, tag)
        if now is None or now.digest != digest:
            skipped.append(f"{tag}: moved since the plan was made")
        else:
            still[tag] = digest
    removed, refused = remove_tags(c, repo, still, staying=staying)
    return ApplyResult(repository=repo.name, deleted=done + removed, skipped=skipped + refused)
