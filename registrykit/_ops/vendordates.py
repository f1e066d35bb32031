"""When each tag was pushed, from the vendor's own API (the registry API has no push time).

An image config's ``created`` is often a fake fixed value, so listings show
``pushed`` where the registry's vendor says it:

* GCR and Artifact Registry: the ordinary ``tags/list`` reply carries a
  ``manifest`` map, ``{digest: {"tag": [...], "timeUploadedMs": ...}}``,
  strings on GCR and int64 on AR (go-containerregistry
  ``pkg/v1/google/list.go``), so it costs no extra request.
* Docker Hub: its tags API (``webapis.hub_tags``), ``tag_last_pushed``.
* GHCR: package versions' ``updated_at`` (``webapis.ghcr_pushed``).
* Quay: the tag history API, ``start_ts`` of each active tag.
* ACR: ``GET /acr/v1/{repo}/_tags`` on the registry itself, ``lastUpdateTime``
  (the registry's own Bearer challenge grants the ``metadata_read`` scope).
* Harbor, known by its token challenge (``realm=.../service/token``,
  ``service="harbor-registry"``), costing no probe: the artifacts API,
  each tag's ``push_time``.
* GitLab, known by its token realm ``.../jwt/auth`` (or the host
  registry.gitlab.com), and ECR: ``clouddates.py``.

A vendor API that refuses (no token, a private repository) or answers
nonsense leaves the listing undated, never broken.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from functools import partial
from urllib.parse import quote

from .._client import Client
from .._credentials.keychain import Login
from .._model.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RegistryKitError,
    Unsupported,
)
from .._model.hosts import DOCKER_HUB
from .._model.manifest import field_list, json_object
from .._model.reference import tag_problem, valid_names
from .._model.registries import determine_registry
from .._registry.api import RegistryClient
from .._registry.session import MAX_PAGE_SIZE
from .clouddates import ecr_pushed, gitlab_api, gitlab_pushed, login_headers
from .webapis import (
    MAX_WEB_PAGES,
    PAGE_SIZE,
    check_pulls,
    epoch_time,
    ghcr_pushed,
    hub_pushed,
    hub_tags,
    next_link,
    trusted_time,
    web_get,
    web_json,
)

__all__ = [
    "Pushed",
    "acr_pushed",
    "gcr_tags",
    "harbor_pushed",
    "is_gcr",
    "names_and_pushed",
    "quay_pushed",
]

log = logging.getLogger(__name__)

Pushed = dict[str, dt.datetime]
Dater = Callable[[Client, RegistryClient, str, list[str]], Pushed]

QUAY = "quay.io"
_HARBOR_REALM = "/service/token"
# The API refused: private, no token, no such repository there. Not worth a warning.
_REFUSED = (AuthenticationError, PermissionDenied, NotFound)


def names_and_pushed(
    client: Client, registry: RegistryClient, repo: str, tags: Iterable[str] | None
) -> tuple[list[str], Pushed]:
    """The tags to list and the push time of those the vendor's API dates.

    On Docker Hub the names come from Hub's tags API, and the call refuses
    first (``RateLimited``) when their manifests need more pulls than remain.
    """
    if registry.host == DOCKER_HUB:
        return _hub_names(client, registry, repo, tags)
    if is_gcr(registry.host):
        names, pushed = gcr_tags(registry, repo)  # the tags list itself carries the times
        return (list(tags) if tags is not None else names), pushed
    names = list(tags) if tags is not None else registry.tags(repo)
    dater = _dater(client, registry)
    if dater is None or not names:
        return names, {}
    where = f"{registry.host}/{repo}"
    try:
        return names, dater(client, registry, repo, names)
    except _REFUSED as exc:
        log.info("no push times for %s: %s", where, exc)
    except RegistryKitError as exc:
        log.warning("the push times of %s are unreadable, listing it undated: %s", where, exc)
    return names, {}


def _hub_names(
    client: Client, registry: RegistryClient, repo: str, tags: Iterable[str] | None
) -> tuple[list[str], Pushed]:
    try:
        found = {str(t["name"]): t for t in hub_tags(client, repo)}
    except _REFUSED as exc:
        # Hub's web API refuses what the registry API may still serve (a private
        # repository read with an identity token): list it undated, as elsewhere.
        log.info("no push times for docker.io/%s: %s", repo, exc)
        found = {}
    names = list(tags) if tags is not None else list(found) or registry.tags(repo)
    check_pulls(client, repo, {name: found.get(name) for name in names})
    pushed = {name: when for name in names if name in found and (when := hub_pushed(found[name]))}
    return names, pushed


def _dater(client: Client, registry: RegistryClient) -> Dater | None:
    """The function that dates this registry's tags, known from its host or its challenge."""
    host = registry.host
    info = determine_registry(host)
    if host == "ghcr.io":
        return lambda c, _r, repo, _n: ghcr_pushed(c, repo)
    if host == QUAY:
        return quay_pushed
    if info.kind == "acr":
        return acr_pushed
    if info.kind == "ecr" and not info.public:
        return ecr_pushed
    challenge = client.auth.challenge(registry.base_url.partition("://")[2])
    realm = challenge.params.get("realm", "") if challenge and challenge.scheme == "bearer" else ""
    service = challenge.params.get("service", "") if challenge else ""
    if realm.endswith(_HARBOR_REALM) and service == "harbor-registry":
        return partial(harbor_pushed, api=realm.removesuffix(_HARBOR_REALM))
    if realm.endswith("/jwt/auth") or info.kind == "gitlab":
        return partial(gitlab_pushed, api=gitlab_api(client, registry))
    return None


# -- GCR and Artifact Registry -------------------------------------------------------


def is_gcr(host: str) -> bool:
    """Google Container Registry or Artifact Registry (``REGION-docker.pkg.dev``)."""
    return host == "gcr.io" or host.endswith((".gcr.io", "-docker.pkg.dev"))


def gcr_tags(registry: RegistryClient, repository: str) -> tuple[list[str], Pushed]:
    """The tags of a GCR/AR repository and each one's upload time, from one tags list."""
    what = f"tag list of {registry.host}/{repository}"
    url = registry._object_url(repository, "tags", "list")  # the one paginated reader
    names: list[str] = []
    pushed: Pushed = {}
    for page in registry._pages(url, 1000, what):
        names += valid_names(
            [t for t in page.get("tags") or [] if isinstance(t, str)], tag_problem, what
        )
        manifests = page.get("manifest")
        for info in manifests.values() if isinstance(manifests, dict) else ():
            when = epoch_time(info.get("timeUploadedMs"), 1000) if isinstance(info, dict) else None
            for tag in info.get("tag") or [] if when else ():
                if isinstance(tag, str):
                    pushed[tag] = when  # type: ignore[assignment]
    return names, pushed


# -- Quay ----------------------------------------------------------------------------


def quay_pushed(client: Client, registry: RegistryClient, repo: str, names: list[str]) -> Pushed:
    """Each active tag's push time on Quay: the ``start_ts`` of its current lifetime.

    ``GET /api/v1/repository/{ns}/{repo}/tag/?onlyActiveTags=true`` answers
    ``{"tags": [{"name", "manifest_digest", "start_ts", ...}], "page",
    "has_additional"}``; public repositories need no token.
    """
    url = f"https://{QUAY}/api/v1/repository/{quote(repo, safe='/')}/tag/"
    what = f"the tag history of {QUAY}/{repo}"
    pushed: Pushed = {}
    for page in range(1, MAX_WEB_PAGES + 1):
        params = {"onlyActiveTags": "true", "limit": str(PAGE_SIZE), "page": str(page)}
        _, body = web_get(client.http, url, what, params=params)
        answer = json_object(body, what)
        for tag in field_list(answer.get("tags"), f"{what}: tags"):
            when = epoch_time(tag.get("start_ts")) if isinstance(tag, dict) else None
            if when and isinstance(tag.get("name"), str):
                pushed[tag["name"]] = when
        if answer.get("has_additional") is not True:
            return pushed
    raise Unsupported(f"{what} has more than {MAX_WEB_PAGES} pages; stopping there")


# -- ACR -----------------------------------------------------------------------------


def acr_pushed(client: Client, registry: RegistryClient, repo: str, names: list[str]) -> Pushed:
    """Each tag's ``lastUpdateTime`` from ACR's ``GET /acr/v1/{repo}/_tags?n=100``.

    It answers ``{"registry", "imageName", "tags": [{"name", "digest",
    "createdTime", "lastUpdateTime", ...}]}`` with ``Link`` paging. The
    request goes through the registry's auth flow with the ``metadata_read``
    scope its challenge names.
    """
    what = f"the tag metadata of {registry.host}/{repo}"
    url: str | None = f"{registry.base_url}/acr/v1/{quote(repo, safe='/')}/_tags"
    seen = {str(url)}
    params: dict[str, str] | None = {"n": str(PAGE_SIZE)}
    scope = f"repository:{repo}:metadata_read"
    pushed: Pushed = {}
    for _ in range(MAX_WEB_PAGES):
        if url is None:
            return pushed
        response = registry._send(
            "GET", url, what=what, params=params, scopes=(scope,), limit=MAX_PAGE_SIZE
        )
        answer = json_object(response.content, what)
        for tag in field_list(answer.get("tags"), f"{what}: tags"):
            if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                when = trusted_time(tag.get("lastUpdateTime") or tag.get("createdTime"))
                if when:
                    pushed[tag["name"]] = when
        link = response.links.get("next", {}).get("url")
        url, params = next_link(response, link, seen, what), None
    if url is not None:
        raise Unsupported(f"{what} has more than {MAX_WEB_PAGES} pages; stopping there")
    return pushed


# -- Harbor --------------------------------------------------------------------------


def harbor_pushed(
    client: Client, registry: RegistryClient, repo: str, names: list[str], *, api: str
) -> Pushed:
    """Each tag's ``push_time`` from Harbor's artifacts API (``api`` is its origin).

    ``GET /api/v2.0/projects/{project}/repositories/{name}/artifacts
    ?with_tag=true&page_size=100&page=N``, the name URL-encoded twice (its
    slashes too), answers artifacts with ``push_time`` and ``tags[]`` of
    ``{"name", "push_time"}``. The registry login goes as Basic credentials,
    only where ``login_headers`` allows.
    """
    project, _, name = repo.partition("/")
    if not name:
        return {}
    repository = quote(quote(name, safe=""), safe="")
    url = f"{api}/api/v2.0/projects/{quote(project, safe='')}/repositories/{repository}/artifacts"
    what = f"the artifacts of {registry.host}/{repo}"
    headers = login_headers(client, registry, url, _basic)
    pushed: Pushed = {}
    for page in range(1, MAX_WEB_PAGES + 1):
        params = {"with_tag": "true", "page_size": str(PAGE_SIZE), "page": str(page)}
        _, body = web_get(client.http, url, what, params=params, headers=headers)
        artifacts = field_list(web_json(body, what), what)
        for artifact in (a for a in artifacts if isinstance(a, dict)):
            default = trusted_time(artifact.get("push_time"))
            for tag in field_list(artifact.get("tags"), f"{what}: tags"):
                if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                    when = trusted_time(tag.get("push_time")) or default
                    if when:
                        pushed[tag["name"]] = when
        if len(artifacts) < PAGE_SIZE:
            return pushed
    raise Unsupported(f"{what} has more than {MAX_WEB_PAGES} pages; stopping there")


def _basic(login: Login) -> dict[str, str]:
    raw = base64.b64encode(f"{login.username}:{login.secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {raw}"}
