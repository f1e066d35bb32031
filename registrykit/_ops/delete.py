"""``rk.delete``: remove an image (or one tag of it) from a registry.

A manifest DELETE removes every tag pointing at that digest, so the plan
(all sibling tags, and referrers such as signatures) is worked out first and
returned as-is by ``dry_run=True``. Just before deleting, the named tag is
checked again: if it moved meanwhile, nothing is deleted.

``untag_only=True`` uses regclient's method: point the tag at a unique
throwaway manifest, then delete that manifest, so the other tags (and the
image) stay. Docker Hub and GHCR refuse the registry API's DELETE; there the
work goes through their own APIs (``_vendor_delete``), chosen by
``determine_registry(...).kind``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets

from .._client import Client, get_client
from .._model import mediatypes as mt
from .._model.errors import AuthenticationError, RegistryError, RegistryKitError, Unsupported
from .._model.reference import Reference
from .._model.registries import determine_registry
from .._registry.api import RegistryClient
from .analysis import order_tags, referrers_subject
from .results import DeleteResult
from .vendors import dockerhub_delete_tag, dockerhub_login, ghcr_delete_digest

__all__ = ["delete", "referrer_tags", "tags_pointing_at"]

log = logging.getLogger(__name__)

_EMPTY_CONFIG = b"{}"
_EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


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
    method = {"dockerhub": "Docker Hub API", "ghcr": "GitHub packages API"}.get(
        info.kind, "registry API"
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
    if info.kind == "dockerhub":
        _delete_on_hub(c, ref, removed)
    elif untag_only:
        throwaway = _point_at_throwaway(registry, ref)
        _delete_digest(c, registry, ref, throwaway, info.kind)
    else:
        _delete_digest(c, registry, ref, digest, info.kind)
        for extra in _follower_digests(registry, ref.repository, followers, referrers):
            _delete_digest(c, registry, ref, extra, info.kind)
    return dataclasses.replace(result, deleted=True)


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


def _point_at_throwaway(registry: RegistryClient, ref: Reference) -> str:
    """Re-point ``ref.tag`` at a unique empty manifest; returns that manifest's digest."""
    assert ref.tag is not None
    if registry.blob_size(ref.repository, _EMPTY_DIGEST) is None:
        registry.upload_blob(ref.repository, _EMPTY_DIGEST, len(_EMPTY_CONFIG), _EMPTY_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_EMPTY, "digest": _EMPTY_DIGEST, "size": 2},
        "layers": [],
        # The nonce makes this digest unique, so deleting it touches no other tag.
        "annotations": {"io.registrykit.untag": secrets.token_hex(16)},
    }
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    return registry.put_manifest(ref.repository, ref.tag, raw, mt.OCI_MANIFEST)


def _delete_digest(
    c: Client, registry: RegistryClient, ref: Reference, digest: str, kind: str
) -> None:
    if kind == "ghcr":
        ghcr_delete_digest(c.http, _login(c, ref)[1], ref.repository, digest)
        return
    try:
        registry.delete_manifest(ref.repository, digest)
    except Unsupported as exc:
        raise Unsupported(
            f"{ref.registry} does not allow deletes (HTTP {exc.status}). On a distribution "
            "registry set storage.delete.enabled: true in config.yml (or "
            "REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it; on Harbor, Quay, GitLab or "
            "a cloud registry, delete through its web UI/API or grant the token delete rights.",
            status=exc.status,
            errors=exc.errors,
            url=exc.url,
        ) from None


def _delete_on_hub(c: Client, ref: Reference, tags: list[str]) -> None:
    username, password = _login(c, ref)
    token = dockerhub_login(c.http, username, password)
    for tag in tags:
        dockerhub_delete_tag(c.http, token, ref.repository, tag)


def _login(c: Client, ref: Reference) -> tuple[str, str]:
    # The same credential the client's auth flow uses (Client(logins=), then stored logins).
    found = c.login_for(ref.registry)
    if found is None:
        hint = determine_registry(ref.registry).login_hint
        raise AuthenticationError(
            f"deleting on {ref.registry} goes through its web API, which needs your "
            f"credentials; none are stored. Log in first: rk.login({ref.registry!r}, user, "
            f"token) or `{hint}`."
        )
    return found.username, found.secret
