"""Analyses over resolved images: tag kinds, histories, layers, diffs, audits.

Everything here returns plain records (dicts or dataclasses) so the core
stays free of pandas; ``registrykit.frames`` turns them into typed frames.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._client import Client, get_client
from .._model.manifest import Descriptor, HistoryEntry, Platform
from .._model.platform import choose_platform
from .._model.reference import Reference
from .listing import ImageRecord, ResolvedImage, tag_records
from .progress import ProgressArg

__all__ = [
    "classify_tag",
    "diff_records",
    "history_records",
    "layer_records",
    "order_tags",
    "referrers_subject",
    "tag_history_records",
    "tag_report_records",
]

# -- tag kinds --------------------------------------------------------------------

TAG_KINDS = ("semver", "git-sha", "date", "latest", "stable", "other")

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_GIT_SHA = re.compile(r"^(?:sha-|g)?[0-9a-f]{7,40}$")
_DATES = (
    re.compile(r"^(?:19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[T_.-][\w.:-]*)?$"),
    re.compile(r"^(?:19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:[T_.-]?\d{4,6})?$"),
    re.compile(r"^(?:19|20)\d\d\.(0[1-9]|1[0-2])\.(0[1-9]|[12]\d|3[01])$"),
)


def classify_tag(tag: str) -> str:
    """``semver``, ``git-sha``, ``date``, ``latest``, ``stable`` or ``other``.

    Semver accepts a leading ``v`` and partial versions (``1``, ``1.2``,
    ``v1.2.3-rc.1``) since image tags commonly float at those levels. Dates
    win over git SHAs and semver for all-digit tags such as ``20240115``;
    a hex string must contain a letter to count as a SHA unless it is at
    least 12 characters long (``1234567`` is more likely a build number).
    """
    lowered = tag.lower()
    if lowered == "latest":
        return "latest"
    if lowered == "stable":
        return "stable"
    if any(p.match(tag) for p in _DATES):
        return "date"
    if _GIT_SHA.match(tag):
        hexpart = tag.removeprefix("sha-").removeprefix("g")
        if not hexpart.isdigit() or len(hexpart) >= 12:
            return "git-sha"
    if _SEMVER.match(tag):
        return "semver"
    return "other"


def semver_key(tag: str) -> tuple[int, int, int, int, str] | None:
    """A sort key for semver tags (a release sorts after its pre-releases)."""
    return _semver_key(tag, classify_tag(tag))


def _semver_key(tag: str, kind: str) -> tuple[int, int, int, int, str] | None:
    m = _SEMVER.match(tag) if kind == "semver" else None
    if not m:
        return None
    major, minor, patch, pre = m.group(1), m.group(2), m.group(3), m.group(4)
    return (int(major), int(minor or 0), int(patch or 0), 0 if pre else 1, pre or "")


# -- the one tag order ------------------------------------------------------------

# Referrers-scheme tags (OCI's fallback, cosign's .sig/.att/.sbom) name their subject.
_REFERRERS_TAG = re.compile(
    r"^(?P<algorithm>sha256|sha512)-(?P<hex>[0-9a-f]{64}|[0-9a-f]{128})(\.\w+)?$"
)
# "Best first" among tags of equal date: versions, then the moving names, then the rest.
_KIND_RANK = {"semver": 0, "latest": 1, "stable": 2, "date": 3, "other": 4, "git-sha": 5}


def referrers_subject(tag: str) -> str | None:
    """The digest a referrers-scheme tag (``sha256-<hex>``, ``.sig``, ``.att``) belongs to."""
    match = _REFERRERS_TAG.match(tag)
    return f"{match['algorithm']}:{match['hex']}" if match else None


def _natural_key(tag: str) -> tuple[tuple[int, int, str], ...]:
    # "v10" after "v9": digit runs compare as numbers.
    parts = re.split(r"(\d+)", tag)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts if p)


def _version(tag: str, kind: str) -> tuple[int | str, ...]:
    if kind == "semver":
        return _semver_key(tag, kind) or ()
    if kind == "date":
        return tuple(int(p) for p in re.findall(r"\d+", tag))
    return ()


def order_tags(
    tags: Iterable[str], dates: Mapping[str, dt.datetime | None] | None = None
) -> list[str]:
    """Tags in registrykit's one order, newest first; every listing uses it.

    With ``dates``: newest date first, tags without a date last. Ties (and
    all tags when no dates are given) go by version: semver tags, highest
    first; then ``latest``, ``stable``, date tags (newest first), other
    names, git SHAs, each kind in natural order (``v9`` before ``v10``);
    referrers tags (``sha256-<hex>``) come last, they are not the user's tags.
    The registry's storage order never shows through.
    """
    names = sorted(set(tags), key=lambda t: (_natural_key(t), t))
    kinds = {t: classify_tag(t) for t in names}  # once per tag: ten thousand tags are common
    # Stable sorts, least significant key first.
    names.sort(key=lambda t: _version(t, kinds[t]), reverse=True)
    names.sort(key=lambda t: (referrers_subject(t) is not None, _KIND_RANK[kinds[t]]))
    if dates is not None:
        names.sort(key=lambda t: _newest_first(dates.get(t)))
    return names


def _newest_first(when: dt.datetime | None) -> tuple[int, float]:
    return (1, 0.0) if when is None else (0, -when.timestamp())


def tag_report_records(
    repository: str | Reference,
    *,
    client: Client | None = None,
    progress: ProgressArg = None,
) -> list[dict[str, Any]]:
    """The usual tagging strategy of ``repository`` checked: ``check, passed, detail`` rows.

    Only the tags the checks compare (``latest``, ``stable`` and semver tags)
    are resolved; the rest are only counted by kind.
    """
    c = get_client(client)
    ref = c.reference(repository, repository=True)
    names = c.registry(ref).tags(ref.repository)
    wanted = [t for t in names if t in ("latest", "stable") or semver_key(t)]
    records = tag_records(ref, tags=wanted, progress=progress, client=c)
    return _report_rows(records, names)


def _report_rows(records: Sequence[ImageRecord], names: Sequence[str]) -> list[dict[str, Any]]:
    # Referrers tags (signatures, SBOMs) are tooling's, not a tagging choice to check.
    tags = [t for t in names if referrers_subject(t) is None]
    referrers = len(names) - len(tags)
    kinds = {t: classify_tag(t) for t in tags}
    semvers = sorted(
        (t for t, k in kinds.items() if k == "semver"),
        key=lambda t: semver_key(t) or (0, 0, 0, 0, ""),
    )
    releases = [t for t in semvers if "-" not in t.lstrip("v")]
    newest = (releases or semvers)[-1] if semvers else None
    digest_of = {r.tag: r.digest for r in records}
    rows: list[dict[str, Any]] = []
    rows.append(
        {
            "check": "semver tags present",
            "passed": bool(semvers),
            "detail": f"{len(semvers)} of {len(tags)} tags are semver"
            + (f", newest {newest}" if newest else ""),
        }
    )
    if "latest" not in kinds:
        latest_ok, detail = False, "no latest tag"
    elif newest is None:
        latest_ok, detail = False, "latest exists but there is no semver tag to compare"
    else:
        latest_ok = digest_of.get("latest") == digest_of.get(newest)
        same = [t for t in semvers if digest_of.get(t) == digest_of.get("latest")]
        detail = (
            f"latest = {newest}"
            if latest_ok
            else f"latest is not {newest}" + (f" (it is {', '.join(same)})" if same else "")
        )
    rows.append({"check": "latest on newest semver", "passed": latest_ok, "detail": detail})
    stable = "stable" in kinds
    rows.append(
        {
            "check": "stable present",
            "passed": stable,
            "detail": "stable tag present" if stable else "no stable tag",
        }
    )
    counts = {k: sum(1 for v in kinds.values() if v == k) for k in TAG_KINDS}
    rows.append(
        {
            "check": "tag kinds",
            "passed": counts["other"] == 0,
            "detail": ", ".join(f"{k}: {n}" for k, n in counts.items() if n)
            + (f" ({referrers} referrers tags not counted)" if referrers else ""),
        }
    )
    return rows


# -- one image: history, layers, diff ----------------------------------------------


def history_records(image: ResolvedImage) -> list[dict[str, Any]]:
    """Config history steps with the layer each non-empty step made.

    Non-empty steps take the manifest's layers in order; empty steps (ENV,
    LABEL, CMD...) get size 0 and no digest. Layers beyond the history (some
    builders write none) get steps with an empty ``created_by``.
    """
    layers = list(image.manifest.layers)
    history: list[HistoryEntry] = list(image.config.history) if image.config else []
    rows: list[dict[str, Any]] = []
    cumulative = 0
    next_layer = 0
    for step, h in enumerate(history):
        layer: Descriptor | None = None
        if not h.empty_layer and next_layer < len(layers):
            layer = layers[next_layer]
            next_layer += 1
        size = layer.size if layer else 0
        cumulative += size
        rows.append(
            {
                "step": step,
                "created": h.created,
                "created_by": h.created_by,
                "empty_layer": layer is None,
                "layer_digest": layer.digest if layer else None,
                "size": size,
                "cumulative_size": cumulative,
            }
        )
    for layer in layers[next_layer:]:
        cumulative += layer.size
        rows.append(
            {
                "step": len(rows),
                "created": None,
                "created_by": "",
                "empty_layer": False,
                "layer_digest": layer.digest,
                "size": layer.size,
                "cumulative_size": cumulative,
            }
        )
    return rows


def layer_records(image: ResolvedImage) -> list[dict[str, Any]]:
    """One row per layer, ``index`` from 0; ``percent`` is of the image's layer bytes
    (config excluded), to one decimal."""
    created_by = {
        r["layer_digest"]: r["created_by"] for r in history_records(image) if r["layer_digest"]
    }
    layers = image.manifest.layers
    total = sum(d.size for d in layers)
    return [
        {
            "index": i,
            "digest": d.digest,
            "media_type": d.media_type,
            "size": d.size,
            # One decimal: more digits are noise in a table people read.
            "percent": round(100.0 * d.size / total, 1) if total else 0.0,
            "created_by": created_by.get(d.digest, ""),
        }
        for i, d in enumerate(layers)
    ]


def diff_records(a: ResolvedImage, b: ResolvedImage) -> list[dict[str, Any]]:
    """Layers of ``b`` against ``a``: a's layers (removed or common), then b's new ones."""
    in_a = {d.digest for d in a.manifest.layers}
    in_b = {d.digest for d in b.manifest.layers}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in a.manifest.layers:
        if d.digest not in seen:
            seen.add(d.digest)
            status = "common" if d.digest in in_b else "removed"
            rows.append({"digest": d.digest, "size": d.size, "status": status})
    for d in b.manifest.layers:
        if d.digest not in seen and d.digest not in in_a:
            seen.add(d.digest)
            rows.append({"digest": d.digest, "size": d.size, "status": "added"})
    return rows


# -- one repository: tag history ----------------------------------------------------


def _one_per_tag(records: Sequence[ImageRecord]) -> list[ImageRecord]:
    """For each tag, its linux/amd64 image, else its first image (artifacts left out)."""
    by_tag: dict[str | None, list[ImageRecord]] = {}
    for r in records:
        if r.platform is not None and not r.attestation:
            by_tag.setdefault(r.tag, []).append(r)
    chosen = []
    for rows in by_tag.values():
        platforms = [Platform.parse(r.platform) for r in rows if r.platform is not None]
        best = choose_platform(platforms)
        chosen.append(rows[platforms.index(best)] if best is not None else rows[0])
    return chosen


def tag_history_records(records: Sequence[ImageRecord]) -> list[dict[str, Any]]:
    """One row per image (digest), oldest to newest, each against the one before.

    ``tags`` holds all the image's tags in ``order_tags`` order and ``tag`` the
    first of them, so a change is credited to the image, not to whichever of
    its tags sorts first. Rows go by ``date`` (pushed, else created); images
    without one come last. Pass
    records of one platform (``tag_records(..., platform=)``) or all of them;
    with several platforms per tag, linux/amd64 (else the first) is used.
    """
    images: dict[str, list[ImageRecord]] = {}
    for r in _one_per_tag(records):
        images.setdefault(r.digest, []).append(r)
    tags_of = {d: order_tags(r.tag or "" for r in rows) for d, rows in images.items()}
    digest_of = {tags[0]: d for d, tags in tags_of.items()}
    newest_first = order_tags(digest_of, {t: images[d][0].date for t, d in digest_of.items()})
    dated = [t for t in newest_first if images[digest_of[t]][0].date is not None]
    undated = [t for t in newest_first if images[digest_of[t]][0].date is None]
    rows: list[dict[str, Any]] = []
    previous: ImageRecord | None = None
    for best in dated[::-1] + undated[::-1]:
        r = images[digest_of[best]][0]
        layers = {d.digest for d in r.layers}
        before = {d.digest for d in previous.layers} if previous else None
        rows.append(
            {
                "tag": best,
                "tags": tags_of[r.digest],
                "created": r.created,
                "pushed": r.pushed,
                "date": r.date,
                "date_source": r.date_source,
                "digest": r.digest,
                "size": r.size,
                "size_change": r.size - previous.size if previous else None,
                "layers": len(r.layers),
                "layers_added": len(layers - before) if before is not None else len(layers),
                "layers_removed": len(before - layers) if before is not None else 0,
            }
        )
        previous = r
    return rows
