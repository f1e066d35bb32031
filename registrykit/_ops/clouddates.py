"""Push times from GitLab's registry API and from ECR (through the AWS CLI).

* GitLab: ``GET /api/v4/projects/:path/registry/repositories?tags=true``
  finds the registry repository (its ``id``, its tags) under the longest
  project path that holds it; then ``GET .../repositories/:id/tags/:name``
  per tag gives ``created_at``, fetched concurrently on the client's pool
  and at most ``MAX_GITLAB_TAGS`` of them. The GitLab token is the
  registry login's password (a personal, project or CI job token).
* ECR: ``aws ecr describe-images`` (``DescribeImages``) lists images with
  ``imageTags`` and ``imagePushedAt``, paged with ``--max-items`` and
  ``NextToken``, through the cloud CLI runner (timeout, scrubbed errors).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

import httpx

from .._client import Client
from .._credentials.cloud import _run_cli
from .._credentials.keychain import Login
from .._credentials.process import remember_secret
from .._model.errors import NotFound, RegistryError, Unsupported
from .._model.manifest import field_list, json_object
from .._model.reference import tag_problem
from .._model.registries import determine_registry
from .._registry.api import RegistryClient
from .webapis import PAGE_SIZE, epoch_time, trusted_time, web_get, web_pages

__all__ = [
    "MAX_GITLAB_TAGS",
    "ecr_pushed",
    "gitlab_api",
    "gitlab_pushed",
    "gitlab_repository",
    "gitlab_token",
    "login_headers",
]

MAX_GITLAB_TAGS = 1000  # one request each: the most a listing spends on dates
_MAX_PROJECT_TRIES = 4  # group/project plus up to three image-name segments
_MAX_ECR_PAGES = 50  # of 1000 images each
_MAX_CLI_OUTPUT = 16 * 1024 * 1024  # a page of 1000 image details is about 1 MiB
_CLI_TIMEOUT = 60.0
_GITLAB_REALM = "/jwt/auth"


def login_headers(
    client: Client, registry: RegistryClient, url: str, make: Callable[[Login], dict[str, str]]
) -> dict[str, str]:
    """``make(login)`` for ``registry``'s login, or nothing.

    Credentials go only to the registry's own host or to the host its token
    challenge named (where the auth flow sends them anyway), and never over
    plain http to a host that is not loopback or named insecure.
    """
    login = client.login_for(registry.host)
    target = httpx.URL(url)
    own = httpx.URL(registry.base_url).netloc.decode("ascii")
    challenge = client.auth.challenge(own)
    realm = challenge.params.get("realm", "") if challenge else ""
    trusted = {own}
    with contextlib.suppress(httpx.InvalidURL, UnicodeError):  # no URL: the registry only
        trusted.add(httpx.URL(realm).netloc.decode("ascii") if realm else own)
    if determine_registry(registry.host).kind == "gitlab":
        trusted.add(httpx.URL(gitlab_api(client, registry)).netloc.decode("ascii"))
    if (
        login is None
        or login.identity_token
        or target.netloc.decode("ascii") not in trusted
        or not client.policy.may_send_credentials(target)
    ):
        return {}
    headers = make(login)
    for value in headers.values():
        remember_secret(value)
    return headers


# -- GitLab --------------------------------------------------------------------------


def gitlab_api(client: Client, registry: RegistryClient) -> str:
    """GitLab's API root (``https://HOST/api/v4``) for its container registry.

    The registry's token realm (``https://HOST/jwt/auth``) names the GitLab
    host; before a challenge is known, GitLab's own convention applies:
    ``registry.HOST`` serves the registry of ``HOST``.
    """
    own = httpx.URL(registry.base_url).netloc.decode("ascii")
    challenge = client.auth.challenge(own)
    realm = challenge.params.get("realm", "") if challenge and challenge.scheme == "bearer" else ""
    if realm.endswith(_GITLAB_REALM):
        return realm.removesuffix(_GITLAB_REALM) + "/api/v4"
    return f"https://{registry.host.removeprefix('registry.')}/api/v4"


def gitlab_token(login: Login) -> dict[str, str]:
    # A CI job's token has its own header; personal and project tokens the private one.
    header = "JOB-TOKEN" if login.username == "gitlab-ci-token" else "PRIVATE-TOKEN"
    return {header: login.secret}


def gitlab_pushed(
    client: Client, registry: RegistryClient, repo: str, names: list[str], *, api: str
) -> dict[str, dt.datetime]:
    """Each tag's ``created_at`` from GitLab's registry API at ``api`` (``.../api/v4``)."""
    headers = login_headers(client, registry, api, gitlab_token)
    found = gitlab_repository(client, api, repo, headers)
    if found is None:
        return {}
    base, listed = found
    base += "/tags/"
    wanted = [n for n in names if n in listed]
    what = f"the tag details of {registry.host}/{repo}"

    def created(tag: str) -> tuple[str, dt.datetime | None]:
        try:
            _, body = web_get(client.http, base + quote(tag, safe=""), what, headers=headers)
        except NotFound:
            return tag, None  # deleted since the list
        return tag, trusted_time(json_object(body, what).get("created_at"))

    dated = client.map(created, wanted[:MAX_GITLAB_TAGS])
    return {tag: when for tag, when in dated if when}


def gitlab_repository(
    client: Client, api: str, repo: str, headers: dict[str, str]
) -> tuple[str, set[str]] | None:
    """The API URL of ``repo``'s registry repository and its tag names, or None.

    The project is the longest leading part of ``repo`` that GitLab knows
    (the rest is the image name inside the project).
    """
    parts = repo.split("/")
    for end in range(len(parts), max(1, len(parts) - _MAX_PROJECT_TRIES), -1):
        project = "/".join(parts[:end])
        url = f"{api}/projects/{quote(project, safe='')}/registry/repositories"
        what = f"the registry repositories of GitLab project {project}"
        params = {"tags": "true", "per_page": str(PAGE_SIZE)}
        try:
            for item in web_pages(client.http, url, what, params, headers):
                if isinstance(item, dict) and item.get("path") == repo:
                    return _tags_url(url, item, what)
        except NotFound:
            continue
    return None


def _tags_url(url: str, item: dict[str, object], what: str) -> tuple[str, set[str]]:
    repository_id = item.get("id")
    if isinstance(repository_id, bool) or not isinstance(repository_id, int) or repository_id < 0:
        raise RegistryError(f"{what}: the repository id is not a number")
    tags = field_list(item.get("tags"), f"{what}: tags")
    names = {t["name"] for t in tags if isinstance(t, dict) and tag_problem(t.get("name")) is None}
    return f"{url}/{repository_id}", names


# -- ECR -----------------------------------------------------------------------------


def ecr_pushed(
    client: Client, registry: RegistryClient, repo: str, names: list[str]
) -> dict[str, dt.datetime]:
    """Each tag's ``imagePushedAt`` from ``aws ecr describe-images``, page by page."""
    info = determine_registry(registry.host)
    if info.account is None or info.region is None:
        return {}
    argv = [
        "aws", "ecr", "describe-images",
        "--repository-name", repo,
        "--registry-id", info.account,
        "--region", info.region,
        "--filter", "tagStatus=TAGGED",
        "--max-items", "1000",
        "--output", "json",
    ]  # fmt: skip
    what = f"the image details of {registry.host}/{repo}"
    pushed: dict[str, dt.datetime] = {}
    token: str | None = None
    for _ in range(_MAX_ECR_PAGES):
        out = _run_cli([*argv, *(["--starting-token", token] if token else [])], _CLI_TIMEOUT)
        if len(out) > _MAX_CLI_OUTPUT:
            raise Unsupported(f"{what}: the AWS CLI printed over 16 MiB for one page")
        answer = json_object(out.encode(), what)
        for image in field_list(answer.get("imageDetails"), f"{what}: imageDetails"):
            if not isinstance(image, dict):
                continue
            at = image.get("imagePushedAt")  # ISO 8601 (CLI v2) or epoch seconds (v1)
            when = trusted_time(at) if isinstance(at, str) else epoch_time(at)
            for tag in field_list(image.get("imageTags"), f"{what}: imageTags") if when else ():
                if isinstance(tag, str):
                    pushed[tag] = when  # type: ignore[assignment]
        following = answer.get("NextToken") or answer.get("nextToken")
        if not following:
            return pushed
        # It becomes a command-line argument: no option look-alike, nothing unprintable.
        plain = isinstance(following, str) and following.isprintable()
        if not plain or str(following).startswith("-"):
            raise RegistryError(f"{what}: NextToken is not a plain string")
        token = str(following)
    raise Unsupported(f"{what} has more than {_MAX_ECR_PAGES} pages; stopping there")
