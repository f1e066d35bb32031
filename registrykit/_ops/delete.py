"""``rk.delete``: remove an image (or one tag of it) from a registry.

A manifest DELETE removes every tag pointing at that digest, so the plan
(all sibling tags, and referrers such as signatures) is worked out first and
returned as-is by ``dry_run=True``. Just before deleting, the named tag is
checked again: if it moved meanwhile, nothing is deleted.

``untag_only=True`` removes just the tag, the registry's own way
(``untag.py``: the OCI tag DELETE where the registry has it, else regclient's
throwaway manifest; Docker Hub's, GitLab's and ECR's APIs), and the result's
``method`` says which ran. Docker Hub and GHCR refuse the registry API's
DELETE; there the work goes through their own APIs, chosen by
``determine_registry(...).kind``.
"""

from __future__ import annotations

import dataclasses
import logging

from .._client import Client, get_client
from .._model.errors import RegistryError, RegistryKitError
from .._model.reference import Reference
from .._model.registries import determine_registry
from .._registry.api import RegistryClient
from .analysis import order_tags, referrers_subject
from .results import DeleteResult
from .untag import delete_digest, full_delete_method, hub_delete_tags, untag, untag_method

__all__ = ["delete", "referrer_tags", "tags_pointing_at"]

log = logging.getLogger(__name__)


def tags_pointing_at(
    client: Client,
    registry: RegistryClient,
    repository: str,
    digest: str,
    names: list[str] | None = None,
) -> list[str]:
    """Every tag of ``repository`` whose manifest is ``digest``, best first (HEADs).

    ``names`` is the repository's tag list when the caller already has it.
    """
    names = registry.tags(repository) if names is None else names
    heads = client.map(lambda t: (t, registry.head_manifest(repository, t)), names)
    return order_tags(t for t, d in heads if d is not None and d.digest == digest)


def referrer_tags(names: list[str], digest: str) -> list[str]:
    """The ``sha256-<hex>[.sig|.att|...]`` tags whose subject is ``digest`` (cosign's scheme)."""
    return order_tags(t for t in names if referrers_subject(t) == digest)


def delete(
    image: str | Reference,
    dry_run: bool = False,
    untag_only: bool = False,
    *,
    expect_digest: str | None = None,
    client: Client | None = None,
) -> DeleteResult:
    """Delete ``image`` (a tag or digest) and so every tag sharing its digest.

    ``dry_run=True`` only reports what would go. ``untag_only=True`` removes
    just the named tag. ``expect_digest`` (the digest a preview showed) stops
    the delete when the tag points elsewhere now. Space returns after the
    registry's garbage collection.
    """
    c = get_client(client)
    ref = c.reference(image, write=True)
    if untag_only and ref.tag is None:
        raise ValueError(f"untag_only=True needs a tag to remove; {ref} names a digest only")
    info = determine_registry(ref.registry)
    registry = c.registry(ref)
    digest = registry.resolve(ref.repository, ref.identifier).digest
    if expect_digest is not None and digest != expect_digest:
        raise RegistryError(_moved(ref, expect_digest, digest))
    names = registry.tags(ref.repository)
    siblings = tags_pointing_at(c, registry, ref.repository, digest, names)
    referrers = _referrers(registry, ref.repository, digest)
    # Referrers follow their subject: a full delete takes its signature tags too,
    # so no sha256-<hex> tag is left pointing at nothing.
    followers = [] if untag_only else referrer_tags(names, digest)
    removed = [ref.tag] if untag_only and ref.tag else [*siblings, *followers]
    # A dry run probes nothing: it names the method the registry's kind implies.
    method = (
        untag_method(c, ref, probe=not dry_run) if untag_only else full_delete_method(info.kind)
    )
    result = DeleteResult(
        image=str(ref),
        digest=digest,
        tags=siblings,
        dry_run=dry_run,
        deleted=False,
        referrers=referrers,
        untag_only=untag_only,
        registry=ref.registry,
        method=method,
        removed_tags=removed,
    )
    if dry_run:
        return result
    _recheck(registry, ref, digest)
    if untag_only:
        method = untag(c, ref, digest, siblings)
    elif info.kind == "dockerhub":
        hub_delete_tags(c, ref, removed)
    else:
        delete_digest(c, registry, ref, digest)
        for extra in _follower_digests(registry, ref.repository, followers, referrers):
            delete_digest(c, registry, ref, extra)
    return dataclasses.replace(result, deleted=True, method=method)


def _follower_digests(
    registry: RegistryClient, repository: str, tags: list[str], referrers: list[str]
) -> list[str]:
    """Manifests that go with a deleted subject: its referrer tags' and the referrers API's."""
    found = [registry.head_manifest(repository, t) for t in tags]
    digests = [d.digest for d in found if d is not None]
    return list(dict.fromkeys([*digests, *referrers]))


def _referrers(registry: RegistryClient, repository: str, digest: str) -> list[str]:
    try:
        return [d.digest for d in registry.referrers(repository, digest)]
    except RegistryKitError as exc:
        # Listing referrers is advisory; a registry that cannot must not block the delete.
        log.debug("referrers of %s unavailable: %s", digest, exc)
        return []


def _recheck(registry: RegistryClient, ref: Reference, digest: str) -> None:
    if ref.tag is None or ref.digest is not None:
        return
    now = registry.head_manifest(ref.repository, ref.tag)
    if now is None or now.digest != digest:
        raise RegistryError(_moved(ref, digest, now.digest if now is not None else None))


def _moved(ref: Reference, planned: str, now: str | None) -> str:
    return (
        f"{ref} moved from {planned} to {now or 'nothing (deleted)'} since the delete was "
        "planned; nothing was deleted. Run it again to act on what the tag points at now."
    )
