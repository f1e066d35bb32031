"""The one copy algorithm: a manifest and everything it needs, store to store.

Registry→registry, registry→disk and disk→registry all run through here:

1. ``plan_transfer`` reads the source manifest (verified), and for an index
   each selected platform manifest (verified), and gathers their blobs;
2. ``run_transfer`` moves the blobs, up to ``Client.concurrency`` at once:
   present at the destination → skipped (a HEAD); same registry → mounted
   (no bytes move); otherwise streamed chunk by chunk from source to
   destination, never to a temp file and never whole in memory, and
   verified on both sides;
3. then the platform manifests, then the index or image manifest under each
   tag. Manifests go last so the destination never holds a manifest whose
   blobs are missing; a cut-off copy leaves only blobs behind, and running
   it again moves just what is still missing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .._client import Client
from .._model import mediatypes as mt
from .._model.digest import compute_digest, sized_chunks
from .._model.errors import (
    NotFound,
    RateLimited,
    RegistryKitError,
    RegistryUnavailable,
    Unsupported,
)
from .._model.manifest import Descriptor, Index, Manifest, Platform, parse_manifest
from .._model.platform import preferred_platform
from .._stores.base import BlobOpener, Store
from .._transport.retry import RetryPolicy

__all__ = ["TransferPlan", "TransferStats", "plan_transfer", "run_transfer"]

log = logging.getLogger(__name__)

# A throttled or overloaded upload is restarted under the same policy (and the
# same statuses) as the transport's request retries.
UPLOAD_RETRY = RetryPolicy()

# Below this many bytes to move, a progress bar is more noise than help.
PROGRESS_MIN_BYTES = 16 * 1024 * 1024

# Layers that live outside the registry (Windows base layers): copying them is
# neither needed nor usually allowed, which is why skopeo skips them too.
_FOREIGN_TYPES = frozenset({mt.DOCKER_FOREIGN_LAYER, mt.OCI_LAYER_NONDIST_GZIP})


@dataclass(frozen=True)
class ManifestDoc:
    raw: bytes
    media_type: str
    digest: str


@dataclass
class TransferPlan:
    """What a copy will write: blobs, then child manifests, then ``top``."""

    source_digest: str
    top: ManifestDoc
    children: list[ManifestDoc]
    blobs: list[Descriptor]
    platforms: list[str]

    @property
    def digest(self) -> str:
        return self.top.digest

    @property
    def digest_changed(self) -> bool:
        return self.top.digest != self.source_digest

    @property
    def size(self) -> int:
        return sum(b.size for b in self.blobs)


@dataclass
class TransferStats:
    bytes_copied: int = 0
    bytes_skipped: int = 0
    bytes_mounted: int = 0
    blobs_copied: int = 0
    blobs_skipped: int = 0
    blobs_mounted: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, how: str, size: int) -> None:
        with self._lock:
            setattr(self, f"bytes_{how}", getattr(self, f"bytes_{how}") + size)
            setattr(self, f"blobs_{how}", getattr(self, f"blobs_{how}") + 1)

    def merge(self, other: TransferStats) -> None:
        for how in ("copied", "skipped", "mounted"):
            for unit in ("bytes", "blobs"):
                name = f"{unit}_{how}"
                setattr(self, name, getattr(self, name) + getattr(other, name))


def plan_transfer(
    client: Client,
    src: Store,
    ref: str,
    *,
    platforms: Sequence[str | Platform] | None = None,
    platform: str | Platform | None = None,
    single_image: bool = False,
) -> TransferPlan:
    """Read (and verify) what copying ``ref`` from ``src`` involves.

    ``platforms`` keeps a subset of an index (a new index is written);
    ``platform`` (or ``single_image=True``, which picks linux/amd64 or the
    first platform) takes one platform's image manifest instead of the index.
    """
    raw, media_type, digest = src.manifest_get(ref)
    node = parse_manifest(raw, media_type, digest)
    top = ManifestDoc(raw, media_type, digest)
    if isinstance(node, Manifest):
        return TransferPlan(digest, top, [], _blobs_of([node]), [])
    if platform is not None or single_image:
        entry = node.select(platform or preferred_platform(node))
        plan = plan_transfer(client, src, entry.digest)
        plan.source_digest = digest
        plan.platforms = [str(entry.platform)] if entry.platform else []
        return plan
    entries = list(node.manifests)
    if platforms is not None:
        entries = _select(node, platforms)
        top = _subset_index(raw, media_type, entries)
    docs = client.map(lambda e: _get(src, e.digest), entries)
    children: list[ManifestDoc] = []
    manifests: list[Manifest] = []
    for doc in docs:
        child = parse_manifest(doc.raw, doc.media_type, doc.digest)
        if isinstance(child, Index):
            raise Unsupported(
                f"index {digest} nests another index ({doc.digest}); registrykit copies one "
                "level of index. Copy the nested index by digest first."
            )
        manifests.append(child)
        children.append(doc)
    names = [str(e.platform) for e in entries if e.platform is not None and not e.is_attestation]
    return TransferPlan(digest, top, children, _blobs_of(manifests), names)


def _get(src: Store, digest: str) -> ManifestDoc:
    raw, media_type, got = src.manifest_get(digest)
    return ManifestDoc(raw, media_type, got)


def _select(index: Index, wanted: Sequence[str | Platform]) -> list[Descriptor]:
    parsed = [Platform.parse(p) for p in wanted]
    if not parsed:
        raise ValueError("platforms= is empty; pass None for all platforms")
    missing = [
        str(p)
        for p in parsed
        if not any(
            e.platform and not e.is_attestation and p.matches(e.platform) for e in index.manifests
        )
    ]
    if missing:
        have = ", ".join(str(p) for p in index.platforms) or "none"
        raise NotFound(
            f"platform {', '.join(missing)} is not in index {index.digest}; it has: {have}"
        )
    return [
        e
        for e in index.manifests
        if e.platform is not None
        and not e.is_attestation
        and any(p.matches(e.platform) for p in parsed)
    ]


def _subset_index(raw: bytes, media_type: str, entries: Sequence[Descriptor]) -> ManifestDoc:
    """The source index with only ``entries`` left, every other field kept as it was."""
    doc: dict[str, Any] = json.loads(raw)
    keep = {e.digest for e in entries}
    doc["manifests"] = [m for m in doc.get("manifests") or () if m.get("digest") in keep]
    if len(doc["manifests"]) == len(json.loads(raw).get("manifests") or ()):
        return ManifestDoc(raw, media_type, compute_digest(raw))  # nothing dropped: same bytes
    new_raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return ManifestDoc(new_raw, media_type, compute_digest(new_raw))


def _blobs_of(manifests: Iterable[Manifest]) -> list[Descriptor]:
    seen: dict[str, Descriptor] = {}
    for m in manifests:
        for blob in m.blobs():
            if blob.media_type in _FOREIGN_TYPES and blob.urls:
                continue
            seen.setdefault(blob.digest, blob)
    # Largest first: the long transfers start early and small ones fill the gaps.
    return sorted(seen.values(), key=lambda d: -d.size)


# -- running ------------------------------------------------------------------


class _Progress:
    """Two tqdm.auto bars (bytes and blobs), or nothing for small transfers."""

    def __init__(self, total_bytes: int, total_blobs: int, desc: str, enabled: bool | None) -> None:
        self._bars: list[Any] = []
        show = enabled if enabled is not None else total_bytes >= PROGRESS_MIN_BYTES
        if not show:
            return
        from tqdm.auto import tqdm

        self._bars = [
            tqdm(
                total=total_bytes,
                desc=desc,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                leave=False,
            ),
            tqdm(total=total_blobs, desc="blobs", unit="blob", leave=False),
        ]

    def bytes(self, n: int) -> None:
        if self._bars:
            self._bars[0].update(n)

    def blob(self) -> None:
        if self._bars:
            self._bars[1].update(1)

    def close(self) -> None:
        for bar in self._bars:
            bar.close()


def run_transfer(
    client: Client,
    plan: TransferPlan,
    src: Store,
    dst: Store,
    tags: Sequence[str],
    *,
    progress: bool | None = None,
) -> TransferStats:
    """Write ``plan`` into ``dst`` under ``tags`` (or by digest when empty)."""
    stats = TransferStats()
    bar = _Progress(plan.size, len(plan.blobs), dst.describe(), progress)
    try:

        def move(blob: Descriptor) -> None:
            try:
                how = _move_blob(src, dst, blob, bar.bytes)
            except RegistryUnavailable as exc:
                raise _interrupted(exc, blob, src, dst, stats) from exc
            if how != "copied":
                bar.bytes(blob.size)
            bar.blob()
            stats.add(how, blob.size)

        client.map(move, plan.blobs)
        for child in plan.children:
            dst.manifest_put(child.digest, child.raw, child.media_type)
        for tag in tags or [plan.top.digest]:
            dst.manifest_put(tag, plan.top.raw, plan.top.media_type, top=True)
    finally:
        bar.close()
    return stats


def _interrupted(
    exc: RegistryUnavailable, blob: Descriptor, src: Store, dst: Store, stats: TransferStats
) -> RegistryUnavailable:
    done = stats.blobs_copied + stats.blobs_skipped + stats.blobs_mounted
    return RegistryUnavailable(
        f"the copy from {src.describe()} to {dst.describe()} was cut off while moving blob "
        f"{blob.digest[:19]}… ({blob.size} bytes): {exc} No manifest was written, so the "
        f"destination holds no incomplete image. Run the same copy again: the {done} blob(s) "
        "already there are skipped and only the rest move.",
        status=exc.status,
        errors=exc.errors,
        url=exc.url,
    )


def _move_blob(src: Store, dst: Store, blob: Descriptor, advance: Callable[[int], None]) -> str:
    if dst.blob_exists(blob.digest):
        return "skipped"
    if dst.blob_mount(blob.digest, src):
        return "mounted"

    @contextmanager
    def opener() -> Iterator[Iterable[bytes]]:
        with src.blob_open(blob.digest) as chunks:
            # The declared size bounds what any store may hand over.
            what = f"blob {blob.digest[:19]}… of {src.describe()}"
            yield _tap(sized_chunks(chunks, blob.size, what), advance)

    _put_with_retry(dst, blob, opener)
    return "copied"


def _put_with_retry(dst: Store, blob: Descriptor, opener: BlobOpener) -> None:
    """``blob_put``, waiting out retryable answers (429, 502-504) to the upload itself.

    The transport retries replayable requests; a streamed upload body is not
    replayable there, so it is restarted here, from a freshly opened source.
    A dropped connection (no HTTP status) is not retried: it surfaces as a
    clear error and a re-run moves only the blobs still missing.
    """
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            dst.blob_put(blob.digest, blob.size, opener)
            return
        except RegistryKitError as exc:
            if exc.status is None or not exc.retryable:
                raise
            delay = _retry_delay(exc, attempt)
            if not UPLOAD_RETRY.allows(attempt, waited, delay):
                raise
            log.debug(
                "upload of %s throttled (%s); retrying in %.1fs", blob.digest, exc.status, delay
            )
            time.sleep(delay)
            waited += delay


def _retry_delay(exc: RegistryKitError, attempt: int) -> float:
    reset = exc.reset if isinstance(exc, RateLimited) else None
    return UPLOAD_RETRY.delay(attempt, reset)


def _tap(chunks: Iterable[bytes], advance: Callable[[int], None]) -> Iterator[bytes]:
    for chunk in chunks:
        advance(len(chunk))
        yield chunk
