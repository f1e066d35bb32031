"""``rk.copy``: an image (or every tag of a repository) from registry to registry."""

from __future__ import annotations

from collections.abc import Sequence

from .._client import Client, get_client
from .._model.errors import DigestMismatch, NotFound
from .._model.manifest import Platform
from .._model.reference import Reference, parse_reference, parse_repository
from .._stores.base import RegistryStore, Store
from .results import CopyResult
from .transfer import TransferPlan, TransferStats, plan_transfer, run_transfer

__all__ = ["copy", "copy_image"]

Platforms = str | Platform | Sequence[str | Platform] | None


def _platform_list(platforms: Platforms) -> list[str | Platform] | None:
    if platforms is None:
        return None
    if isinstance(platforms, str | Platform):
        return [platforms]
    return list(platforms)


def copy_image(
    client: Client,
    src: Store,
    src_id: str,
    dst: Store,
    tags: Sequence[str],
    *,
    platforms: Platforms = None,
    platform: str | Platform | None = None,
    single_image: bool = False,
    progress: bool | None = None,
) -> tuple[TransferPlan, TransferStats]:
    """Plan and run one image's transfer; the shared step of copy, pull, push and sync."""
    plan = plan_transfer(
        client,
        src,
        src_id,
        platforms=_platform_list(platforms),
        platform=platform,
        single_image=single_image,
    )
    stats = run_transfer(client, plan, src, dst, tags, progress=progress)
    return plan, stats


def copy(
    src: str | Reference,
    dst: str | Reference,
    all_tags: bool = False,
    platforms: Platforms = None,
    client: Client | None = None,
    *,
    progress: bool | None = None,
) -> CopyResult:
    """Copy ``src`` to ``dst`` between registries (or repositories of one).

    Blobs stream from source to destination; those already there are skipped,
    those in another repository of the same registry are mounted. Manifests go
    last. ``dst`` without a tag takes the source's tag. ``platforms`` (one or
    a list, e.g. ``"linux/arm64"``) copies a subset of a multi-arch image as a
    new index, whose digest then differs from the source's (the result says
    so). With ``all_tags=True`` both name repositories and every tag is copied.
    """
    c = get_client(client)
    if all_tags:
        return _copy_all(c, src, dst, platforms, progress)
    src_ref = src if isinstance(src, Reference) else parse_reference(src)
    dst_ref = dst if isinstance(dst, Reference) else parse_reference(dst, default_tag=None)
    if dst_ref.tag is None and dst_ref.digest is None and src_ref.tag is not None:
        dst_ref = dst_ref.with_tag(src_ref.tag)
    src_store = RegistryStore(c.registry(src_ref), src_ref.repository)
    dst_store = RegistryStore(c.registry(dst_ref), dst_ref.repository)
    tags = [dst_ref.tag] if dst_ref.tag else []
    plan = plan_transfer(c, src_store, src_ref.identifier, platforms=_platform_list(platforms))
    if dst_ref.digest and not tags and dst_ref.digest != plan.digest:
        raise DigestMismatch(
            f"the destination names digest {dst_ref.digest} but the copied image is "
            f"{plan.digest}; give the destination a tag instead"
        )
    stats = run_transfer(c, plan, src_store, dst_store, tags, progress=progress)
    return _result(src_ref, dst_ref, plan, stats, tags)


def _result(
    src_ref: Reference,
    dst_ref: Reference,
    plan: TransferPlan,
    stats: TransferStats,
    tags: list[str],
) -> CopyResult:
    return CopyResult(
        source=str(src_ref),
        destination=str(dst_ref),
        digest=plan.digest,
        size=plan.size,
        tags=tags,
        bytes_copied=stats.bytes_copied,
        bytes_skipped=stats.bytes_skipped,
        bytes_mounted=stats.bytes_mounted,
        platforms=plan.platforms,
        digest_changed=plan.digest_changed,
        source_digest=plan.source_digest,
        media_type=plan.top.media_type,
        registry=dst_ref.registry,
        destination_name=dst_ref.name,
        images={t: plan.digest for t in tags},
    )


def _copy_all(
    c: Client,
    src: str | Reference,
    dst: str | Reference,
    platforms: Platforms,
    progress: bool | None,
) -> CopyResult:
    src_ref = src if isinstance(src, Reference) else parse_repository(src)
    dst_ref = dst if isinstance(dst, Reference) else parse_repository(dst)
    src_store = RegistryStore(c.registry(src_ref), src_ref.repository)
    dst_store = RegistryStore(c.registry(dst_ref), dst_ref.repository)
    tags = src_store.tags()
    if not tags:
        raise NotFound(f"{src_ref.name} has no tags to copy; check the repository name")
    total = TransferStats()
    images: dict[str, str] = {}
    size = 0
    seen_blobs: set[str] = set()
    platform_names: list[str] = []
    changed = False
    # Tags go one after another; each tag's blobs fan out over the pool.
    for tag in tags:
        plan, stats = copy_image(
            c, src_store, tag, dst_store, [tag], platforms=platforms, progress=progress
        )
        total.merge(stats)
        images[tag] = plan.digest
        size += sum(b.size for b in plan.blobs if b.digest not in seen_blobs)
        seen_blobs.update(b.digest for b in plan.blobs)
        platform_names += [p for p in plan.platforms if p not in platform_names]
        changed = changed or plan.digest_changed
    return CopyResult(
        source=src_ref.name,
        destination=dst_ref.name,
        digest=None,
        size=size,
        tags=list(images),
        bytes_copied=total.bytes_copied,
        bytes_skipped=total.bytes_skipped,
        bytes_mounted=total.bytes_mounted,
        platforms=platform_names,
        digest_changed=changed,
        registry=dst_ref.registry,
        destination_name=dst_ref.name,
        images=images,
    )
