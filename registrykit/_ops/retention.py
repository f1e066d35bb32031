"""Retention rules over images, not tags: which to keep, delete or untag, as a ``Plan``.

The rules count and date *images* (digests): ``keep_last=2`` keeps the two
newest images with every tag on them, an index with all its platform
manifests. A digest a kept tag points to is never deleted: a tag the rules
would drop but whose image a ``keep`` match holds is *untagged* (only the tag
goes, via ``delete(untag_only=True)``). Referrers tags (``sha256-<hex>``)
follow their subject. ``plans.apply`` carries the plan out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

from .._client import Client, get_client
from .._model.reference import Reference, parse_repository
from .analysis import order_tags, referrers_subject
from .audit import blob_sizes
from .listing import ImageRecord, tag_records
from .plans import Plan, RetentionRow
from .sync import TagFilter, match_tags
from .untag import row_methods

__all__ = ["parse_age", "plan_retention"]

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class _Image:
    """One tagged manifest (an image, an index with its platforms, or an artifact)."""

    digest: str
    created: dt.datetime | None = None  # the trusted config (or index) time
    pushed: dt.datetime | None = None  # when the registry says it was last pushed
    size: dict[str, int] = field(default_factory=dict)  # per tag, summed over platforms
    blobs: dict[str, int] = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        return order_tags(self.size)

    @property
    def date(self) -> dt.datetime | None:
        return self.pushed or self.created

    def row(self, tag: str, action: str, reason: str) -> RetentionRow:
        return RetentionRow(
            tag=tag,
            digest=self.digest,
            date=self.date,
            size=self.size[tag],
            action=action,
            reason=reason,
            date_source="pushed" if self.pushed else "created" if self.created else None,
            created=self.created,
            pushed=self.pushed,
        )


_Decision = tuple[str, str]


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
    """Decide per image, then list per tag: keep, delete, or untag.

    Without ``keep_last`` or ``older_than`` nothing is selected for deletion.
    An image is dropped when it is not among the ``keep_last`` newest images
    and (with ``older_than``) is dated before the cutoff (``date``: when the
    registry says it was pushed, else its trusted ``created``); an image
    without a date is never dropped by the age rule and ranks last. Tags matching ``keep``
    (list, glob or regex) stay, and so does their image: its other tags are
    only untagged. Referrers tags are kept or deleted with their subject.
    Rows run newest image first, undated images last; each row carries
    ``date`` with its ``date_source`` (and ``created``, ``pushed``) and the
    ``method`` its removal would use (``untag.py``); ``plan.freed_bytes`` is
    what only the deleted images hold.
    """
    if keep_last is not None and keep_last < 0:
        raise ValueError("keep_last must be 0 or more")
    c = get_client(client)
    ref = repository if isinstance(repository, Reference) else parse_repository(repository)
    cutoff = (
        parse_age(older_than, now or dt.datetime.now(dt.UTC)) if older_than is not None else None
    )
    # manifests=True: freed_bytes needs each image's blobs (on Docker Hub, pulls).
    listed = tag_records(ref, include_attestations=True, manifests=True, client=c)
    images, by_subject = _images(listed)
    referrers = dict(by_subject)
    protected = set(match_tags([t for i in images for t in i.size], keep)) if keep else set()
    by_best = {image.tags[0]: image for image in images}
    newest = order_tags(by_best, {t: i.date for t, i in by_best.items()})
    rows: list[RetentionRow] = []
    for rank, best in enumerate(newest):
        image = by_best[best]
        action, reason = _rule(image.date, rank, keep_last, cutoff)
        image_rows = _tag_rows(image, action, reason, protected)
        gone = all(r.action == "delete" for r in image_rows)
        rows += image_rows + _follow(image, referrers.pop(image.digest, []), gone, protected)
    for orphans in referrers.values():
        rows += _follow(None, orphans, False, protected)
    manifests = images + [m for group in by_subject.values() for m in group]
    freed = _freed_bytes(manifests, rows)
    methods = row_methods(c, ref, [(r.tag, r.action) for r in rows])
    rows = [dataclasses.replace(r, method=m) for r, m in zip(rows, methods, strict=True)]
    return Plan("retention", rows, {"repository": ref.name}, freed_bytes=freed)


def _images(records: list[ImageRecord]) -> tuple[list[_Image], dict[str, list[_Image]]]:
    """The tagged manifests, and the referrers tags' manifests by subject digest."""
    by_digest: dict[str, _Image] = {}
    for r in records:
        if r.tag is None:
            continue
        image = by_digest.setdefault(r.digest, _Image(r.digest))
        image.created = _latest(image.created, r.created)
        image.pushed = _latest(image.pushed, r.pushed)
        image.size[r.tag] = image.size.get(r.tag, 0) + (0 if r.attestation else r.size)
        image.blobs.update(blob_sizes([r]))
    images: list[_Image] = []
    referrers: dict[str, list[_Image]] = {}
    for image in by_digest.values():
        subjects = {referrers_subject(t) for t in image.size}
        subject = subjects.pop() if len(subjects) == 1 else None
        if subject is not None:
            referrers.setdefault(subject, []).append(image)
        else:
            images.append(image)
    return images, referrers


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return a if b is None else b if a is None else max(a, b)


def _rule(
    date: dt.datetime | None, rank: int, keep_last: int | None, cutoff: dt.datetime | None
) -> _Decision:
    """The rules for one image (``rank`` 0 is the newest)."""
    if keep_last is not None and rank < keep_last:
        return ("keep", f"one of the {keep_last} newest images")
    if cutoff is not None and date is None:
        return ("keep", "no date: an age rule never deletes it")
    if cutoff is not None and date is not None and date >= cutoff:
        return ("keep", f"dated after {cutoff:%Y-%m-%d %H:%M} UTC")
    if keep_last is None and cutoff is None:
        return ("keep", "no rule selects it (give keep_last or older_than)")
    if cutoff is not None:
        return ("delete", f"dated before {cutoff:%Y-%m-%d %H:%M} UTC")
    return ("delete", f"not among the {keep_last} newest images")


def _tag_rows(image: _Image, action: str, reason: str, protected: set[str]) -> list[RetentionRow]:
    """Every tag of ``image``; a ``keep`` match holds the image, so the others are untagged."""
    held = [t for t in image.tags if t in protected]
    rows = []
    for tag in image.tags:
        if tag in held:
            decision = ("keep", "matches keep")
        elif action == "delete" and held:
            shared = f"digest shared with kept tag {held[0]}, so only the tag goes"
            decision = ("untag", f"{reason}; {shared}")
        else:
            decision = (action, reason)
        rows.append(image.row(tag, *decision))
    return rows


def _follow(
    subject: _Image | None, referrers: list[_Image], gone: bool, protected: set[str]
) -> list[RetentionRow]:
    """Referrers tags of ``subject``: kept while it stays, deleted with it."""
    if subject is None:
        decision = ("keep", "referrers of an image not tagged in this repository")
    elif gone:
        decision = ("delete", f"referrers of {subject.tags[0]}, deleted with it")
    else:
        decision = ("keep", f"referrers of {subject.tags[0]}, which is kept")
    rows = []
    for image in referrers:
        for tag in image.tags:
            own = ("keep", "matches keep") if tag in protected else decision
            rows.append(image.row(tag, *own))
    return rows


def _freed_bytes(manifests: list[_Image], rows: list[RetentionRow]) -> int:
    """Bytes of the blobs that only deleted manifests hold (shared blobs stay)."""
    staying = {r.digest for r in rows if r.action != "delete"}
    kept = {d for m in manifests if m.digest in staying for d in m.blobs}
    freed = {
        d: size
        for m in manifests
        if m.digest not in staying
        for d, size in m.blobs.items()
        if d not in kept
    }
    return sum(freed.values())
