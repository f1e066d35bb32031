"""Resolve tags and images to what they contain: the core of every listing.

A repository listing costs one tag list, one HEAD per tag, and then one GET
per *distinct* manifest and config digest, fanned out over the client's
thread pool. Manifests and configs come from the digest cache when they were
seen before, so a second look costs the tag list and the HEADs.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from .._client import Client
from .._model.errors import NotFound
from .._model.manifest import Descriptor, ImageConfig, Index, Manifest, Platform
from .._model.reference import Reference, parse_reference, parse_repository
from .._registry.api import RegistryClient

T = TypeVar("T")

# More requests than this get a progress bar.
PROGRESS_THRESHOLD = 16


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ResolvedImage:
    """A reference resolved down to one platform's manifest and config."""

    reference: Reference
    digest: str
    media_type: str
    manifest: Manifest
    config: ImageConfig | None
    index: Index | None = None

    @property
    def image_digest(self) -> str:
        return self.manifest.digest


def progress(total: int, desc: str, unit: str = "req") -> Callable[[int], None]:
    """A tqdm.auto bar when ``total`` is large enough to be worth one."""
    if total <= PROGRESS_THRESHOLD:
        return lambda _n: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return advance


def fetch_config(
    registry: RegistryClient, repository: str, manifest: Manifest
) -> ImageConfig | None:
    if not manifest.is_image:
        return None
    return ImageConfig.parse(registry.blob(repository, manifest.config.digest))


def resolve_image(
    client: Client, image: str | Reference, platform: str | Platform | None = None
) -> ResolvedImage:
    """A tag or digest down to one image: the given platform, or the host's usual one.

    For an index without ``platform``, linux/amd64 is chosen when present,
    else the first image entry.
    """
    ref = image if isinstance(image, Reference) else parse_reference(image)
    registry = client.registry(ref)
    top = registry.manifest(ref.repository, ref.identifier)
    index = top if isinstance(top, Index) else None
    if isinstance(top, Index):
        entry = top.select(platform or _preferred(top))
        child = registry.manifest(ref.repository, entry.digest)
        if not isinstance(child, Manifest):
            raise ValueError(f"{ref}: nested indexes are not supported")
        manifest = child
    else:
        manifest = top
    return ResolvedImage(
        reference=ref,
        digest=top.digest,
        media_type=top.media_type,
        manifest=manifest,
        config=fetch_config(registry, ref.repository, manifest),
        index=index,
    )


def _preferred(index: Index) -> Platform:
    platforms = index.platforms
    for p in platforms:
        if (p.os, p.architecture) == ("linux", "amd64"):
            return p
    if not platforms:
        from .._model.errors import NotFound

        raise NotFound(f"index {index.digest} has no image entries")
    return platforms[0]


class _Once:
    """Fetch each key once, however many threads ask for it at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}

    def get(self, key: str, fetch: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(fetch())
            except BaseException as exc:
                future.set_exception(exc)
        result: T = future.result()
        return result


def tag_records(
    client: Client,
    repository: str | Reference,
    *,
    tags: Iterable[str] | None = None,
    platform: str | Platform | None = None,
    include_attestations: bool = False,
) -> list[ImageRecord]:
    """One record per tag and platform of ``repository``, in tag-list order.

    Each tag is resolved start to finish by one worker (no phase barriers),
    and each manifest and config digest is fetched once across workers. A
    repository this cache has listed before is resolved with HEADs, so
    unchanged tags cost nothing more; a first listing GETs each tag's
    manifest directly, because a HEAD could not save anything yet.
    """
    ref = repository if isinstance(repository, Reference) else parse_repository(repository)
    registry = client.registry(ref)
    repo = ref.repository
    names = list(tags) if tags is not None else registry.tags(repo)
    want = Platform.parse(platform) if platform else None
    seen_key = f"listed:{registry.host}/{repo}"
    warm = client.cache.has_marker(seen_key)
    once = _Once()
    advance = progress(len(names), f"resolving {repo}")

    def manifest(digest: str) -> Manifest | Index:
        return once.get(digest, lambda: registry.manifest(repo, digest))

    def config(digest: str) -> ImageConfig:
        return once.get(digest, lambda: ImageConfig.parse(registry.blob(repo, digest)))

    def resolve(tag: str) -> list[ImageRecord]:
        try:
            if warm:
                head = registry.head_manifest(repo, tag)
                if head is None:
                    return []  # deleted between the tag list and now
                top = manifest(head.digest)
            else:
                top = registry.manifest(repo, tag)
            manifests: dict[str, Manifest | Index] = {top.digest: top}
            if isinstance(top, Index):
                for entry in top.manifests:
                    if include_attestations or not entry.is_attestation:
                        manifests[entry.digest] = manifest(entry.digest)
            configs = {
                m.config.digest: config(m.config.digest)
                for m in manifests.values()
                if isinstance(m, Manifest) and m.is_image
            }
            return _records_for(repo, tag, top, manifests, configs, want, include_attestations)
        except NotFound:
            return []  # the tag went away while we listed
        finally:
            advance(1)

    records = [record for batch in client.map(resolve, names) for record in batch]
    client.cache.set_marker(seen_key)
    return records


def image_records(
    client: Client, image: str | Reference, *, include_attestations: bool = False
) -> list[ImageRecord]:
    """Records for one tag or digest (one per platform)."""
    ref = image if isinstance(image, Reference) else parse_reference(image)
    registry = client.registry(ref)
    top = registry.manifest(ref.repository, ref.identifier)
    manifests: dict[str, Manifest | Index] = {top.digest: top}
    if isinstance(top, Index):
        entries = [e.digest for e in top.manifests if include_attestations or not e.is_attestation]
        manifests.update(
            zip(
                entries,
                client.map(lambda d: registry.manifest(ref.repository, d), entries),
                strict=True,
            )
        )
    configs = {
        m.config.digest: ImageConfig.parse(registry.blob(ref.repository, m.config.digest))
        for m in manifests.values()
        if isinstance(m, Manifest) and m.is_image
    }
    return _records_for(
        ref.repository, ref.tag, top, manifests, configs, None, include_attestations
    )


def _records_for(
    repository: str,
    tag: str | None,
    top: Manifest | Index,
    manifests: dict[str, Manifest | Index],
    configs: dict[str, ImageConfig],
    want: Platform | None,
    include_attestations: bool,
) -> list[ImageRecord]:
    if isinstance(top, Manifest):
        config = configs.get(top.config.digest)
        platform = config.platform if config else None
        if want is not None and (platform is None or not want.matches(platform)):
            return []
        return [_record(repository, tag, top, top, config, platform)]
    out = []
    for entry in top.manifests:
        if entry.is_attestation and not include_attestations:
            continue
        child = manifests.get(entry.digest)
        if not isinstance(child, Manifest):
            continue
        platform = entry.platform
        if want is not None and (platform is None or not want.matches(platform)):
            continue
        record = _record(repository, tag, top, child, configs.get(child.config.digest), platform)
        out.append(record if not entry.is_attestation else _as_attestation(record))
    return out


def _record(
    repository: str,
    tag: str | None,
    top: Manifest | Index,
    manifest: Manifest,
    config: ImageConfig | None,
    platform: Platform | None,
) -> ImageRecord:
    return ImageRecord(
        repository=repository,
        tag=tag,
        digest=top.digest,
        media_type=top.media_type,
        platform=str(platform) if platform and manifest.is_image else None,
        image_digest=manifest.digest,
        created=config.created if config else None,
        size=manifest.size,
        layers=manifest.layers,
        config_digest=manifest.config.digest,
        artifact_type=None
        if manifest.is_image
        else (manifest.artifact_type or manifest.config.media_type),
    )


def _as_attestation(record: ImageRecord) -> ImageRecord:
    from dataclasses import replace

    return replace(record, attestation=True, platform="unknown/unknown")
