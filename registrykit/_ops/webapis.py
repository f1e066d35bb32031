"""Listings through the vendors' web APIs: push times, catalogs, Docker Hub without pulls.

The registry API has no push time, and an image config's ``created`` is often
a fake fixed value. These vendors say when a tag was pushed:

* GCR and Artifact Registry: the ordinary ``tags/list`` reply carries a
  ``manifest`` map, ``{digest: {"tag": [...], "timeUploadedMs": ...}}``,
  strings on GCR and int64 on AR (go-containerregistry
  ``pkg/v1/google/list.go``), so it costs no extra request.
* Docker Hub: ``GET hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/tags``
  gives per tag ``digest``, ``media_type``, ``tag_last_pushed`` and per
  platform ``images[]`` with ``digest``, ``size`` and ``last_pushed``. A
  manifest GET counts as a pull on Docker Hub; this API does not, so a
  listing built from it spends nothing of the quota.
* Quay: the tag history API, ``start_ts`` of each active tag.
* GHCR: the GitHub packages API lists versions (one per digest) with
  ``updated_at`` and ``metadata.container.tags``; it needs a token.

Registries with none of these give no push time (``pushed`` stays None).

``_catalog`` does not exist on Docker Hub or GHCR and is admin-only on
Harbor: ``docker.io/NAMESPACE`` lists through Hub's
``/v2/namespaces/{ns}/repositories`` and ``ghcr.io/OWNER`` through GitHub's
packages API; any other registry that refuses it raises ``Unsupported``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from .._client import Client, get_client
from .._model.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unsupported,
)
from .._model.hosts import DOCKER_HUB
from .._model.manifest import json_object, parse_time
from .._model.reference import Reference, parse_repository, tag_problem, valid_names
from .._registry.api import RegistryClient
from .._transport.errors import raise_for_response
from .vendors import GITHUB_API, HUB_API, github_headers, rate_limit, send_outside

__all__ = [
    "QUAY",
    "SENTINEL_TIMES",
    "audit_targets",
    "catalog_records",
    "check_pulls",
    "gcr_tags",
    "ghcr_catalog",
    "ghcr_pushed",
    "hub_catalog",
    "hub_tags",
    "is_gcr",
    "quay_pushed",
    "trusted_time",
]

# Fixed "created" values reproducible builders stamp: ko/Jib/rules_docker,
# Nix dockerTools (+1 s), Cloud Native Buildpacks, rules_oci/nix2container.
SENTINEL_TIMES = frozenset(
    dt.datetime.fromisoformat(t)
    for t in (
        "1970-01-01T00:00:00+00:00",
        "1970-01-01T00:00:01+00:00",
        "1980-01-01T00:00:01+00:00",
        "0001-01-01T00:00:00+00:00",
    )
)
MAX_WEB_PAGES = 100  # 100 pages of 100: more tags than any listing should pull in
_PAGE_SIZE = "100"


def trusted_time(value: object) -> dt.datetime | None:
    """An RFC 3339 time or datetime, None when missing or one of the fake fixed values."""
    when = value if isinstance(value, dt.datetime) else parse_time(value)
    if when is None:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return None if when in SENTINEL_TIMES else when


def _millis(value: object) -> dt.datetime | None:
    """``timeUploadedMs``: a decimal string (GCR) or an int64 (AR); 0 means unknown."""
    try:
        ms = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if ms > 0 else None


def is_gcr(host: str) -> bool:
    """Google Container Registry or Artifact Registry (``REGION-docker.pkg.dev``)."""
    return host == "gcr.io" or host.endswith((".gcr.io", "-docker.pkg.dev"))


def gcr_tags(registry: RegistryClient, repository: str) -> tuple[list[str], dict[str, dt.datetime]]:
    """The tags of a GCR/AR repository and each one's upload time, from one tags list."""
    what = f"tag list of {registry.host}/{repository}"
    url = registry._object_url(repository, "tags", "list")  # the one paginated reader
    names: list[str] = []
    pushed: dict[str, dt.datetime] = {}
    for page in registry._pages(url, 1000, what):
        names += valid_names(
            [t for t in page.get("tags") or [] if isinstance(t, str)], tag_problem, what
        )
        manifests = page.get("manifest")
        for info in manifests.values() if isinstance(manifests, dict) else ():
            when = _millis(info.get("timeUploadedMs")) if isinstance(info, dict) else None
            for tag in info.get("tag") or [] if when else ():
                if isinstance(tag, str):
                    pushed[tag] = when  # type: ignore[assignment]
    return names, pushed


# -- the web APIs' paginated lists ---------------------------------------------------


def _web_pages(
    http: httpx.Client,
    url: str,
    what: str,
    params: dict[str, str],
    headers: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """Hub's ``{"next", "results"}`` pages or GitHub's list pages, bounded, on one host.

    ``params`` go with the first request; the next pages' links carry their own.
    """
    host = httpx.URL(url).host
    next_url: str | None = url
    first: dict[str, str] | None = params
    for _ in range(MAX_WEB_PAGES):
        if next_url is None:
            return
        response = send_outside(http, "GET", next_url, params=first, headers=dict(headers or {}))
        if response.status_code == 404:
            raise NotFound(f"{what}: {host} has no such repository or namespace")
        if response.status_code in (401, 403):
            raise PermissionDenied(
                f"{host} refused {what} (HTTP {response.status_code}); it is private or "
                "needs a token: log in with rk.login(...)",
                status=response.status_code,
            )
        raise_for_response(response, what, host=host)
        if host == httpx.URL(HUB_API).host:
            body = json_object(response.content, what)
            yield from body.get("results") or []
            link = body.get("next")
        else:
            page = response.json()
            yield from page if isinstance(page, list) else []
            link = response.links.get("next", {}).get("url")
        next_url, first = (str(link) if link else None), None
        if next_url is not None and httpx.URL(next_url).host != host:
            raise Unsupported(f"{what}: the next page leaves {host}; stopping there")
    raise Unsupported(f"{what} has more than {MAX_WEB_PAGES} pages; stopping there")


# -- Docker Hub ----------------------------------------------------------------------


def _hub_repo(repository: str) -> tuple[str, str]:
    namespace, _, name = repository.partition("/")
    return (namespace, name) if name else ("library", namespace)


def hub_tags(http: httpx.Client, repository: str) -> list[dict[str, Any]]:
    """Docker Hub's tag objects for ``namespace/repo`` (its web API: no pull is counted)."""
    ns, name = _hub_repo(repository)
    url = f"{HUB_API}/v2/namespaces/{quote(ns)}/repositories/{quote(name, safe='')}/tags"
    what = f"the tags of docker.io/{ns}/{name} from Hub's API"
    pages = _web_pages(http, url, what, {"page_size": _PAGE_SIZE})
    return [t for t in pages if isinstance(t, dict) and t.get("name")]


def hub_catalog(http: httpx.Client, namespace: str) -> list[str]:
    """``namespace/name`` of every repository of a Docker Hub namespace."""
    url = f"{HUB_API}/v2/namespaces/{quote(namespace)}/repositories"
    what = f"the repositories of docker.io/{namespace}"
    return [
        f"{namespace}/{r['name']}"
        for r in _web_pages(http, url, what, {"page_size": _PAGE_SIZE})
        if isinstance(r, dict) and isinstance(r.get("name"), str)
    ]


def check_pulls(client: Client, repository: str, tags: list[str]) -> None:
    """Refuse, before any pull, work that needs more Docker Hub pulls than remain.

    One GET per tag is counted: the fewest pulls a first listing of ``tags`` makes.
    """
    pulls = len(tags)
    if not pulls:
        return
    # The HEAD that reads the allowance costs no pull; a tag that exists answers it.
    limit = rate_limit(f"{DOCKER_HUB}/{repository}:{tags[0]}", client=client)
    if limit.remaining is not None and pulls > limit.remaining:
        raise RateLimited(
            f"this needs about {pulls} manifest pulls of docker.io/{repository}, but Docker "
            f"Hub allows {limit.remaining} more of {limit.limit} now (counted against "
            f"{limit.source or 'this client'}); list without manifests, log in for a larger "
            "allowance, or wait for the window to pass"
        )


# -- GHCR ----------------------------------------------------------------------------


def _github_token(client: Client) -> str | None:
    login = client.login_for("ghcr.io")
    return login.secret if login else None


def _github_list(
    client: Client, path: str, what: str, params: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """A GitHub list under ``/users/...`` or, when that is not found, ``/orgs/...``."""
    token = _github_token(client)
    if token is None:
        raise PermissionDenied(
            f"{what} needs GitHub's packages API, which needs a token with read:packages: "
            "rk.login('ghcr.io', user, token)"
        )
    headers = github_headers(token)
    query = {**(params or {}), "per_page": _PAGE_SIZE}
    try:
        yield from _web_pages(client.http, f"{GITHUB_API}/users/{path}", what, query, headers)
    except NotFound:
        yield from _web_pages(client.http, f"{GITHUB_API}/orgs/{path}", what, query, headers)


def ghcr_catalog(client: Client, owner: str) -> list[str]:
    """``owner/name`` of every container package of a GitHub user or organisation."""
    what = f"the container packages of ghcr.io/{owner}"
    packages = _github_list(client, f"{quote(owner)}/packages", what, {"package_type": "container"})
    return [
        f"{owner}/{p['name']}"
        for p in packages
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    ]


def ghcr_pushed(client: Client, repository: str) -> dict[str, dt.datetime]:
    """Each tag's push time on GHCR (its version's ``updated_at``); empty without a token."""
    owner, _, package = repository.partition("/")
    if _github_token(client) is None or not package:
        return {}
    path = f"{quote(owner)}/packages/container/{quote(package, safe='')}/versions"
    pushed: dict[str, dt.datetime] = {}
    for version in _github_list(client, path, f"the versions of ghcr.io/{repository}"):
        if not isinstance(version, dict):
            continue
        when = trusted_time(version.get("updated_at") or version.get("created_at"))
        container = (version.get("metadata") or {}).get("container") or {}
        for tag in container.get("tags") or [] if when else ():
            pushed[str(tag)] = when  # type: ignore[assignment]
    return pushed


# -- Quay ----------------------------------------------------------------------------

QUAY = "quay.io"


def quay_pushed(http: httpx.Client, repository: str) -> dict[str, dt.datetime]:
    """Each active tag's push time on Quay: the ``start_ts`` of its current lifetime.

    ``GET /api/v1/repository/{ns}/{repo}/tag/?onlyActiveTags=true`` answers
    ``{"tags": [{"name", "manifest_digest", "start_ts", ...}], "page",
    "has_additional"}``; public repositories need no token.
    """
    url = f"https://{QUAY}/api/v1/repository/{quote(repository, safe='/')}/tag/"
    what = f"the tag history of {QUAY}/{repository}"
    pushed: dict[str, dt.datetime] = {}
    for page in range(1, MAX_WEB_PAGES + 1):
        params = {"onlyActiveTags": "true", "limit": _PAGE_SIZE, "page": str(page)}
        response = send_outside(http, "GET", url, params=params)
        raise_for_response(response, what, host=QUAY)
        body = json_object(response.content, what)
        for tag in body.get("tags") or []:
            start = tag.get("start_ts") if isinstance(tag, dict) else None
            if isinstance(start, int) and start > 0 and isinstance(tag.get("name"), str):
                pushed[tag["name"]] = dt.datetime.fromtimestamp(start, dt.UTC)
        if not body.get("has_additional"):
            return pushed
    raise Unsupported(f"{what} has more than {MAX_WEB_PAGES} pages; stopping there")


# -- catalogs ------------------------------------------------------------------------


def _matcher(pattern: str | re.Pattern[str] | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    if isinstance(pattern, re.Pattern):
        return pattern
    if pattern.startswith("^"):
        return re.compile(pattern)
    return re.compile(fnmatch.translate(pattern))


def catalog_records(
    registry: str,
    pattern: str | re.Pattern[str] | None = None,
    *,
    client: Client | None = None,
) -> list[dict[str, Any]]:
    """Every repository of ``registry`` (all pages): ``registry, repository`` rows.

    ``registry`` is a host, or ``docker.io/NAMESPACE`` / ``ghcr.io/OWNER``,
    listed through Docker Hub's and GitHub's APIs (neither has ``_catalog``).
    ``pattern`` filters names: a compiled ``re.Pattern`` or a string starting
    with ``^`` is a regular expression (``re.search``); any other string is a
    shell glob matched against the whole name, where ``*`` also crosses ``/``.
    """
    c = get_client(client)
    host, names = _catalog(c, registry)
    match = _matcher(pattern)
    return [
        {"registry": host, "repository": name}
        for name in names
        if match is None or match.search(name)
    ]


def _catalog(client: Client, registry: str) -> tuple[str, list[str]]:
    """The host and repository names of ``registry`` (``host`` or ``host/NAMESPACE``)."""
    host, _, namespace = registry.strip("/").partition("/")
    reg = client.registry(host)
    if reg.host == DOCKER_HUB and namespace:
        return reg.host, hub_catalog(client.http, namespace)
    if reg.host == "ghcr.io" and namespace:
        return reg.host, ghcr_catalog(client, namespace)
    if reg.host in (DOCKER_HUB, "ghcr.io"):
        raise Unsupported(
            f"{reg.host} has no catalog of all its repositories; name a namespace, e.g. "
            f"rk.catalog('{reg.host}/NAMESPACE')"
        )
    try:
        names = list(reg.catalog())
    except AuthenticationError:
        if client.login_for(reg.host) is None:
            raise  # not logged in: logging in is the remedy
        raise _no_catalog(reg.host, "401") from None
    except (NotFound, PermissionDenied, Unsupported) as exc:
        raise _no_catalog(reg.host, str(exc.status or type(exc).__name__)) from None
    prefix = f"{namespace}/" if namespace else ""
    return reg.host, [n for n in names if n.startswith(prefix)]


def _no_catalog(host: str, answer: str) -> Unsupported:
    # Harbor keeps _catalog for administrators and answers a logged-in user 401.
    return Unsupported(
        f"{host} does not list its repositories (/v2/_catalog answered {answer}): it has "
        "no catalog or keeps it for administrators (Harbor). Name the repositories "
        f"instead, e.g. rk.tags('{host}/NAME'), or log in as an administrator"
    )


def audit_targets(
    target: str | Sequence[str | Reference], *, client: Client | None = None
) -> list[str]:
    """``host/name`` of each repository to audit: a bare host expands to its catalog."""
    if isinstance(target, str) and "/" not in target:
        host, names = _catalog(get_client(client), target)
        return [f"{host}/{name}" for name in names]
    items = [target] if isinstance(target, str) else list(target)
    return [
        f"{r.registry}/{r.repository}"
        for r in (i if isinstance(i, Reference) else parse_repository(i) for i in items)
    ]
