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

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .._client import Client, get_client
from .._model.errors import NotFound, Unsupported
from .._model.hosts import DOCKER_HUB
from .._model.manifest import (
    UNKNOWN_PLATFORM,
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
from .progress import Progress, ProgressArg, progress_bar
from .records import ImageRecord, Resolver
from .vendordates import names_and_pushed
from .webapis import (
    hub_platform,
    hub_pushed,
    hub_tags,
    trusted_time,
)

__all__ = [
    "ImageRecord",
    "ImageSource",
    "ResolvedImage",
    "open_image",
    "resolve_image",
    "resolve_source",
    "tag_records",
]


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


def tag_records(
    repository: str | Reference,
    *,
    tags: Iterable[str] | None = None,
    platform: str | Platform | None = None,
    include_attestations: bool = False,
    manifests: bool = False,
    progress: ProgressArg | Progress = None,
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
    ``progress``: None shows a bar for more than a few tags, True always, False never;
    a ``Progress`` (an audit's) is grown by the tag count and advanced per tag instead.
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
    resolver = Resolver(
        registry, repo, warm=warm, want=want, include_attestations=include_attestations
    )
    if isinstance(progress, Progress):
        shown = progress
        shown.grow(len(names))
    else:
        shown = progress_bar(len(names), f"resolving {repo}", unit="tag", progress=progress)

    def resolve(tag: str) -> list[ImageRecord]:
        try:
            return resolver.records(tag, pushed.get(tag))
        except NotFound:
            return []  # the tag went away while we listed
        finally:
            shown.advance(1)

    try:
        records = [record for batch in client.map(resolve, names) for record in batch]
    finally:
        if shown is not progress:
            shown.close()
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
