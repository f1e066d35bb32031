"""``rk.copy``, ``rk.pull`` and ``rk.push``: one tag loop over two stores.

A copy takes any two locations (``oci:DIR[:TAG]``, ``docker-archive:PATH[:TAG]``,
``podman:NAME[:TAG]``, ``docker-daemon:NAME[:TAG]`` or a registry reference);
a pull is a copy from a registry into a layout, an archive or a runtime's
store, a push a copy from one into a registry; ``copy_stores`` copies
between stores a caller opened. ``_copy_tags`` walks the tags, runs the
transfer for each and builds the result, so the three agree
on what they count: ``size`` counts every blob once however many tags share
it, and mounted bytes are reported apart from those already present.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from .._client import Client, get_client
from .._model import mediatypes as mt
from .._model.digest import compute_digest
from .._model.errors import DigestMismatch, InvalidReference, NotFound
from .._model.manifest import Descriptor, Platform
from .._model.reference import Reference, parse_reference, tag_problem, valid_names
from .._stores.base import Store, entry_tag, find_entry
from .._stores.gzipped import gzip_layers
from .._stores.layout import as_oci
from .._stores.open import Location, names_transport, open_store, parse_location
from .._stores.registry import RegistryStore
from .._stores.runtime import COMMANDS, TRANSPORTS, Runtime, local_runtime, runtime_name
from .results import CopyResult, PullResult, PushResult, _Transferred, speaks_http
from .transfer import ManifestDoc, TransferPlan, TransferStats, plan_transfer, run_transfer

__all__ = ["copy", "copy_stores", "pull", "push"]

Platforms = str | Platform | Sequence[str | Platform] | None
PullFormat = Literal["oci", "docker-archive"]
_FORMATS = ("oci", "docker-archive")
_RUNTIMES = ("podman", "docker")
R = TypeVar("R", bound=_Transferred)
_OCI_TYPES = (mt.OCI_MANIFEST, mt.OCI_INDEX)
# What the loop moves: a source tag or digest, and the destination tags it gets.
Todo = list[tuple[str, list[str]]]


def copy(
    src: str | Reference,
    dst: str | Reference,
    *,
    all_tags: bool = False,
    platforms: Platforms = None,
    preserve_digests: bool = False,
    client: Client | None = None,
    progress: bool | None = None,
) -> CopyResult:
    """Copy ``src`` to ``dst``: registries, OCI layouts and docker-archives in any pair.

    Blobs stream from source to destination; those already there are skipped,
    those in another repository of the same registry are mounted. Manifests go
    last. ``dst`` without a tag takes the source's tag. ``platforms`` (one or
    a list, e.g. ``"linux/arm64"``) copies a subset of a multi-arch image as a
    new index, whose digest then differs from the source's (the result says
    so). With ``all_tags=True`` both name repositories and every tag is copied.
    Docker-format manifests written into an OCI layout get OCI media types, as
    skopeo writes them (so skopeo and podman open them by tag), and a new
    digest beside the source's; ``preserve_digests=True`` keeps the bytes.
    """
    c = get_client(client)
    src_loc = parse_location(src, repository=all_tags, client=c)
    dst_loc = parse_location(dst, repository=all_tags, default_tag=None, client=c, write=True)
    make = functools.partial(CopyResult, source=_label(src_loc, all_tags))
    return _copy_locations(
        c,
        src_loc,
        dst_loc,
        all_tags=all_tags,
        platforms=platforms,
        preserve_digests=preserve_digests,
        progress=progress,
        result=lambda dst_label, **fields: make(destination=dst_label, **fields),
    )


def pull(
    image: str | Reference,
    path: str | os.PathLike[str] | None = None,
    format: PullFormat = "oci",
    platform: str | Platform | None = None,
    all_tags: bool = False,
    *,
    into: Runtime | None = None,
    preserve_digests: bool = False,
    client: Client | None = None,
    progress: bool | None = None,
) -> PullResult:
    """Download ``image`` into an OCI layout directory, a docker-archive tarball or a runtime.

    A multi-arch tag keeps its index in a layout unless ``platform`` is
    given; a docker-archive holds one platform (``platform``, else
    linux/amd64 or the first). ``all_tags=True`` pulls every tag of the
    repository ``image`` names. An existing layout gains the new entries;
    blobs already in it are not downloaded again. ``into="podman"`` (or
    ``"docker"``) loads the image into that runtime's store under its name
    instead of writing ``path``, as ``podman pull`` does. A Docker-format
    image gets OCI media types in a layout unless ``preserve_digests=True``
    (see :func:`copy`).
    """
    if format not in _FORMATS:
        raise ValueError(f"format must be 'oci' or 'docker-archive', not {format!r}")
    c = get_client(client)
    src_loc = parse_location(image, repository=all_tags, client=c)
    if into is not None:
        if into not in _RUNTIMES:
            raise ValueError(f"into must be 'podman' or 'docker', not {into!r}")
        dst_loc = Location(TRANSPORTS[into])
    elif path is None:
        raise ValueError("pull needs a path to write, or into='podman' or 'docker'")
    else:
        dst_loc = Location(format, path=str(path))
    dst_loc = _named(dst_loc, src_loc)
    make = functools.partial(
        PullResult, image=str(src_loc), path=dst_loc.path, format=dst_loc.transport
    )
    return _copy_locations(
        c,
        src_loc,
        dst_loc,
        all_tags=all_tags,
        platform=platform,
        preserve_digests=preserve_digests,
        progress=progress,
        result=lambda _dst_label, **fields: make(**fields),
    )


def push(
    path: str | os.PathLike[str],
    image: str | Reference,
    all_tags: bool = False,
    *,
    client: Client | None = None,
    progress: bool | None = None,
) -> PushResult:
    """Upload from an OCI layout directory, a docker-archive tarball or a runtime's store.

    The entry whose ref name equals the image's tag is pushed, or the only
    entry when there is one. A ``path`` that is neither file nor directory
    but an image name (``myapp:latest``) is taken from the detected runtime's
    local store (``podman:``/``docker-daemon:`` name it explicitly). With
    ``all_tags=True`` ``image`` names a repository and every tagged entry is
    pushed under its own tag.
    """
    c = get_client(client)
    dst_loc = parse_location(image, repository=all_tags, default_tag=None, client=c, write=True)
    make = functools.partial(PushResult, path=str(path))
    return _copy_locations(
        c,
        _local_location(path),
        dst_loc,
        all_tags=all_tags,
        progress=progress,
        result=lambda dst_label, **fields: make(image=dst_label, **fields),
    )


def _local_location(path: str | os.PathLike[str]) -> Location:
    """A layout directory, a docker-archive file, or an image in the runtime's store."""
    p = Path(path)
    if p.is_dir():
        return Location("oci", path=str(p))
    if p.is_file():
        return Location("docker-archive", path=str(p))
    text = os.fspath(path)
    if names_transport(text):
        return parse_location(text)
    runtime = local_runtime()
    if runtime is not None and _is_reference(text):
        return parse_location(f"{TRANSPORTS[runtime]}:{text}")
    raise NotFound(
        f"{p} does not exist. Give an OCI layout directory (holding index.json), a "
        "docker-archive tarball (docker save -o image.tar, rk.pull(..., format='docker-archive')) "
        "or an image in podman's or docker's store (podman:NAME:TAG)."
    )


def _is_reference(text: str) -> bool:
    try:
        parse_reference(text)
    except InvalidReference:
        return False
    return True


def copy_stores(
    src: Store, dst: Store, *, client: Client | None = None, progress: bool | None = None
) -> CopyResult:
    """Every entry of ``src`` into ``dst`` under its tags (by digest when it has none).

    For stores opened by the caller, e.g. images built into a ``MemoryStore``.
    """
    by_digest: dict[str, list[str]] = {}
    for entry in src.entries():
        tags = by_digest.setdefault(entry.digest, [])
        tag = entry_tag(entry)
        if tag:
            tags.append(tag)
    return _copy_tags(
        get_client(client),
        src,
        dst,
        list(by_digest.items()),
        progress=progress,
        result=lambda tag, **fields: CopyResult(
            source=src.describe(), destination=dst.describe(tag), **fields
        ),
    )


def _copy_locations(
    c: Client,
    src_loc: Location,
    dst_loc: Location,
    *,
    all_tags: bool,
    result: Callable[..., R],
    platforms: Platforms = None,
    platform: str | Platform | None = None,
    preserve_digests: bool = False,
    progress: bool | None = None,
) -> R:
    """Open both ends, decide which tags move, and run the tag loop."""
    dst_loc = _named(dst_loc, src_loc)
    one_platform = dst_loc.one_platform
    subset = _platform_list(platforms)
    if one_platform and platform is None and subset is not None and len(subset) == 1:
        platform, subset = subset[0], None
    ref = dst_loc.reference
    with (
        open_store(src_loc, client=c) as opened,
        open_store(dst_loc, client=c, write=True, image=src_loc.reference) as dst,
        # Plain-tar archive layers are gzipped for a registry, as docker and podman push them.
        gzip_layers(opened, dst_loc.is_registry and not preserve_digests) as src,
    ):
        todo, expect = _todo(src, src_loc, dst_loc, all_tags)
        plain_http = isinstance(dst, RegistryStore) and speaks_http(dst.registry.base_url)
        return _copy_tags(
            c,
            src,
            dst,
            todo,
            expect=expect,
            platforms=subset,
            platform=platform,
            single_image=one_platform,
            oci_types=dst_loc.transport == "oci" and not preserve_digests,
            progress=progress,
            result=lambda tag, **fields: result(
                _label(dst_loc, all_tags, None if all_tags else tag),
                registry=ref.registry if ref is not None else None,
                name=ref.name if ref is not None else None,
                verify=_verify(dst_loc, tag, dst),
                plain_http=plain_http,
                **fields,
            ),
        )


def _copy_tags(
    c: Client,
    src: Store,
    dst: Store,
    todo: Todo,
    *,
    result: Callable[..., R],
    expect: str | None = None,
    platforms: list[str | Platform] | None = None,
    platform: str | Platform | None = None,
    single_image: bool = False,
    oci_types: bool = False,
    progress: bool | None = None,
) -> R:
    """The one tag loop: transfer each image under its tags, then report it all once."""
    stats = TransferStats()
    images: dict[str, str] = {}
    sizes: dict[str, int] = {}
    names: list[str] = []
    plans: list[TransferPlan] = []
    # Images go one after another; each one's blobs fan out over the pool.
    for source_id, tags in todo:
        plan = plan_transfer(
            c, src, source_id, platforms=platforms, platform=platform, single_image=single_image
        )
        if oci_types:
            plan = _with_oci_types(plan)
        if expect is not None and expect != plan.digest:
            raise DigestMismatch(
                f"the destination names digest {expect} but the copied image is "
                f"{plan.digest}; give the destination a tag instead"
            )
        stats.merge(run_transfer(c, plan, src, dst, tags, progress=progress))
        images.update({tag: plan.digest for tag in tags or [source_id]})
        sizes.update({b.digest: b.size for b in plan.blobs})
        names += [p for p in plan.platforms if p not in names]
        plans.append(plan)
    digests = set(images.values())
    written = [tag for _, tags in todo for tag in tags]
    return result(
        written[0] if written else None,
        digest=digests.pop() if len(digests) == 1 else None,
        size=sum(sizes.values()),
        tags=written,
        bytes_copied=stats.bytes_copied,
        bytes_skipped=stats.bytes_skipped,
        bytes_mounted=stats.bytes_mounted,
        platforms=names,
        digest_changed=any(p.digest_changed for p in plans),
        source_digest=plans[0].source_digest if len(plans) == 1 else None,
        media_type=plans[0].top.media_type if len(plans) == 1 else None,
        images=images,
    )


def _with_oci_types(plan: TransferPlan) -> TransferPlan:
    """``plan`` with its Docker manifests converted (``as_oci``): children, then the top."""
    converted: dict[str, Descriptor] = {}
    children: list[ManifestDoc] = []
    for child in plan.children:
        raw, media_type = as_oci(child.raw, child.media_type, converted)
        children.append(ManifestDoc(raw, media_type, compute_digest(raw)))
        converted[child.digest] = Descriptor(media_type, children[-1].digest, len(raw))
    raw, media_type = as_oci(plan.top.raw, plan.top.media_type, converted)
    top = ManifestDoc(raw, media_type, compute_digest(raw))
    return dataclasses.replace(plan, top=top, children=children)


def _todo(
    src: Store, src_loc: Location, dst_loc: Location, all_tags: bool
) -> tuple[Todo, str | None]:
    """What to copy under which tags, and the digest the destination insists on."""
    if all_tags:
        # Names from a registry, layout or archive become paths on the destination.
        tags = valid_names(src.tags(), tag_problem, f"the tags of {src.describe()}")
        if not tags:
            raise NotFound(f"{src.describe()} has no tags to copy; check the repository name")
        return [(tag, [tag]) for tag in tags], None
    dst_tag, dst_digest = _wanted(dst_loc)
    src_ref = src_loc.reference
    if src_ref is not None:
        source_id, src_tag = src_ref.identifier, src_ref.tag
    elif src_loc.tag is not None:
        source_id, src_tag = src_loc.tag, src_loc.tag
    else:
        entry, src_tag = _pick_entry(src, dst_tag, dst_digest)
        source_id = entry.digest
    tag = dst_tag or (None if dst_digest else src_tag)
    return [(source_id, [tag] if tag else [])], None if tag else dst_digest


def _wanted(loc: Location) -> tuple[str | None, str | None]:
    if loc.reference is not None:
        return loc.reference.tag, loc.reference.digest
    return loc.tag, None


def _pick_entry(src: Store, tag: str | None, digest: str | None) -> tuple[Descriptor, str]:
    """The entry whose ref name is ``tag``, or the only one (a push by image name)."""
    if digest is not None:
        raise ValueError(
            "push needs a tag to write, not a digest: use NAME:<tag> (the digest "
            "follows from the content)"
        )
    entries = src.entries()
    if tag is not None:
        found = find_entry(entries, tag)
        if found is not None:
            return found, tag
        if len(entries) == 1:
            return entries[0], tag
    elif len(entries) == 1:
        return entries[0], entry_tag(entries[0]) or "latest"
    have = ", ".join(t for t in (entry_tag(e) for e in entries) if t) or "no tagged entries"
    want = f"tag {tag!r}" if tag else "a tag"
    raise NotFound(
        f"{src.describe()} holds {len(entries)} images and none matches {want} (it has: "
        f"{have}). Name the entry with the image's tag, or use all_tags=True."
    )


def _label(loc: Location, all_tags: bool, tag: str | None = None) -> str:
    """How a result names a location: the repository for all tags, else the image."""
    ref = loc.reference
    if ref is None:
        return str(Location(loc.transport, loc.path, tag or loc.tag))
    if all_tags:
        return ref.name
    if tag and ref.tag is None and ref.digest is None:
        ref = ref.with_tag(tag)
    return str(ref)


def _named(dst_loc: Location, src_loc: Location) -> Location:
    """A runtime destination without a name takes the source's, as ``podman pull`` does."""
    ref = src_loc.reference
    if dst_loc.transport not in COMMANDS or dst_loc.path or ref is None:
        return dst_loc
    return dataclasses.replace(dst_loc, path=ref.name)


def _verify(loc: Location, tag: str | None, dst: Store) -> str | None:
    """The command that reads a written image back (a registry's is the result's own)."""
    if loc.transport == "oci":
        entries = dst.entries()
        entry = find_entry(entries, tag) if tag else None
        if entry is not None and entry.media_type in _OCI_TYPES:
            return f"skopeo inspect oci:{loc.path}:{tag}"
        # skopeo skips Docker-typed entries when it looks a tag up (preserve_digests=True)
        # and opens a layout without a tag only when it holds one image.
        return f"skopeo inspect oci:{loc.path}" if len(entries) == 1 else None
    if loc.transport == "docker-archive":
        # skopeo names an archive's image by a RepoTags name or @index, never by a bare tag.
        several = len(dst.entries()) > 1
        return f"skopeo inspect docker-archive:{loc.path}" + (":@0" if several else "")
    runtime = COMMANDS.get(loc.transport)
    if runtime is None:
        return None
    name = runtime_name(runtime, loc.path)
    return f"{runtime} image inspect {(name.with_tag(tag) if tag else name).familiar}"


def _platform_list(platforms: Platforms) -> list[str | Platform] | None:
    if platforms is None:
        return None
    if isinstance(platforms, str | Platform):
        return [platforms]
    return list(platforms)
