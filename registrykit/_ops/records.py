"""Tags resolved to records: the per-tag work of every registry listing.

``Resolver`` turns one repository's tags into ``ImageRecord`` rows,
fetching each manifest and config digest once across the client's workers.
A listing of ten thousand tags keeps only what its rows need
(``ConfigFacts``, not whole configs; finished fetches without a Future
each; equal layers, platforms and media types shared), so it stays within a
notebook's memory.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from .._model.manifest import Descriptor, ImageConfig, Index, Manifest, Platform
from .._model.platform import platform_matches
from .._registry.api import RegistryClient
from .webapis import trusted_time

__all__ = ["ConfigFacts", "ImageRecord", "Resolver"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One tag on one platform (or one artifact): what the listings show."""

    repository: str
    tag: str | None
    digest: str
    media_type: str
    platform: str | None
    image_digest: str
    created: dt.datetime | None
    size: int
    layers: tuple[Descriptor, ...]
    config_digest: str | None
    artifact_type: str | None = None
    attestation: bool = False
    pushed: dt.datetime | None = None  # when the registry says the tag was last pushed

    @property
    def date(self) -> dt.datetime | None:
        """The time listings order and age rules filter by: ``pushed``, else ``created``."""
        return self.pushed or self.created

    @property
    def date_source(self) -> str | None:
        """``"pushed"``, ``"created"`` or None: where ``date`` came from."""
        return "pushed" if self.pushed else "created" if self.created else None


class _Once:
    """Fetch each key once, however many threads ask for it at the same time.

    A finished value is kept bare (no Future, lock or condition per key):
    a listing of ten thousand tags holds ten thousand of them; with
    ``keep=False`` it is not kept at all, only shared with those who asked
    while it was fetched. A failure stays a failed Future, so later askers
    get the same error without a second request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, Any] = {}
        self._pending: dict[str, Future[Any]] = {}

    def get(self, key: str, fetch: Callable[[], T], *, keep: bool = True) -> T:
        with self._lock:
            if key in self._done:
                found: T = self._done[key]
                return found
            future = self._pending.get(key)
            owner = future is None
            if future is None:
                future = self._pending[key] = Future()
        if not owner:
            waited: T = future.result()
            return waited
        try:
            value = fetch()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        with self._lock:
            if keep:
                self._done[key] = value
            del self._pending[key]
        future.set_result(value)
        return value


@dataclass(frozen=True, slots=True)
class ConfigFacts:
    """What a listing keeps of an image config: a full one can be many KiB, times every tag."""

    platform: Platform
    created: dt.datetime | None


class _Shared:
    """One object for equal values across a listing's records.

    Tags of one repository share base layers, platforms and media types;
    ten thousand records need not hold ten thousand equal copies of each.
    Only plain descriptors (no annotations, URLs or platform) are shared, so
    a shared object is always equal to the one it replaces.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._descriptors: dict[tuple[str, str, int], Descriptor] = {}
        self._layers: dict[tuple[tuple[str, str, int], ...], tuple[Descriptor, ...]] = {}
        self._platforms: dict[Platform, Platform] = {}

    def layers(self, layers: tuple[Descriptor, ...]) -> tuple[Descriptor, ...]:
        if not all(_plain(d) for d in layers):
            return layers
        key = tuple((d.digest, d.media_type, d.size) for d in layers)
        with self._lock:
            found = self._layers.get(key)
            if found is None:
                found = tuple(
                    self._descriptors.setdefault(k, d) for k, d in zip(key, layers, strict=True)
                )
                self._layers[key] = found
            return found

    def platform(self, platform: Platform) -> Platform:
        with self._lock:
            return self._platforms.setdefault(platform, platform)


def _plain(d: Descriptor) -> bool:
    return not (d.annotations or d.urls or d.platform or d.artifact_type)


class Resolver:
    """One repository's tags resolved to records, each manifest and config digest fetched once.

    ``warm`` (this cache listed the repository before) resolves a tag with a
    HEAD and reads what it names from the digest cache; cold GETs the tag's
    manifest directly, since a HEAD could not save anything yet. ``want``
    keeps one platform's records; attestations are records only with
    ``include_attestations``.
    """

    def __init__(
        self,
        registry: RegistryClient,
        repo: str,
        *,
        warm: bool,
        want: Platform | None,
        include_attestations: bool,
    ) -> None:
        self._registry = registry
        self._repo = repo
        self._warm = warm
        self._want = want
        self._attestations = include_attestations
        self._once = _Once()
        self._shared = _Shared()

    def manifest(self, digest: str, *, keep: bool = True) -> Manifest | Index:
        fetch = partial(self._registry.manifest, self._repo, digest)
        return self._once.get(digest, fetch, keep=keep)

    def config(self, digest: str) -> ConfigFacts:
        def fetch() -> ConfigFacts:
            config = ImageConfig.parse(self._registry.blob(self._repo, digest))
            return ConfigFacts(self._shared.platform(config.platform), trusted_time(config.created))

        return self._once.get(digest, fetch)

    def records(self, tag: str, pushed: dt.datetime | None = None) -> list[ImageRecord]:
        """The tag's records (none when it is gone), with ``pushed`` as the vendor dated it."""
        if self._warm:
            head = self._registry.head_manifest(self._repo, tag)
            if head is None:
                return []  # deleted between the tag list and now
            # Not kept: every tag's document (raw bytes included) would stay to
            # the end; a sibling tag asking later reads the digest cache.
            top = self.manifest(head.digest, keep=False)
        else:
            top = self._registry.manifest(self._repo, tag)
        if isinstance(top, Manifest):
            config = self.config(top.config.digest) if top.is_image else None
            platform = config.platform if config else None
            if not platform_matches(self._want, platform):
                return []
            return [self._record(tag, top, top, config, platform, top.annotations, pushed)]
        out = []
        for entry in top.manifests:
            if entry.is_attestation and not self._attestations:
                continue
            platform = entry.platform
            if not platform_matches(self._want, platform):
                continue  # not fetched: another platform's manifest and config
            child = self.manifest(entry.digest)
            if not isinstance(child, Manifest):
                continue
            config = self.config(child.config.digest) if child.is_image else None
            stamped = {**top.annotations, **entry.annotations}  # the entry's own stamp wins
            record = self._record(tag, top, child, config, platform, stamped, pushed)
            out.append(record if not entry.is_attestation else _as_attestation(record))
        return out

    def _record(
        self,
        tag: str | None,
        top: Manifest | Index,
        manifest: Manifest,
        config: ConfigFacts | None,
        platform: Platform | None,
        annotations: Mapping[str, str],
        pushed: dt.datetime | None,
    ) -> ImageRecord:
        # A build tool's index annotation is a better build time than a config
        # that reproducible builders stamp with a fixed fake date.
        stamped = trusted_time(annotations.get("org.opencontainers.image.created"))
        shown = sys.intern(str(platform)) if platform and manifest.is_image else None
        return ImageRecord(
            repository=self._repo,
            tag=tag,
            digest=top.digest,
            media_type=sys.intern(top.media_type),
            platform=shown,
            image_digest=manifest.digest,
            created=stamped or (config.created if config else None),
            size=manifest.size,
            layers=self._shared.layers(manifest.layers),
            config_digest=manifest.config.digest,
            artifact_type=None
            if manifest.is_image
            else (manifest.artifact_type or manifest.config.media_type),
            pushed=pushed,
        )


def _as_attestation(record: ImageRecord) -> ImageRecord:
    return replace(record, attestation=True, platform="unknown/unknown")
