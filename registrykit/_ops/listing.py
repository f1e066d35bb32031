"""Resolve tags and images to what they contain: the core of every listing.

A repository listing costs one tag list, one HEAD per tag, and then one GET
per *distinct* manifest and config digest, fanned out over the client's
thread pool. Manifests and configs come from the digest cache when they were
seen before, so a second look costs the tag list and the HEADs.

One image is read from any Store: ``oci:DIR[:TAG]``, ``docker-archive:PATH[:TAG]``
or a registry reference (``open_image``), so ``inspect``, ``history``,
``layers``, ``files`` and the rest look at a pulled copy the same way.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .._client import Client, get_client
from .._model.errors import NotFound, Unsupported
from .._model.hosts import DOCKER_HUB
from .._model.manifest import (
    UNKNOWN_PLATFORM,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    parse_manifest,
)
from .._model.platform import platform_matches, preferred_platform
from .._model.reference import Reference, digest_problem
from .._registry.session import MAX_CONFIG_SIZE
from .._stores.archive import ArchiveReader
from .._stores.base import Store
from .._stores.layout import LayoutStore
from .._stores.open import Location, open_store, parse_location
from .._stores.registry import RegistryStore
from .progress import ProgressArg, bar
from .vendordates import names_and_pushed
from .webapis import hub_platform, hub_pushed, hub_tags, trusted_time

__all__ = [
    "ImageRecord",
    "ImageSource",
    "ResolvedImage",
    "open_image",
    "resolve_image",
    "resolve_source",
    "tag_records",
]

T = TypeVar("T")


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
    pushed: dt.datetime | None = None  # when the registry says the tag was last pushed

    @property
    def date(self) -> dt.datetime | None:
        """The time listings order and age rules filter by: ``pushed``, else ``created``."""
        return self.pushed or self.created

    @property
    def date_source(self) -> str | None:
        """``"pushed"``, ``"created"`` or None: where ``date`` came from."""
        return "pushed" if self.pushed else "created" if self.created else None


@dataclass(frozen=True)
class ImageSource:
    """An image location opened: its Store, the tag or digest in it, a name to show.

    ``name`` is ``host/repository`` for a registry and ``oci:DIR`` or
    ``docker-archive:PATH`` for a local copy.
    """

    store: Store
    ref: str
    name: str


@dataclass(frozen=True)
class ResolvedImage:
    """An image resolved down to one platform's manifest and config."""

    name: str
    digest: str
    media_type: str
    manifest: Manifest
    config: ImageConfig | None
    index: Index | None = None

    @property
    def image_digest(self) -> str:
        return self.manifest.digest


@contextmanager
def open_image(image: str | Reference, *, client: Client | None = None) -> Iterator[ImageSource]:
    """The Store behind ``image`` and the tag or digest to read; closed afterwards.

    A local copy named without a tag gives its only entry.
    """
    c = get_client(client)
    location = parse_location(image, client=c)
    store = open_store(location, client=c)
    try:
        if location.reference is not None:
            ref = location.reference
            yield ImageSource(store, ref.identifier, f"{ref.registry}/{ref.repository}")
        else:
            name = str(Location(location.transport, location.path))
            yield ImageSource(store, location.tag or _only_entry(store, name), name)
    finally:
        if isinstance(store, ArchiveReader):
            store.close()  # it keeps its tarball open


def _only_entry(store: Store, name: str) -> str:
    """The digest of the one image a layout or archive holds (no tag needed to name it)."""
    entries = store.entries() if isinstance(store, LayoutStore | ArchiveReader) else []
    if len(entries) == 1:
        return entries[0].digest
    have = ", ".join(store.tags()) or "no tagged entries"
    raise NotFound(f"{name} holds {len(entries)} images; name one as {name}:TAG (it has: {have})")


def read_config(store: Store, manifest: Manifest) -> ImageConfig | None:
    """The image config of ``manifest`` (None for an artifact), verified."""
    if not manifest.is_image:
        return None
    return ImageConfig.parse(read_small_blob(store, manifest.config.digest))


def read_small_blob(store: Store, digest: str) -> bytes:
    """A config-sized blob in one piece (a registry's comes from the digest cache)."""
    if isinstance(store, RegistryStore):
        return store.registry.blob(store.repository, digest)
    parts: list[bytes] = []
    total = 0
    with store.blob_open(digest) as chunks:
        for chunk in chunks:
            total += len(chunk)
            if total > MAX_CONFIG_SIZE:
                raise Unsupported(f"blob {digest[:19]}… is over 8 MiB; it is not a config")
            parts.append(chunk)
    return b"".join(parts)


def resolve_source(source: ImageSource, platform: str | Platform | None = None) -> ResolvedImage:
    """The image ``source`` names: the given platform, or the usual one of an index.

    For an index without ``platform``, linux/amd64 is chosen when present,
    else the first image entry.
    """
    top = parse_manifest(*source.store.manifest_get(source.ref))
    index = top if isinstance(top, Index) else None
    if isinstance(top, Index):
        entry = top.select(platform or preferred_platform(top))
        child = parse_manifest(*source.store.manifest_get(entry.digest))
        if not isinstance(child, Manifest):
            raise Unsupported(f"{source.name}: nested indexes are not supported")
        manifest = child
    else:
        manifest = top
    return ResolvedImage(
        name=source.name,
        digest=top.digest,
        media_type=top.media_type,
        manifest=manifest,
        config=read_config(source.store, manifest),
        index=index,
    )


def resolve_image(
    image: str | Reference,
    platform: str | Platform | None = None,
    *,
    client: Client | None = None,
) -> ResolvedImage:
    """``image`` (a reference, ``oci:DIR[:TAG]`` or ``docker-archive:PATH[:TAG]``) resolved."""
    with open_image(image, client=client) as source:
        return resolve_source(source, platform)


# -- what to list -----------------------------------------------------------------


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
    repository: str | Reference,
    *,
    tags: Iterable[str] | None = None,
    platform: str | Platform | None = None,
    include_attestations: bool = False,
    manifests: bool = False,
    progress: ProgressArg = None,
    client: Client | None = None,
) -> list[ImageRecord]:
    """One record per tag and platform of ``repository``, in tag-list order.

    Each tag is resolved start to finish by one worker (no phase barriers),
    and each manifest and config digest is fetched once across workers. A
    repository this cache has listed before is resolved with HEADs, so
    unchanged tags cost nothing more; a first listing GETs each tag's
    manifest directly, because a HEAD could not save anything yet.
    ``pushed`` comes from the vendor's API where it has one (``vendordates.py``).
    On Docker Hub a manifest GET is a pull, so unless ``manifests`` asks for
    what only manifests hold (layers, config ``created``), the records come
    from Hub's tags API and no manifest is read; with ``manifests`` the call
    refuses first (``RateLimited``) when the tags need more pulls than remain.
    ``progress``: None shows a bar for more than a few tags, True always, False never.
    """
    client = get_client(client)
    ref = client.reference(repository, repository=True)
    registry = client.registry(ref)
    repo = ref.repository
    want = Platform.parse(platform) if platform else None
    if registry.host == DOCKER_HUB and not manifests:
        return _hub_records(client, repo, tags, want, include_attestations)
    names, pushed = names_and_pushed(client, registry, repo, tags)
    seen_key = f"listed:{registry.host}/{repo}"
    warm = client.cache.has_marker(seen_key)
    once = _Once()
    advance = bar(len(names), f"resolving {repo}", progress=progress)

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
            found = _records_for(repo, tag, top, manifests, configs, want, include_attestations)
            return [replace(r, pushed=pushed.get(tag)) for r in found]
        except NotFound:
            return []  # the tag went away while we listed
        finally:
            advance(1)

    records = [record for batch in client.map(resolve, names) for record in batch]
    client.cache.set_marker(seen_key)
    return records


def _hub_records(
    client: Client,
    repo: str,
    tags: Iterable[str] | None,
    want: Platform | None,
    include_attestations: bool,
) -> list[ImageRecord]:
    """Records from Docker Hub's tags API: digests, per-platform sizes, push times; no pull.

    Hub's answer is checked as a registry's would be: digests must pass the
    grammar and sizes be counts, or the entry is left out.
    """
    wanted = set(tags) if tags is not None else None
    out = []
    for t in hub_tags(client, repo):
        tag = str(t["name"])
        if wanted is not None and tag not in wanted:
            continue
        images = t.get("images")
        for image in (i for i in images or [] if isinstance(i, dict) and isinstance(images, list)):
            platform = hub_platform(image)
            attestation = platform == UNKNOWN_PLATFORM
            if attestation and not include_attestations:
                continue
            if not attestation and not platform_matches(want, Platform.parse(platform)):
                continue
            image_digest, size = image.get("digest"), image.get("size")
            if digest_problem(image_digest) or type(size) is not int or size < 0:
                continue
            top = t.get("digest") if digest_problem(t.get("digest")) is None else image_digest
            record = ImageRecord(
                repository=repo,
                tag=tag,
                digest=str(top),
                media_type=str(t.get("media_type") or ""),
                platform=platform,
                image_digest=str(image_digest),
                created=None,  # only the config holds it, and reading it costs a pull
                size=size,
                layers=(),
                config_digest=None,
                attestation=attestation,
                pushed=hub_pushed(t) or trusted_time(image.get("last_pushed")),
            )
            out.append(record)
    return out


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
        if not platform_matches(want, platform):
            return []
        return [_record(repository, tag, top, top, config, platform, top.annotations)]
    out = []
    for entry in top.manifests:
        if entry.is_attestation and not include_attestations:
            continue
        child = manifests.get(entry.digest)
        if not isinstance(child, Manifest):
            continue
        platform = entry.platform
        if not platform_matches(want, platform):
            continue
        config = configs.get(child.config.digest)
        stamped = {**top.annotations, **entry.annotations}  # the entry's own stamp wins
        record = _record(repository, tag, top, child, config, platform, stamped)
        out.append(record if not entry.is_attestation else _as_attestation(record))
    return out


def _record(
    repository: str,
    tag: str | None,
    top: Manifest | Index,
    manifest: Manifest,
    config: ImageConfig | None,
    platform: Platform | None,
    annotations: Mapping[str, str],
) -> ImageRecord:
    # A build tool's index annotation is a better build time than a config
    # that reproducible builders stamp with a fixed fake date.
    stamped = trusted_time(annotations.get("org.opencontainers.image.created"))
    return ImageRecord(
        repository=repository,
        tag=tag,
        digest=top.digest,
        media_type=top.media_type,
        platform=str(platform) if platform and manifest.is_image else None,
        image_digest=manifest.digest,
        created=stamped or (trusted_time(config.created) if config else None),
        size=manifest.size,
        layers=manifest.layers,
        config_digest=manifest.config.digest,
        artifact_type=None
        if manifest.is_image
        else (manifest.artifact_type or manifest.config.media_type),
    )


def _as_attestation(record: ImageRecord) -> ImageRecord:
    return replace(record, attestation=True, platform="unknown/unknown")
