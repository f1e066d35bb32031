"""Retention plans (which tags to keep or delete) and ``apply`` for plans.

The rule that matters: a digest a kept tag points to is never deleted. A
tag the rules would drop but whose digest a kept tag shares is *untagged*
(only the tag goes, via ``delete(untag_only=True)``), so the kept tag's image
survives. ``apply`` checks again against the registry before acting, so a
tag that moved or a new tag on the digest since planning is respected.

This module returns plain records (``Plan``); ``registrykit.frames.plans``
turns them into DataFrames, which ``apply`` accepts as well.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .._client import Client, get_client
from .._model.reference import Reference, parse_reference, parse_repository
from .delete import delete, tags_pointing_at
from .listing import tag_records
from .results import ApplyResult, DeleteResult, SyncResult
from .sync import SyncRow, TagFilter, match_tags, run_sync, sync_rows

__all__ = ["Plan", "RetentionRow", "apply", "parse_age", "retention_rows", "sync_plan_records"]

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class RetentionRow:
    tag: str
    digest: str
    created: dt.datetime | None
    size: int
    action: str  # keep | delete | untag
    reason: str


@dataclass(frozen=True)
class Plan:
    """A plan before anything moves: ``kind`` is ``retention`` or ``sync``."""

    kind: str
    rows: list[Any]
    meta: dict[str, str] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]


def parse_age(value: dt.timedelta | dt.datetime | str, now: dt.datetime) -> dt.datetime:
    """The cutoff time: a datetime, a timedelta back from now, or ``"30d"``/``"12h"``/``"2w"``."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.timedelta):
        return now - value
    match = _AGE_RE.match(str(value))
    if not match:
        raise ValueError(
            f"older_than={value!r} is not an age; use a timedelta, a datetime, or a string "
            "like '30d', '12h', '2w'"
        )
    return now - dt.timedelta(**{_UNITS[match[2]]: float(match[1])})


_REFERRERS_TAG = re.compile(r"^(?P<algorithm>sha256|sha512)-(?P<hex>[0-9a-f]{64,128})(\.\w+)?$")


def retention_rows(
    repository: str | Reference,
    keep_last: int | None = None,
    keep: TagFilter = None,
    older_than: dt.timedelta | dt.datetime | str | None = None,
    client: Client | None = None,
    *,
    now: dt.datetime | None = None,
) -> Plan:
    """Decide per tag: keep, delete, or untag (digest shared with a kept tag).

    Without ``keep_last`` or ``older_than`` nothing is selected for deletion.
    A tag is dropped when it is not kept by ``keep`` (list, glob or regex),
    is not among the ``keep_last`` newest, and (with ``older_than``) was
    created before the cutoff; tags without a creation time are kept.
    """
    if keep_last is not None and keep_last < 0:
        raise ValueError("keep_last must be 0 or more")
    c = get_client(client)
    ref = repository if isinstance(repository, Reference) else parse_repository(repository)
    cutoff = (
        parse_age(older_than, now or dt.datetime.now(dt.UTC)) if older_than is not None else None
    )
    by_tag: dict[str, tuple[str, dt.datetime | None, int]] = {}
    for record in tag_records(ref, client=c):
        if record.tag is None:
            continue
        digest, created, size = by_tag.get(record.tag, (record.digest, None, 0))
        if record.created is not None and (created is None or record.created > created):
            created = record.created
        by_tag[record.tag] = (digest, created, size + record.size)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    ordered = sorted(by_tag, key=lambda t: (by_tag[t][1] or epoch, t), reverse=True)
    protected = set(match_tags(ordered, keep)) if keep is not None else set()
    newest = set(ordered[:keep_last]) if keep_last is not None else set()

    decisions: dict[str, tuple[str, str]] = {}
    for tag in ordered:
        _, created, _ = by_tag[tag]
        if tag in protected:
            decisions[tag] = ("keep", "matches keep")
        elif keep_last is not None and tag in newest:
            decisions[tag] = ("keep", f"one of the {keep_last} newest")
        elif cutoff is not None and created is None:
            decisions[tag] = ("keep", "creation time unknown")
        elif cutoff is not None and created is not None and created >= cutoff:
            decisions[tag] = ("keep", f"created after {cutoff:%Y-%m-%d %H:%M} UTC")
        elif keep_last is None and cutoff is None:
            decisions[tag] = ("keep", "no rule selects it (give keep_last or older_than)")
        elif cutoff is not None:
            decisions[tag] = ("delete", f"created before {cutoff:%Y-%m-%d %H:%M} UTC")
        else:
            decisions[tag] = ("delete", f"not among the {keep_last} newest")

    def kept() -> dict[str, str]:
        found: dict[str, str] = {}
        for tag in ordered:
            if decisions[tag][0] == "keep":
                found.setdefault(by_tag[tag][0], tag)
        return found

    images_kept = kept()
    for tag in ordered:
        # Referrers listed under the tag schema (sha256-<hex>, cosign's .sig/.att)
        # belong to their subject: they stay while it stays and go with it.
        match = _REFERRERS_TAG.match(tag)
        if match and tag not in protected:
            subject = f"{match['algorithm']}:{match['hex']}"
            if subject in images_kept:
                decisions[tag] = ("keep", f"referrers of {images_kept[subject]}, which is kept")
            else:
                decisions[tag] = ("delete", "referrers of an image that is not kept")
    kept_by_digest = kept()
    rows = []
    for tag in ordered:
        digest, created, size = by_tag[tag]
        action, reason = decisions[tag]
        if action == "delete" and digest in kept_by_digest:
            action = "untag"
            reason += (
                f"; digest shared with kept tag {kept_by_digest[digest]}, so only the tag goes"
            )
        rows.append(RetentionRow(tag, digest, created, size, action, reason))
    return Plan("retention", rows, {"repository": ref.name})


def sync_plan_records(
    src_repository: str | Reference,
    dst_repository: str | Reference,
    tags: TagFilter = None,
    client: Client | None = None,
) -> Plan:
    src_ref = (
        src_repository
        if isinstance(src_repository, Reference)
        else parse_repository(src_repository)
    )
    dst_ref = (
        dst_repository
        if isinstance(dst_repository, Reference)
        else parse_repository(dst_repository)
    )
    rows = sync_rows(src_ref, dst_ref, tags, client)
    return Plan("sync", rows, {"source": src_ref.name, "destination": dst_ref.name})


# -- apply ---------------------------------------------------------------------


def _as_plan(plan: Any) -> Plan:
    """A ``Plan``, or a DataFrame made from one (its ``attrs`` carry kind and names)."""
    if isinstance(plan, Plan):
        return plan
    attrs: Mapping[str, Any] = getattr(plan, "attrs", {}) or {}
    kind = attrs.get("registrykit.plan")
    if kind is None or not hasattr(plan, "to_dict"):
        raise ValueError(
            "apply() takes a plan from rk.retention_plan(...) or rk.sync_plan(...) "
            "(the DataFrame, filtered as you like)"
        )
    records: list[dict[str, Any]] = plan.to_dict("records")
    meta = {k: str(v) for k, v in attrs.items() if k != "registrykit.plan"}
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
    else:
        rows = [
            RetentionRow(
                str(r["tag"]),
                str(r["digest"]),
                None,
                int(r.get("size") or 0),
                str(r["action"]),
                str(r.get("reason", "")),
            )
            for r in records
        ]
    return Plan(str(kind), rows, meta)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def apply(plan: Any, client: Client | None = None) -> ApplyResult | SyncResult:
    """Carry out a retention or sync plan (a ``Plan`` or its DataFrame)."""
    c = get_client(client)
    p = _as_plan(plan)
    if p.kind == "sync":
        src = parse_repository(p.meta["source"])
        dst = parse_repository(p.meta["destination"])
        return run_sync(c, src, dst, p.rows)
    if p.kind != "retention":
        raise ValueError(f"unknown plan kind {p.kind!r}")
    return _apply_retention(c, parse_repository(p.meta["repository"]), p.rows)


def _apply_retention(c: Client, repo: Reference, rows: Iterable[RetentionRow]) -> ApplyResult:
    registry = c.registry(repo)
    done: list[DeleteResult] = []
    skipped: list[str] = []
    drop: dict[str, list[str]] = {}
    untag: list[RetentionRow] = []
    for row in rows:
        if row.action == "delete":
            drop.setdefault(row.digest, []).append(row.tag)
        elif row.action == "untag":
            untag.append(row)
    for digest, planned in drop.items():
        # Check again now: a tag pushed or moved since planning must not lose its image.
        current = tags_pointing_at(c, registry, repo.repository, digest)
        others = sorted(set(current) - set(planned))
        gone = [t for t in planned if t not in current]
        skipped += [f"{t}: no longer points at {digest[:19]}…" for t in gone]
        if others:
            untag += [
                RetentionRow(t, digest, None, 0, "untag", "") for t in planned if t in current
            ]
            skipped.append(f"{digest[:19]}… kept: now also tagged {', '.join(others)}")
            continue
        if current:
            done.append(delete(_at(repo, digest), client=c))
    for row in untag:
        image = parse_reference(f"{repo.name}:{row.tag}")
        now = registry.head_manifest(repo.repository, row.tag)
        if now is None or now.digest != row.digest:
            skipped.append(f"{row.tag}: moved since the plan was made")
            continue
        done.append(delete(image, untag_only=True, client=c))
    return ApplyResult(repository=repo.name, deleted=done, skipped=skipped)


def _at(repo: Reference, digest: str) -> Reference:
    return repo.with_digest(digest)
