"""Retention rules: which tags to keep, delete or untag, as a ``Plan``.

The rule that matters: a digest a kept tag points to is never deleted. A
tag the rules would drop but whose digest a kept tag shares is *untagged*
(only the tag goes, via ``delete(untag_only=True)``), so the kept tag's image
survives. ``plans.apply`` carries the plan out.
"""

from __future__ import annotations

import datetime as dt
import re

from .._client import Client, get_client
from .._model.reference import Reference, parse_repository
from .listing import tag_records
from .plans import Plan, RetentionRow
from .sync import TagFilter, match_tags

__all__ = ["parse_age", "plan_retention"]

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_REFERRERS_TAG = re.compile(r"^(?P<algorithm>sha256|sha512)-(?P<hex>[0-9a-f]{64,128})(\.\w+)?$")

# tag -> (digest, created, size summed over its platforms)
_TagInfo = dict[str, tuple[str, dt.datetime | None, int]]
_Decisions = dict[str, tuple[str, str]]


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


def plan_retention(
    repository: str | Reference,
    keep_last: int | None = None,
    keep: TagFilter = None,
    older_than: dt.timedelta | dt.datetime | str | None = None,
    *,
    client: Client | None = None,
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
    by_tag = _tag_info(c, ref)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    ordered = sorted(by_tag, key=lambda t: (by_tag[t][1] or epoch, t), reverse=True)
    protected = set(match_tags(ordered, keep)) if keep is not None else set()
    newest = set(ordered[:keep_last]) if keep_last is not None else set()
    decisions = {
        tag: _decide(tag, by_tag[tag][1], protected, newest, keep_last, cutoff) for tag in ordered
    }
    _follow_subjects(ordered, by_tag, decisions, protected)
    kept_by_digest = _kept_images(ordered, by_tag, decisions)
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


def _tag_info(c: Client, ref: Reference) -> _TagInfo:
    by_tag: _TagInfo = {}
    for record in tag_records(ref, client=c):
        if record.tag is None:
            continue
        digest, created, size = by_tag.get(record.tag, (record.digest, None, 0))
        if record.created is not None and (created is None or record.created > created):
            created = record.created
        by_tag[record.tag] = (digest, created, size + record.size)
    return by_tag


def _decide(
    tag: str,
    created: dt.datetime | None,
    protected: set[str],
    newest: set[str],
    keep_last: int | None,
    cutoff: dt.datetime | None,
) -> tuple[str, str]:
    """The rules for one tag, before shared digests and referrers are considered."""
    if tag in protected:
        return ("keep", "matches keep")
    if keep_last is not None and tag in newest:
        return ("keep", f"one of the {keep_last} newest")
    if cutoff is not None and created is None:
        return ("keep", "creation time unknown")
    if cutoff is not None and created is not None and created >= cutoff:
        return ("keep", f"created after {cutoff:%Y-%m-%d %H:%M} UTC")
    if keep_last is None and cutoff is None:
        return ("keep", "no rule selects it (give keep_last or older_than)")
    if cutoff is not None:
        return ("delete", f"created before {cutoff:%Y-%m-%d %H:%M} UTC")
    return ("delete", f"not among the {keep_last} newest")


def _kept_images(ordered: list[str], by_tag: _TagInfo, decisions: _Decisions) -> dict[str, str]:
    """digest -> the first kept tag on it."""
    found: dict[str, str] = {}
    for tag in ordered:
        if decisions[tag][0] == "keep":
            found.setdefault(by_tag[tag][0], tag)
    return found


def _follow_subjects(
    ordered: list[str], by_tag: _TagInfo, decisions: _Decisions, protected: set[str]
) -> None:
    """Referrers listed under the tag schema (sha256-<hex>, cosign's .sig/.att)
    belong to their subject: they stay while it stays and go with it."""
    images_kept = _kept_images(ordered, by_tag, decisions)
    for tag in ordered:
        match = _REFERRERS_TAG.match(tag)
        if match and tag not in protected:
            subject = f"{match['algorithm']}:{match['hex']}"
            if subject in images_kept:
                decisions[tag] = ("keep", f"referrers of {images_kept[subject]}, which is kept")
            else:
                decisions[tag] = ("delete", "referrers of an image that is not kept")
