"""Deletes on Docker Hub and GHCR, which refuse the registry API's DELETE.

* Docker Hub: ``POST https://hub.docker.com/v2/users/login`` with
  ``{"username", "password"}`` returns ``{"token"}``; then
  ``DELETE https://hub.docker.com/v2/repositories/<ns>/<repo>/tags/<tag>/``
  with ``Authorization: JWT <token>`` removes one tag.
* GHCR: the GitHub REST API lists a package's versions
  (``GET /users/{user}/packages/container/{name}/versions``, or
  ``/orgs/{org}/...``); the version whose ``name`` is the manifest digest is
  deleted with ``DELETE .../versions/{id}``. The token is the stored ghcr.io
  password (a personal access token with ``delete:packages``).

Tokens travel only in request headers; no message here contains one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from .._model.errors import AuthenticationError, NotFound, PermissionDenied, RegistryError
from .._transport.errors import raise_for_response, transport_error

__all__ = ["HUB_API", "GITHUB_API", "dockerhub_delete_tag", "dockerhub_login", "ghcr_delete_digest"]

HUB_API = "https://hub.docker.com"
GITHUB_API = "https://api.github.com"
_GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def _send(
    http: httpx.Client, method: str, url: str, what: str, host: str, **kw: Any
) -> httpx.Response:
    try:
        # auth=None: the registry auth flow must not answer these hosts' challenges.
        response = http.request(method, url, auth=None, **kw)
    except httpx.TransportError as exc:
        raise transport_error(exc, host) from None
    return response


def dockerhub_login(http: httpx.Client, username: str, password: str) -> str:
    """A Docker Hub JWT for the web API."""
    response = _send(
        http,
        "POST",
        f"{HUB_API}/v2/users/login",
        "Docker Hub login",
        "hub.docker.com",
        json={"username": username, "password": password},
    )
    if response.status_code in (401, 403):
        raise AuthenticationError(
            "Docker Hub refused the login for its web API (HTTP "
            f"{response.status_code}). Check the user name and password or access token "
            "(rk.login('docker.io', user, token)); tokens need the Read, Write & Delete scope.",
            status=response.status_code,
        )
    raise_for_response(response, "the Docker Hub login", host="hub.docker.com")
    try:
        token = response.json()["token"]
    except (ValueError, KeyError, TypeError):
        raise RegistryError("Docker Hub's login answer has no token") from None
    return str(token)


def dockerhub_delete_tag(http: httpx.Client, token: str, repository: str, tag: str) -> None:
    """Delete one tag of ``namespace/repo`` on Docker Hub."""
    namespace, _, name = repository.partition("/")
    url = f"{HUB_API}/v2/repositories/{quote(namespace)}/{quote(name, safe='')}/tags/{quote(tag)}/"
    response = _send(
        http,
        "DELETE",
        url,
        "Docker Hub tag delete",
        "hub.docker.com",
        headers={"Authorization": f"JWT {token}"},
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
    headers = {**_GITHUB_HEADERS, "Authorization": f"Bearer {token}"}
    name = quote(package, safe="")
    for kind in ("users", "orgs"):
        url = f"{GITHUB_API}/{kind}/{quote(owner)}/packages/container/{name}/versions"
        response = _send(
            http,
            "GET",
            url,
            "package versions",
            "api.github.com",
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
    headers = {**_GITHUB_HEADERS, "Authorization": f"Bearer {token}"}
    page = 1
    while True:
        response = _send(
            http,
            "GET",
            url,
            "package versions",
            "api.github.com",
            headers=headers,
            params={"per_page": "100", "page": str(page)},
        )
        _raise_github(response, f"the versions of ghcr.io/{repository}")
        versions = response.json()
        if not isinstance(versions, list) or not versions:
            break
        for version in versions:
            if isinstance(version, dict) and version.get("name") == digest:
                version_id = int(version["id"])
                deleted = _send(
                    http,
                    "DELETE",
                    f"{url}/{version_id}",
                    "package version delete",
                    "api.github.com",
                    headers=headers,
                )
                _raise_github(deleted, f"version {version_id} of ghcr.io/{repository}")
                return version_id
        page += 1
    raise NotFound(f"no version of ghcr.io/{repository} has digest {digest}")
