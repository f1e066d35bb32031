"""``rk.pull`` and ``rk.push``: registry ↔ OCI layout directory or docker-archive.

Both are the copy algorithm with a disk store on one side; see ``_layout``
and ``_archive`` for the formats.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from .._client import Client, get_client
from .._model.errors import NotFound
from .._model.manifest import Descriptor, Platform
from .._model.reference import Reference, parse_reference, parse_repository
from .._stores.archive import ArchiveReader, ArchiveWriter
from .._stores.base import RegistryStore
from .._stores.layout import LayoutStore, entry_tag, find_entry
from .copy import copy_image
from .results import PullResult, PushResult
from .transfer import TransferStats

__all__ = ["open_local", "pull", "push"]

PullFormat = Literal["oci", "docker-archive"]
_FORMATS = ("oci", "docker-archive")


def pull(
    image: str | Reference,
    path: str | os.PathLike[str],
    format: PullFormat = "oci",
    platform: str | Platform | None = None,
    all_tags: bool = False,
    client: Client | None = None,
    *,
    progress: bool | None = None,
) -> PullResult:
    """Download ``image`` into an OCI layout directory or a docker-archive tarball.

    A multi-arch tag keeps its index in a layout unless ``platform`` is
    given; a docker-archive holds one platform (``platform``, else
    linux/amd64 or the first). ``all_tags=True`` pulls every tag of the
    repository ``image`` names. An existing layout gains the new entries;
    blobs already in it are not downloaded again.
    """
    if format not in _FORMATS:
        raise ValueError(f"format must be 'oci' or 'docker-archive', not {format!r}")
    c = get_client(client)
    ref = (
        (image if isinstance(image, Reference) else parse_repository(image))
        if all_tags
        else (image if isinstance(image, Reference) else parse_reference(image))
    )
    src = RegistryStore(c.registry(ref), ref.repository)
    if all_tags:
        tags = src.tags()
        if not tags:
            raise NotFound(f"{ref.name} has no tags to pull")
        todo: list[tuple[str, str | None]] = [(t, t) for t in tags]
    else:
        todo = [(ref.identifier, ref.tag)]
    archive = format == "docker-archive"
    dst: LayoutStore | ArchiveWriter
    if archive:
        names = {tag: ref.with_tag(tag).familiar for _, tag in todo if tag}
        dst = ArchiveWriter(path, familiar_names=names)
    else:
        dst = LayoutStore(path, create=True)
    total = TransferStats()
    digests: dict[str, str] = {}
    size = 0
    platforms: list[str] = []
    try:
        for identifier, tag in todo:
            plan, stats = copy_image(
                c,
                src,
                identifier,
                dst,
                [tag] if tag else [],
                platform=platform,
                single_image=archive,
                progress=progress,
            )
            total.merge(stats)
            if tag is None and isinstance(dst, LayoutStore):
                # Pulled by digest: list it in index.json, unnamed, so push can find it.
                top = plan.top
                dst.add_entry(Descriptor(top.media_type, top.digest, len(top.raw)), None)
            digests[tag or identifier] = plan.digest
            size += plan.size
            platforms += [p for p in plan.platforms if p not in platforms]
        if isinstance(dst, ArchiveWriter):
            dst.close()
    except BaseException:
        if isinstance(dst, ArchiveWriter):
            dst.abort()
        raise
    return PullResult(
        image=str(ref),
        path=str(path),
        digest=next(iter(digests.values())) if len(digests) == 1 else None,
        size=size,
        tags=[t for _, t in todo if t],
        format=format,
        platforms=platforms,
        bytes_copied=total.bytes_copied,
        bytes_skipped=total.bytes_skipped,
    )


def open_local(path: str | os.PathLike[str]) -> LayoutStore | ArchiveReader:
    """A layout directory (with index.json) or a docker-archive file, for reading."""
    p = Path(path)
    if p.is_dir():
        return LayoutStore(p)
    if p.is_file():
        return ArchiveReader(p)
    raise NotFound(
        f"{p} does not exist. Give an OCI layout directory (holding index.json) or a "
        "docker-archive tarball (docker save -o image.tar, rk.pull(..., format='docker-archive'))."
    )


def push(
    path: str | os.PathLike[str],
    image: str | Reference,
    all_tags: bool = False,
    client: Client | None = None,
    *,
    progress: bool | None = None,
) -> PushResult:
    """Upload from an OCI layout directory or docker-archive tarball to a registry.

    The entry whose ref name equals the image's tag is pushed, or the only
    entry when there is one. With ``all_tags=True`` ``image`` names a
    repository and every tagged entry is pushed under its own tag.
    """
    c = get_client(client)
    src = open_local(path)
    entries = src.entries()
    if all_tags:
        ref = image if isinstance(image, Reference) else parse_repository(image)
        todo = [(e, t) for e in entries if (t := entry_tag(e))]
        if not todo:
            raise NotFound(f"{path} has no tagged entries to push")
    else:
        ref = image if isinstance(image, Reference) else parse_reference(image, default_tag=None)
        entry, tag = _pick_entry(path, entries, ref)
        todo = [(entry, tag)]
        if ref.tag is None:
            ref = ref.with_tag(tag)
    dst = RegistryStore(c.registry(ref), ref.repository)
    total = TransferStats()
    digests: dict[str, str] = {}
    size = 0
    seen: set[str] = set()
    try:
        for entry, tag in todo:
            plan, stats = copy_image(c, src, entry.digest, dst, [tag], progress=progress)
            total.merge(stats)
            digests[tag] = plan.digest
            size += sum(b.size for b in plan.blobs if b.digest not in seen)
            seen.update(b.digest for b in plan.blobs)
    finally:
        if isinstance(src, ArchiveReader):
            src.close()
    return PushResult(
        image=str(ref) if not all_tags else ref.name,
        path=str(path),
        digest=next(iter(digests.values())) if len(digests) == 1 else None,
        size=size,
        tags=list(digests),
        bytes_copied=total.bytes_copied,
        bytes_skipped=total.bytes_skipped + total.bytes_mounted,
        registry=ref.registry,
        name=ref.name,
        images=digests,
    )


def _pick_entry(
    path: str | os.PathLike[str], entries: list[Descriptor], ref: Reference
) -> tuple[Descriptor, str]:
    if ref.digest is not None:
        raise ValueError(
            f"push needs a tag to write, not a digest: use {ref.name}:<tag> (the digest "
            "follows from the content)"
        )
    if ref.tag is not None:
        found = find_entry(entries, ref.tag)
        if found is not None:
            return found, ref.tag
        if len(entries) == 1:
            return entries[0], ref.tag
    elif len(entries) == 1:
        return entries[0], entry_tag(entries[0]) or "latest"
    have = ", ".join(t for t in (entry_tag(e) for e in entries) if t) or "no tagged entries"
    want = f"tag {ref.tag!r}" if ref.tag else "a tag"
    raise NotFound(
        f"{path} holds {len(entries)} images and none matches {want} (it has: {have}). "
        "Name the entry with the image's tag, or use all_tags=True."
    )
