"""The vendors' web APIs beside the registry API: bounded reads, Docker Hub, GHCR, catalogs.

Every answer here is untrusted: one page is at most ``MAX_WEB_PAGE`` bytes
and must arrive in time, a list has at most ``MAX_WEB_PAGES`` pages and its
next links stay on the host that began it, and times pass ``trusted_time``.

* Docker Hub: ``GET hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/tags``
  gives per tag ``digest``, ``media_type``, ``tag_last_pushed`` and per
  platform ``images[]`` with ``digest``, ``size`` and ``last_pushed``. A
  manifest GET counts as a pull on Docker Hub (one per architecture of a
  multi-arch image); this API does not, so a listing built from it spends
  nothing of the quota. With a docker.io login the calls carry a Hub API
  token (``POST /v2/auth/token``), which also lists private repositories.
* GHCR: the GitHub packages API lists versions (one per digest) with
  ``updated_at`` and ``metadata.container.tags``; it needs a token.

``_catalog`` does not exist on Docker Hub or GHCR and is admin-only on
Harbor: ``docker.io/NAMESPACE`` lists through Hub's
``/v2/namespaces/{ns}/repositories`` and ``ghcr.io/OWNER`` through GitHub's
packages API; any other registry that refuses it raises ``Unsupported``.
The other vendors' push times are in ``vendordates.py``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from .._client import Client, get_client
from .._credentials.keychain import Login
from .._credentials.process import remember_secret
from .._model.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryError,
    Unsupported,
)
from .._model.hosts import DOCKER_HUB
from .._model.manifest import UNKNOWN_PLATFORM, Platform, field_list, parse_time
from .._model.reference import Reference, parse_repository, tag_problem
from .._registry.session import MAX_PAGE_SIZE
from .._transport.errors import raise_for_response, read_capped, transport_error
from .vendors import GITHUB_API, HUB_API, dockerhub_login, github_headers, rate_limit

__all__ = [
    "MAX_WEB_PAGES",
    "PAGE_SIZE",
    "SENTINEL_TIMES",
    "audit_targets",
    "catalog_records",
    "check_pulls",
    "epoch_time",
    "ghcr_catalog",
    "ghcr_pushed",
    "hub_catalog",
    "hub_platform",
    "hub_pushed",
    "hub_tags",
    "hub_token",
    "next_link",
    "trusted_time",
    "web_get",
    "web_json",
    "web_pages",
]

log = logging.getLogger(__name__)

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
PAGE_SIZE = 100
# Clocks differ a little; a time further ahead than this is made up.
_FUTURE_SLACK = dt.timedelta(days=1)
# A page must arrive within this many read timeouts (as the registry session's bodies).
_DEADLINE_READ_TIMEOUTS = 2


def trusted_time(value: object) -> dt.datetime | None:
    """An RFC 3339 time or datetime; None when missing, a fake fixed value or in the future."""
    when = value if isinstance(value, dt.datetime) else parse_time(value)
    if when is None:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if when in SENTINEL_TIMES or when > dt.datetime.now(dt.UTC) + _FUTURE_SLACK:
        return None
    return when


def epoch_time(value: object, per_second: int = 1) -> dt.datetime | None:
    """Seconds (or 1/``per_second`` units) since the epoch, a number or a decimal string.

    0, negative, non-finite or out-of-range values are no time.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value) / per_second
        when = dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return trusted_time(when) if seconds > 0 else None


# -- bounded reads of the web APIs ---------------------------------------------------


def web_get(
    http: httpx.Client,
    url: str,
    what: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[httpx.Response, bytes]:
    """One GET of a vendor's web API: the answer and its body, bounded and read in time.

    404 raises ``NotFound`` and 401/403 ``PermissionDenied`` (the API refused);
    other error statuses raise as the registry's would.
    """
    host = httpx.URL(url).host
    try:
        request = http.build_request("GET", url, params=params, headers=dict(headers or {}))
        # auth=None: the registry auth flow must not answer these hosts' challenges.
        response = http.send(request, stream=True, auth=None)
    except httpx.TransportError as exc:
        raise transport_error(exc, host) from None
    read = http.timeout.read
    deadline = None if read is None else time.monotonic() + read * _DEADLINE_READ_TIMEOUTS
    body = read_capped(response, MAX_PAGE_SIZE + 1, what, host=host, deadline=deadline)
    if len(body) > MAX_PAGE_SIZE:
        raise Unsupported(f"{what}: {host} sent a page over {MAX_PAGE_SIZE >> 20} MiB; refusing it")
    status = response.status_code
    if status == 404:
        raise NotFound(f"{what}: {host} has no such repository or namespace", status=404)
    if status in (401, 403):
        raise PermissionDenied(
            f"{host} refused {what} (HTTP {status}); it is private or needs a token: "
            "log in with rk.login(...)",
            status=status,
        )
    plain = {k: v for k, v in response.headers.items() if k.lower() != "content-encoding"}
    raise_for_response(httpx.Response(status, headers=plain, content=body, request=request), what)
    return response, body


def web_json(body: bytes, what: str) -> Any:
    """A web API's JSON answer (any JSON value), else a RegistryError naming ``what``."""
    try:
        return json.loads(body)
    except ValueError:
        raise RegistryError(f"{what} is not valid JSON") from None


def next_link(response: httpx.Response, link: object, seen: set[str], what: str) -> str | None:
    """The absolute next-page URL ``link`` names, when it stays on the host and is new."""
    if not link:
        return None
    if not isinstance(link, str):
        raise RegistryError(f"{what}: the next-page link is not a string")
    here = response.request.url
    url = here.join(link)
    if (url.scheme, url.host, url.port) != (here.scheme, here.host, here.port):
        raise Unsupported(f"{what}: the next page leaves {here.host}; stopping there")
    if str(url) in seen:
        raise RegistryError(f"{what}: a page links back to one already read; stopping there")
    seen.add(str(url))
    return str(url)


def web_pages(
    http: httpx.Client,
    url: str,
    what: str,
    params: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """The items of a paginated web list, bounded, on one host.

    Hub's ``{"next", "results"}`` pages, or JSON arrays with a ``Link:
    rel="next"`` header (GitHub, GitLab). ``params`` go with the first
    request; the next pages' links carry their own.
    """
    seen = {url}
    next_url: str | None = url
    first: Mapping[str, str] | None = params
    for _ in range(MAX_WEB_PAGES):
        if next_url is None:
            return
        response, body = web_get(http, next_url, what, params=first, headers=headers)
        page = web_json(body, what)
        if isinstance(page, dict):
            items, link = field_list(page.get("results"), f"{what}: results"), page.get("next")
        else:
            items = field_list(page, what)
            link = response.links.get("next", {}).get("url")
        yield from items
        next_url, first = next_link(response, link, seen, what), None
    if next_url is not None:
        raise Unsupported(f"{what} has more than {MAX_WEB_PAGES} pages; stopping there")


# -- Docker Hub ----------------------------------------------------------------------


def _hub_repo(repository: str) -> tuple[str, str]:
    namespace, _, name = repository.partition("/")
    return (namespace, name) if name else ("library", namespace)


# A Hub API token is reused for a few minutes per client and login: Hub rate-limits
# its token endpoint too, and a notebook lists many repositories in a row.
_HUB_TOKEN_SECONDS = 240.0
_hub_tokens: weakref.WeakKeyDictionary[Client, tuple[Login, str, float]] = (
    weakref.WeakKeyDictionary()
)
_hub_tokens_lock = threading.Lock()


def hub_token(client: Client) -> str | None:
    """A Hub API token (``POST /v2/auth/token``) for the client's docker.io login.

    None without a login (or with an identity token, which Hub's web API does
    not take); ``AuthenticationError`` when Hub refuses the login. The token
    is remembered for scrubbing and reused for a few minutes.
    """
    login = client.login_for(DOCKER_HUB)
    if login is None or login.identity_token:
        return None
    with _hub_tokens_lock:
        known = _hub_tokens.get(client)
    if known is not None and known[0] == login and time.monotonic() < known[2]:
        return known[1]
    token = dockerhub_login(client.http, login.username, login.secret)
    remember_secret(token)
    with _hub_tokens_lock:
        _hub_tokens[client] = (login, token, time.monotonic() + _HUB_TOKEN_SECONDS)
    return token


def _hub_headers(client: Client) -> dict[str, str]:
    """Hub API headers with the login's token; none without one.

    With them Hub's web API also answers for private repositories; a refused
    login leaves the public answers.
    """
    try:
        token = hub_token(client)
    except AuthenticationError as exc:
        log.warning("%s; reading Docker Hub's public data only", exc)
        return {}
    return {"Authorization": f"Bearer {token}"} if token else {}


def hub_tags(client: Client, repository: str) -> list[dict[str, Any]]:
    """Docker Hub's tag objects for ``namespace/repo`` (its web API: no pull is counted).

    Only objects whose ``name`` is a valid tag are kept.
    """
    ns, name = _hub_repo(repository)
    url = f"{HUB_API}/v2/namespaces/{quote(ns)}/repositories/{quote(name, safe='')}/tags"
    what = f"the tags of docker.io/{ns}/{name} from Hub's API"
    pages = web_pages(client.http, url, what, {"page_size": str(PAGE_SIZE)}, _hub_headers(client))
    return [t for t in pages if isinstance(t, dict) and tag_problem(t.get("name")) is None]


def hub_pushed(tag: Mapping[str, Any]) -> dt.datetime | None:
    """When a Hub tag object says the tag was last pushed."""
    return trusted_time(tag.get("tag_last_pushed") or tag.get("last_updated"))


def hub_platform(image: Mapping[str, Any]) -> str:
    """``os/arch[/variant]`` of one entry of a Hub tag's ``images``; attestations are unknown."""
    try:
        platform = Platform.from_json(image, "a Docker Hub image")  # checks each name
    except RegistryError:
        return UNKNOWN_PLATFORM
    return str(platform) or UNKNOWN_PLATFORM


def hub_catalog(client: Client, namespace: str) -> list[str]:
    """``namespace/name`` of every repository of a Docker Hub namespace."""
    url = f"{HUB_API}/v2/namespaces/{quote(namespace)}/repositories"
    what = f"the repositories of docker.io/{namespace}"
    found = web_pages(client.http, url, what, {"page_size": str(PAGE_SIZE)}, _hub_headers(client))
    return [
        f"{namespace}/{r['name']}"
        for r in found
        if isinstance(r, dict) and isinstance(r.get("name"), str)
    ]


def _pulls(tag: Mapping[str, Any] | None) -> int:
    """Manifest GETs one tag costs: one per architecture of a multi-arch image, else one."""
    images = (tag or {}).get("images")
    entries = images if isinstance(images, list) else []
    platforms = [i for i in entries if isinstance(i, dict) and hub_platform(i) != UNKNOWN_PLATFORM]
    return max(1, len(platforms))


def check_pulls(
    client: Client, repository: str, tags: Mapping[str, Mapping[str, Any] | None]
) -> None:
    """Refuse, before any pull, work that needs more Docker Hub pulls than remain.

    ``tags`` maps each tag to read to its Hub tag object (None when Hub's API
    did not list it); a multi-arch tag counts one pull per architecture.
    """
    pulls = sum(_pulls(t) for t in tags.values())
    if not pulls:
        return
    # The HEAD that reads the allowance costs no pull; a tag that exists answers it.
    limit = rate_limit(f"{DOCKER_HUB}/{repository}:{next(iter(tags))}", client=client)
    if limit.remaining is not None and pulls > limit.remaining:
        raise RateLimited(
            f"this needs about {pulls} manifest pulls of docker.io/{repository} (one per "
            f"architecture), but Docker Hub allows {limit.remaining} more of {limit.limit} "
            f"now (counted against {limit.source or 'this client'}); list without manifests, "
            "log in for a larger allowance, or wait for the window to pass"
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
    query = {**(params or {}), "per_page": str(PAGE_SIZE)}
    try:
        yield from web_pages(client.http, f"{GITHUB_API}/users/{path}", what, query, headers)
    except NotFound:
        yield from web_pages(client.http, f"{GITHUB_API}/orgs/{path}", what, query, headers)


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
        metadata = version.get("metadata")
        container = metadata.get("container") if isinstance(metadata, dict) else None
        tags = container.get("tags") if isinstance(container, dict) else None
        for tag in tags if when and isinstance(tags, list) else ():
            if isinstance(tag, str):
                pushed[tag] = when  # type: ignore[assignment]
    return pushed


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
        return reg.host, hub_catalog(client, namespace)
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
