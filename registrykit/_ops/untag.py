"""Removing tags (and manifests) the registry's own way; every result names the method.

Untag-only means the tag goes and its image stays while other tags hold it.
Each registry has its own way, and ``method`` says which ran:

* ``"tag delete"``: ``DELETE /v2/<name>/manifests/<tag>`` (OCI distribution
  spec 1.1: removes the tag only; distribution 3, Quay, GCR, Artifact
  Registry). CNCF distribution 2.x answers it with 400 ``DIGEST_INVALID`` or
  ``UNSUPPORTED`` (distribution#3174), Harbor with ``UNSUPPORTED``. The probe
  is a DELETE of a tag that cannot exist: 404 says the registry removes tags,
  400/405 that it does not; then of a digest that cannot exist: 405 says it
  deletes nothing (``"not supported"``, refused before anything is written).
  The answer is remembered per host for the process, and nothing is probed
  while only planning or in a dry run.
* ``"manifest delete"``: regclient's fallback: point the tag at a unique
  throwaway manifest, then delete that manifest by digest. Also a full delete
  through the registry API.
* ``"hub tag api"`` (Docker Hub's tag DELETE) and ``"github packages api"``
  (GHCR: the throwaway, then its package version), since both refuse the
  registry API's DELETE.
* ``"gitlab tag api"``: ``DELETE /api/v4/projects/:id/registry/repositories/
  :repository_id/tags/:tag_name``; ``"gitlab bulk delete"``: one ``DELETE
  .../tags`` with ``name_regex_delete`` matching exactly the planned tags
  (docs.gitlab.com/ee/api/container_registry.html). GitLab runs the bulk
  delete in the background, allows it once an hour per repository, and never
  removes ``latest`` with it, so ``latest`` goes through the tag API.
* ``"ecr batch-delete-image"``: ``aws ecr batch-delete-image --image-ids
  imageDigest=D,imageTag=T`` removes the tag only if it still points at ``D``;
  ECR deletes an image when its last tag goes.

ECR's lifecycle-policy preview is not used as a preview source: it needs a
policy document, runs asynchronously (start, then poll until complete), needs
``ecr:StartLifecyclePolicyPreview`` and counts by push time only, while a
retention plan here is one synchronous read that anyone who can pull may run.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import subprocess
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from .._client import Client
from .._credentials.process import run_tool, scrub
from .._model import mediatypes as mt
from .._model.errors import (
    AuthenticationError,
    InvalidReference,
    NotFound,
    PermissionDenied,
    RegistryError,
    Unsupported,
)
from .._model.manifest import field_list, json_object
from .._model.reference import Reference, tag_problem
from .._model.registries import determine_registry
from .._registry.api import RegistryClient
from .._transport.errors import raise_for_response
from .clouddates import gitlab_api, gitlab_repository, gitlab_token, login_headers
from .results import DeleteResult
from .vendors import dockerhub_delete_tag, ghcr_delete_digest, send_outside
from .webapis import hub_token

__all__ = [
    "DELETE_METHODS",
    "UNPROBED",
    "delete_digest",
    "full_delete_method",
    "hub_delete_tags",
    "registry_login",
    "remove_tags",
    "row_methods",
    "untag",
    "untag_method",
]

log = logging.getLogger(__name__)

DELETE_METHODS = (
    "tag delete",
    "manifest delete",
    "hub tag api",
    "github packages api",
    "gitlab tag api",
    "gitlab bulk delete",
    "ecr batch-delete-image",
    "not supported",
)
# What a plan says for a registry not probed yet (planning sends no DELETE).
UNPROBED = "tag delete, else manifest delete"
# A full delete per registry kind (the registry API elsewhere).
_FULL = {"dockerhub": "hub tag api", "ghcr": "github packages api"}
# Untag-only per kind where the kind alone decides; ACR deletes manifests
# only by digest (its REST API reference), so it gets the throwaway.
_UNTAG = {
    "dockerhub": "hub tag api",
    "ghcr": "github packages api",
    "gitlab": "gitlab tag api",
    "ecr": "ecr batch-delete-image",
    "acr": "manifest delete",
}
_EMPTY_CONFIG = b"{}"
_EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
_GITLAB_DOC = "https://docs.gitlab.com/ee/api/container_registry.html"
_GITLAB_REGEX_MAX = 2000  # our bound: the regex travels in the query string
_ECR_BATCH = 100  # BatchDeleteImage takes at most 100 image ids
_AWS_TIMEOUT = 60.0

# Whether a registry removes tags is the server's trait, so it is kept per host.
_probed: dict[str, str] = {}


# -- which method ----------------------------------------------------------------------


def untag_method(c: Client, ref: Reference, *, probe: bool = True) -> str:
    """How ``ref``'s registry removes one tag; ``probe=False`` sends nothing."""
    kind = determine_registry(ref.registry).kind
    if kind in _UNTAG:
        return _UNTAG[kind]
    known = _probed.get(ref.registry)
    if known is not None or not probe:
        return known or UNPROBED
    method = _probed[ref.registry] = _probe(c.registry(ref), ref.repository)
    return method


def _probe(registry: RegistryClient, repository: str) -> str:
    """Which DELETEs the registry takes, asked with a tag and a digest that cannot exist."""
    if _takes_delete(registry, repository, f"registrykit-probe-{secrets.token_hex(8)}"):
        return "tag delete"
    if _takes_delete(registry, repository, f"sha256:{secrets.token_hex(32)}"):
        return "manifest delete"
    return "not supported"


def _takes_delete(registry: RegistryClient, repository: str, reference: str) -> bool:
    """True when a DELETE of ``reference`` (which does not exist) answers 404, or succeeds."""
    try:
        registry.delete_manifest(repository, reference)
    except NotFound:
        return True
    except Unsupported:
        return False
    except RegistryError as exc:
        if exc.status == 400:  # distribution 2.x reads a tag as a bad digest
            return False
        raise
    return True


def row_methods(c: Client, ref: Reference, rows: Iterable[tuple[str, str]]) -> list[str | None]:
    """The method each ``(tag, action)`` row of a retention plan would use (None: kept)."""
    rows = list(rows)
    kind = determine_registry(ref.registry).kind
    bulk = _gitlab_bulk_tags([t for t, a in rows if a != "keep"]) if kind == "gitlab" else []
    untag = untag_method(c, ref, probe=False)
    out: list[str | None] = []
    for tag, action in rows:
        if action == "keep":
            out.append(None)
        elif tag in bulk:
            out.append("gitlab bulk delete")
        elif action == "untag" or kind == "gitlab":
            out.append(untag)
        else:
            out.append(_FULL.get(kind, "manifest delete"))
    return out


def full_delete_method(kind: str) -> str:
    """The method a whole-image delete uses on a registry of ``kind``."""
    return _FULL.get(kind, "manifest delete")


# -- one tag ---------------------------------------------------------------------------


def untag(c: Client, ref: Reference, digest: str, siblings: list[str]) -> str:
    """Remove ``ref.tag`` (pointing at ``digest``) and leave the image; returns the method.

    ``siblings`` are the tags sharing ``digest``: after a ``tag delete`` they
    are checked, and put back should a registry have deleted the manifest.
    """
    assert ref.tag is not None
    method = untag_method(c, ref)
    registry = c.registry(ref)
    if method == "not supported":
        # Refused before the throwaway is written: the tag must not end up on it.
        raise _deletes_disabled(ref.registry, None)
    if method == "hub tag api":
        hub_delete_tags(c, ref, [ref.tag])
    elif method in ("gitlab tag api", "ecr batch-delete-image"):
        _, skipped = remove_tags(c, ref, {ref.tag: digest}, bulk=False)
        if skipped:
            raise RegistryError(f"{ref} was not removed: {skipped[0]}")
    elif method == "tag delete":
        _tag_delete(c, registry, ref, digest, siblings)
    else:
        throwaway = _point_at_throwaway(registry, ref)
        delete_digest(c, registry, ref, throwaway)
    return method


def _tag_delete(
    c: Client, registry: RegistryClient, ref: Reference, digest: str, siblings: list[str]
) -> None:
    assert ref.tag is not None
    others = [t for t in siblings if t != ref.tag]
    saved = registry.manifest_bytes(ref.repository, digest) if others else None
    registry.delete_manifest(ref.repository, ref.tag)
    if saved is None or registry.head_manifest(ref.repository, digest) is not None:
        return
    # The registry read the tag DELETE as "delete the manifest": the blobs are
    # still there until garbage collection, so the other tags are put back.
    raw, media_type, _ = saved
    for tag in others:
        registry.put_manifest(ref.repository, tag, raw, media_type)
    _probed[ref.registry] = "manifest delete"
    log.warning("%s deleted the manifest for a tag DELETE; re-tagged %s", ref.registry, others)


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


def delete_digest(c: Client, registry: RegistryClient, ref: Reference, digest: str) -> None:
    """Delete one manifest by digest: the registry API, or GitHub's packages API on GHCR."""
    if determine_registry(ref.registry).kind == "ghcr":
        ghcr_delete_digest(c.http, registry_login(c, ref)[1], ref.repository, digest)
        return
    try:
        registry.delete_manifest(ref.repository, digest)
    except Unsupported as exc:
        raise _deletes_disabled(ref.registry, exc) from None


def _deletes_disabled(host: str, cause: Unsupported | None) -> Unsupported:
    status = cause.status if cause is not None else 405
    return Unsupported(
        f"{host} does not allow deletes (HTTP {status}). On a distribution "
        "registry set storage.delete.enabled: true in config.yml (or "
        "REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it; on Harbor, Quay, GitLab or "
        "a cloud registry, delete through its web UI/API or grant the token delete rights.",
        status=status,
        errors=cause.errors if cause is not None else None,
        url=cause.url if cause is not None else None,
    )


def hub_delete_tags(c: Client, ref: Reference, tags: list[str]) -> None:
    """Remove ``tags`` of ``ref``'s repository through Docker Hub's tag API."""
    registry_login(c, ref)  # no login: say how to log in before anything is sent
    token = hub_token(c)
    if token is None:
        raise AuthenticationError(
            "Docker Hub's tag API takes a user name with a password or access token, not "
            "an identity token; log in with rk.login('docker.io', user, token)."
        )
    for tag in tags:
        dockerhub_delete_tag(c.http, token, ref.repository, tag)


def registry_login(c: Client, ref: Reference) -> tuple[str, str]:
    """The stored login for ``ref``'s registry, which its web API also takes."""
    found = c.login_for(ref.registry)
    if found is None:
        hint = determine_registry(ref.registry).login_hint
        raise AuthenticationError(
            f"deleting on {ref.registry} goes through its web API, which needs your "
            f"credentials; none are stored. Log in first: rk.login({ref.registry!r}, user, "
            f"token) or `{hint}`."
        )
    return found.username, found.secret


# -- many tags at once (retention plans) -----------------------------------------------


def remove_tags(
    c: Client,
    repo: Reference,
    tags: Mapping[str, str],
    *,
    bulk: bool = True,
    staying: Mapping[str, list[str]] | None = None,
) -> tuple[list[DeleteResult], list[str]]:
    """Remove ``tags`` (tag -> the digest it must still point at); results and skips.

    GitLab gets one bulk delete (``bulk``) where it fits, ECR batches of
    conditional deletes; elsewhere each tag is untagged on its own.
    ``staying`` (digest -> tags that stay) guards a ``tag delete``.
    """
    for tag in tags:
        # They go into a web API's URL or an aws argument, not only a /v2/ path.
        if (problem := tag_problem(tag)) is not None:
            raise InvalidReference(f"refusing to remove a tag of {repo.name}: {problem}")
    kind = determine_registry(repo.registry).kind
    if kind == "gitlab":
        return _gitlab_remove(c, repo, tags, bulk), []
    if kind == "ecr":
        return _ecr_remove(c, repo, tags)
    done = []
    for tag, digest in tags.items():
        ref = repo.with_tag(tag)
        method = untag(c, ref, digest, list((staying or {}).get(digest, [])))
        done.append(_removed(ref, digest, method))
    return done, []


def _removed(ref: Reference, digest: str, method: str) -> DeleteResult:
    return DeleteResult(
        image=str(ref),
        digest=digest,
        tags=[ref.tag] if ref.tag else [],
        dry_run=False,
        deleted=True,
        untag_only=True,
        registry=ref.registry,
        method=method,
        removed_tags=[ref.tag] if ref.tag else [],
    )


# -- GitLab ----------------------------------------------------------------------------


def _gitlab_bulk_tags(tags: list[str]) -> list[str]:
    """The tags one bulk delete can take: all but ``latest``, if their regex fits."""
    bulk = [t for t in tags if t != "latest"]
    return bulk if len(_exact_regex(bulk)) <= _GITLAB_REGEX_MAX and len(bulk) > 1 else []


def _exact_regex(tags: list[str]) -> str:
    return "^(?:" + "|".join(re.escape(t) for t in sorted(tags)) + ")$"


def _gitlab_remove(
    c: Client, repo: Reference, tags: Mapping[str, str], bulk: bool
) -> list[DeleteResult]:
    base, headers = _gitlab_tags_url(c, repo)
    together = _gitlab_bulk_tags(list(tags)) if bulk else []
    done = []
    if together:
        params = {"name_regex_delete": _exact_regex(together)}
        response = send_outside(c.http, "DELETE", base, headers=headers, params=params)
        _raise_gitlab(response, f"the bulk tag delete of {repo.name}")
        done += [_removed(repo.with_tag(t), tags[t], "gitlab bulk delete") for t in together]
    for tag in (t for t in tags if t not in together):
        response = send_outside(c.http, "DELETE", f"{base}/{quote(tag, safe='')}", headers=headers)
        _raise_gitlab(response, f"tag {repo.name}:{tag}")
        done.append(_removed(repo.with_tag(tag), tags[tag], "gitlab tag api"))
    return done


def _gitlab_tags_url(c: Client, repo: Reference) -> tuple[str, dict[str, str]]:
    """The tags URL of ``repo``'s GitLab registry repository and the token headers."""
    registry_login(c, repo)  # no login: say how to log in before anything is sent
    registry = c.registry(repo.registry)
    api = gitlab_api(c, registry)
    headers = login_headers(c, registry, api, gitlab_token)
    if not headers:
        raise AuthenticationError(
            f"the login for {repo.registry} cannot be sent to GitLab's API at {api} (an "
            "identity token, or plain http to a host not named insecure); log in with a "
            f"personal or project access token: rk.login({repo.registry!r}, user, token)."
        )
    found = gitlab_repository(c, api, repo.repository, headers)
    if found is None:
        raise NotFound(
            f"GitLab has no container repository {repo.repository!r}; check the name, and "
            f"that the token has the read_api and api scopes ({_GITLAB_DOC})."
        )
    return found[0] + "/tags", headers


def _raise_gitlab(response: httpx.Response, what: str) -> None:
    if response.status_code in (401, 403):
        raise PermissionDenied(
            f"GitLab refused {what} (HTTP {response.status_code}). Deleting tags needs a "
            "token with the api scope and the Maintainer role (or a CI job token); log in "
            "again with rk.login(host, user, token).",
            status=response.status_code,
        )
    raise_for_response(response, what, host=response.request.url.host)


# -- ECR -------------------------------------------------------------------------------


def _ecr_remove(
    c: Client, repo: Reference, tags: Mapping[str, str]
) -> tuple[list[DeleteResult], list[str]]:
    info = determine_registry(repo.registry)
    service = "ecr-public" if info.public else "ecr"
    argv = ["aws", service, "batch-delete-image", "--repository-name", repo.repository]
    argv += ["--region", info.region or "us-east-1", "--output", "json"]
    if info.account:
        argv += ["--registry-id", info.account]
    items = list(tags.items())
    done: list[DeleteResult] = []
    skipped: list[str] = []
    for start in range(0, len(items), _ECR_BATCH):
        batch = items[start : start + _ECR_BATCH]
        ids = [f"imageDigest={d},imageTag={t}" for t, d in batch]
        answer = _aws([*argv, "--image-ids", *ids], repo.name)
        what = f"`aws {service} batch-delete-image` output"
        for failure in field_list(answer.get("failures"), f"{what}: failures"):
            image = failure.get("imageId") if isinstance(failure, dict) else None
            tag = image.get("imageTag") if isinstance(image, dict) else None
            if isinstance(tag, str) and tag in tags:  # only tags we asked about are named
                why = scrub(str(failure.get("failureReason") or failure.get("failureCode")))
                skipped.append(f"{tag}: {why}")
        for removed in field_list(answer.get("imageIds"), f"{what}: imageIds"):
            tag = removed.get("imageTag") if isinstance(removed, dict) else None
            if isinstance(tag, str) and tag in tags:
                done.append(_removed(repo.with_tag(tag), tags[tag], "ecr batch-delete-image"))
    return done, skipped


def _aws(argv: list[str], name: str) -> dict[str, Any]:
    command = " ".join(argv[:3])
    try:
        proc = run_tool(argv, timeout=_AWS_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RegistryError(f"`{command}` did not finish within {_AWS_TIMEOUT:g} s") from None
    except OSError:
        raise Unsupported(
            f"removing tags of {name} needs the AWS CLI (`{command}`), which is not "
            "installed; install it from https://aws.amazon.com/cli/ and run `aws configure`."
        ) from None
    if proc.returncode != 0:
        raise PermissionDenied(
            f"`{command}` failed for {name}: {scrub(proc.stderr.strip())}; the identity "
            "needs ecr:BatchDeleteImage on the repository."
        )
    return json_object(proc.stdout.encode(), f"`{command}` output")
