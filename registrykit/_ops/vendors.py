"""The vendors' web APIs beside the registry API: Docker Hub and GitHub.

Docker Hub's pull limit (read from a manifest HEAD, which costs no pull) and
its search API (``/v1/search``; other registries get a catalog filter), and
deletes on Docker Hub and GHCR, which refuse the registry API's DELETE:

* Docker Hub: ``POST https://hub.docker.com/v2/auth/token`` with
  ``{"identifier": user, "secret": password or access token}`` returns
  ``{"access_token"}`` (``/v2/users/login`` is deprecated in Hub's API
  reference); then ``DELETE https://hub.docker.com/v2/repositories/<ns>/<repo>/tags/<tag>/``
  with ``Authorization: Bearer <token>`` removes one tag.
* GHCR: the GitHub REST API lists a package's versions
  (``GET /users/{user}/packages/container/{name}/versions``, or
  ``/orgs/{org}/...``); the version whose ``name`` is the manifest digest is
  deleted with ``DELETE .../versions/{id}``. The token is the stored ghcr.io
  password (a personal access token with ``delete:packages``).

Tokens travel only in request headers; no message here contains one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .._client import Client, get_client
from .._model.errors import AuthenticationError, NotFound, PermissionDenied, RegistryError
from .._model.manifest import json_object
from .._model.reference import Reference, parse_reference
from .._model.render import Summary, Value
from .._transport.errors import raise_for_response, transport_error

__all__ = [
    "GITHUB_API",
    "HUB_API",
    "RateLimit",
    "dockerhub_delete_tag",
    "dockerhub_login",
    "github_headers",
    "ghcr_delete_digest",
    "rate_limit",
    "search_records",
    "send_outside",
]

DOCKER_HUB = "docker.io"
HUB_API = "https://hub.docker.com"
HUB_SEARCH_URL = "https://index.docker.io/v1/search"
GITHUB_API = "https://api.github.com"
_MAX_VERSION_PAGES = 100  # of 100 versions each: a package GitHub lists no further
_GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def send_outside(http: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """One request to a vendor's web API (not the registry API), transport errors mapped."""
    try:
        # auth=None: the registry auth flow must not answer these hosts' challenges.
        return http.request(method, url, auth=None, **kw)
    except httpx.TransportError as exc:
        raise transport_error(exc, httpx.URL(url).host) from None


def github_headers(token: str) -> dict[str, str]:
    """The headers of a GitHub REST API call with ``token``."""
    return {**_GITHUB_HEADERS, "Authorization": f"Bearer {token}"}


def dockerhub_login(http: httpx.Client, username: str, password: str) -> str:
    """A Docker Hub API token for the web API (``POST /v2/auth/token``)."""
    response = send_outside(
        http,
        "POST",
        f"{HUB_API}/v2/auth/token",
        json={"identifier": username, "secret": password},
    )
    if response.status_code in (401, 403):
        raise AuthenticationError(
            "Docker Hub refused the login for its web API (HTTP "
            f"{response.status_code}). Check the user name and password or access token "
            "(rk.login('docker.io', user, token)); tokens need the Read, Write & Delete scope.",
            status=response.status_code,
        )
    raise_for_response(response, "the Docker Hub login", host="hub.docker.com")
    token = json_object(response.content, "Docker Hub's login answer").get("access_token")
    # The token goes into a header: printable ASCII only.
    if not isinstance(token, str) or not token or not (token.isascii() and token.isprintable()):
        raise RegistryError("Docker Hub's login answer has no usable access_token")
    return token


def dockerhub_delete_tag(http: httpx.Client, token: str, repository: str, tag: str) -> None:
    """Delete one tag of ``namespace/repo`` on Docker Hub."""
    namespace, _, name = repository.partition("/")
    url = f"{HUB_API}/v2/repositories/{quote(namespace)}/{quote(name, safe='')}/tags/{quote(tag)}/"
    response = send_outside(
        http,
        "DELETE",
        url,
        headers={"Authorization": f"Bearer {token}"},
    )
    what = f"tag {repository}:{tag} on Docker Hub"
    if response.status_code == 403:
        raise PermissionDenied(
            f"Docker Hub denied deleting {what}: the account needs admin rights on the "
            "repository, and an access token needs the Read, Write & Delete scope.",
            status=403,
        )
    raise_for_response(response, what, host="hub.docker.com")


def _ghcr_versions_url(http: httpx.Client, token: str, owner: str, package: str) -> str:
    """The versions URL of the package, trying the user and then the org form."""
    headers = github_headers(token)
    name = quote(package, safe="")
    for kind in ("users", "orgs"):
        url = f"{GITHUB_API}/{kind}/{quote(owner)}/packages/container/{name}/versions"
        response = send_outside(
            http,
            "GET",
            url,
            headers=headers,
            params={"per_page": "1"},
        )
        if response.status_code == 404:
            continue
        _raise_github(response, f"the versions of ghcr.io/{owner}/{package}")
        return url
    raise NotFound(
        f"GitHub has no container package {package!r} for user or org {owner!r}; check the "
        "name, and that the token has read:packages."
    )


def _raise_github(response: httpx.Response, what: str) -> None:
    if response.status_code in (401, 403):
        raise PermissionDenied(
            f"GitHub refused access to {what} (HTTP {response.status_code}). The ghcr.io "
            "token needs the read:packages and delete:packages scopes; log in again with "
            "rk.login('ghcr.io', user, token).",
            status=response.status_code,
        )
    raise_for_response(response, what, host="api.github.com")


def ghcr_delete_digest(http: httpx.Client, token: str, repository: str, digest: str) -> int:
    """Delete the package version of ``ghcr.io/<repository>`` whose name is ``digest``.

    Returns the version id. Deleting a version removes all its tags.
    """
    owner, _, package = repository.partition("/")
    if not package:
        raise ValueError(f"ghcr.io/{repository} is not owner/package")
    url = _ghcr_versions_url(http, token, owner, package)
    headers = github_headers(token)
    for page in range(1, _MAX_VERSION_PAGES + 1):
        response = send_outside(
            http,
            "GET",
            url,
            headers=headers,
            params={"per_page": "100", "page": str(page)},
        )
        _raise_github(response, f"the versions of ghcr.io/{repository}")
        try:
            versions = response.json()
        except ValueError:
            raise RegistryError(f"GitHub's versions of ghcr.io/{repository} are not JSON") from None
        if not isinstance(versions, list) or not versions:
            break
        for version in versions:
            if isinstance(version, dict) and version.get("name") == digest:
                version_id = version.get("id")
                if type(version_id) is not int or version_id <= 0:
                    raise RegistryError(
                        f"GitHub's version of ghcr.io/{repository} with digest {digest[:19]}… "
                        "has no numeric id"
                    )
                deleted = send_outside(
                    http,
                    "DELETE",
                    f"{url}/{version_id}",
                    headers=headers,
                )
                _raise_github(deleted, f"version {version_id} of ghcr.io/{repository}")
                return version_id
    raise NotFound(f"no version of ghcr.io/{repository} has digest {digest}")


# -- Docker Hub: rate limit -------------------------------------------------------


@dataclass(frozen=True)
class RateLimit(Summary):
    """Docker Hub's pull allowance as its headers state it.

    ``limit`` and ``remaining`` are pulls per ``window`` seconds; all three
    are None when Docker Hub sent no limit headers (an unlimited account).
    ``source`` is what the limit is counted against (an IP or a user id).
    """

    image: str
    limit: int | None
    remaining: int | None
    window: int | None
    source: str | None

    @property
    def unlimited(self) -> bool:
        return self.limit is None

    def _title(self) -> str:
        return f"Docker Hub pull limit for {self.image}"

    def _rows(self) -> list[tuple[str, Value]]:
        if self.limit is None:
            return [("Pulls left", "no pull limit reported")]
        hours = f" per {self.window / 3600:g} h" if self.window else ""
        rows: list[tuple[str, Value]] = [("Pulls left", f"{self.remaining} of {self.limit}{hours}")]
        if self.source:
            rows.append(("Counted against", self.source))
        return rows


def _limit_header(value: str | None) -> tuple[int | None, int | None]:
    """``100;w=21600`` -> (100, 21600)."""
    if not value:
        return None, None
    count, *params = (p.strip() for p in value.split(";"))
    window = None
    for p in params:
        key, _, number = p.partition("=")
        if key == "w" and number.isdigit():
            window = int(number)
    return (int(count) if count.isdigit() else None), window


def rate_limit(
    image: str | Reference = "docker.io/library/alpine:latest", *, client: Client | None = None
) -> RateLimit:
    """Docker Hub's pull limit and what remains, from a manifest HEAD.

    Docker Hub counts GETs of manifests, not HEADs, so asking costs no pull.
    Logged-in users see their account's limit.
    """
    ref = image if isinstance(image, Reference) else parse_reference(image)
    headers = get_client(client).registry(ref).manifest_headers(ref.repository, ref.identifier)
    limit, window = _limit_header(headers.get("ratelimit-limit"))
    remaining, _ = _limit_header(headers.get("ratelimit-remaining"))
    return RateLimit(
        image=str(ref),
        limit=limit,
        remaining=remaining,
        window=window,
        source=headers.get("docker-ratelimit-source"),
    )


# -- search ------------------------------------------------------------------------


def search_records(
    term: str,
    registry: str = DOCKER_HUB,
    limit: int = 25,
    *,
    client: Client | None = None,
) -> list[dict[str, Any]]:
    """Repositories matching ``term``: ``registry, name, description, stars, official, automated``.

    On Docker Hub this is its search API (``/v1/search``), ranked by Hub.
    Elsewhere registries have no search endpoint, so the catalog is listed
    and names containing ``term`` (case-insensitive) are kept, in catalog
    order; ``description`` and ``stars`` are then unknown (None).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    c = get_client(client)
    host = c.registry(registry).host
    if host == DOCKER_HUB:
        return _hub_search(c.http, term, limit)
    needle = term.lower()
    out: list[dict[str, Any]] = []
    for name in c.registry(host).catalog():
        if needle in name.lower():
            out.append(
                {
                    "registry": host,
                    "name": name,
                    "description": None,
                    "stars": None,
                    "official": False,
                    "automated": False,
                }
            )
            if len(out) >= limit:
                break
    return out


def _hub_search(http: httpx.Client, term: str, limit: int) -> list[dict[str, Any]]:
    # The search API is public; send_outside keeps registry tokens away from it.
    response = send_outside(
        http, "GET", HUB_SEARCH_URL, params={"q": term, "n": str(min(limit, 100))}
    )
    raise_for_response(response, f"a search for {term!r}", host="index.docker.io")
    body = json_object(response.content, "Docker Hub search answer")
    rows = []
    for item in (body.get("results") or [])[:limit]:
        if not isinstance(item, dict):
            continue
        rows.append(
            {
                "registry": DOCKER_HUB,
                "name": str(item.get("name", "")),
                "description": item.get("description") or "",
                "stars": int(item.get("star_count") or 0),
                "official": bool(item.get("is_official")),
                "automated": bool(item.get("is_automated")),
            }
        )
    return rows
