"""The plumbing every ``/v2/`` endpoint shares: one request, its errors, its URL.

``RegistryClient`` (``api``) is this session plus the manifest (``manifests``)
and blob (``blobs``) endpoints; each concern lives in its own module.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import httpx

from .._model.digest import is_digest
from .._model.errors import (
    InvalidReference,
    RegistryError,
    RegistryKitError,
    RegistryUnavailable,
    Unsupported,
)
from .._model.manifest import json_object
from .._model.reference import digest_problem, repository_problem, tag_problem
from .._transport.auth import SCOPES_EXTENSION
from .._transport.errors import (
    MAX_ERROR_BODY,
    raise_for_response,
    read_capped,
    transport_error,
)
from .cache import ContentCache

__all__ = [
    "MAX_CONFIG_SIZE",
    "MAX_ENTRIES",
    "MAX_ERROR_BODY",
    "MAX_MANIFEST_SIZE",
    "MAX_PAGE_SIZE",
    "MirrorRoutes",
    "RegistrySession",
    "absolute_url",
    "is_digest",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every body the client reads has a bound, so nothing a registry sends can
# grow the process without limit (design.md, "Registry data is hostile").
MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # what distribution and containerd accept
MAX_CONFIG_SIZE = 8 * 1024 * 1024
MAX_PAGE_SIZE = 4 * 1024 * 1024  # one tag-list, catalog or referrers page
_MAX_OTHER_BODY = 64 * 1024  # answers whose body nobody reads (HEAD, PUT, POST)

# A small body must arrive within this many read timeouts from its headers:
# the read timeout alone lets a registry drip one byte per interval forever.
_DEADLINE_READ_TIMEOUTS = 2

MAX_PAGES = 500  # of one Link chain: 20,000 tags even at Quay's 40 a page
MAX_ENTRIES = 500_000  # tags or repositories in one listing

# (repository, by_digest) -> the (base URL, repository there) of each mirror to
# read from first; by_digest None for a blob (any mirror may serve it).
MirrorRoutes = Callable[[str, bool | None], tuple[tuple[str, str], ...]]


def _no_mirrors(repository: str, by_digest: bool | None) -> tuple[tuple[str, str], ...]:
    return ()


class RegistrySession:
    """One registry host: its HTTP client, base URL, mirrors and content cache."""

    def __init__(
        self,
        http: httpx.Client,
        host: str,
        base_url: str,
        cache: ContentCache,
        *,
        mirrors: MirrorRoutes = _no_mirrors,
        refuse: Callable[[str], None] | None = None,
    ) -> None:
        self.http = http
        self.host = host
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self.mirrors = mirrors
        # Raises for a ``host/repository`` that must not be reached (blocked in
        # registries.conf); checked where every repository URL is built.
        self.refuse = refuse
        # digest -> a repository seen holding it: a later upload of the same
        # blob to another repository mounts it from there (docker does the same).
        self.blob_homes: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"RegistryClient({self.host!r}, base_url={self.base_url!r})"

    # -- plumbing -------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        scopes: tuple[str, ...] = (),
        stream: bool = False,
        limit: int | None = None,
        auth: bool = True,
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One request; error answers raise, except statuses in ``accept``.

        Unless ``stream``, the body is read within the small-body deadline and
        the connection released: over ``limit`` bytes raises, and without a
        limit (a body nobody reads) only its first 64 KiB are kept.
        """
        try:
            request = self.http.build_request(
                method,
                url,
                headers=headers,
                params=params,
                content=content,
                extensions={SCOPES_EXTENSION: scopes} if scopes else None,
            )
            response = self.http.send(
                request, stream=True, auth=httpx.USE_CLIENT_DEFAULT if auth else None
            )
        except (httpx.UnsupportedProtocol, httpx.RemoteProtocolError) as exc:
            if not _bad_redirect(exc, request):
                raise transport_error(exc, self.host) from None
            raise RegistryError(
                f"{self.host} answered {what} with a redirect registrykit cannot follow "
                f"({str(exc)[:120]!r}); the registry or a proxy in front of it is misconfigured"
            ) from None
        except httpx.TransportError as exc:
            raise transport_error(exc, self.host) from None
        # A redirect loop or an invalid URL: RegistryHTTPClient raises RegistryError.
        if response.status_code >= 400 and response.status_code not in accept:
            error_body = self._read_capped(response, MAX_ERROR_BODY, what)
            raise_for_response(_with_body(response, error_body), what, host=self.host)
        if stream:
            return response
        if method == "HEAD":  # its Content-Length is the resource's size, with no body
            # Read to its (empty) end so the connection goes back to the pool:
            # closed unread, it is dropped, and N warm HEADs open N connections.
            response.read()
            return response
        if limit is None:  # nobody reads it: keep the start, drop the rest
            return _with_body(response, self._read_capped(response, _MAX_OTHER_BODY, what))
        return _with_body(response, self.read_body(response, limit, what))

    def read_body(self, response: httpx.Response, limit: int, what: str) -> bytes:
        """The whole body of ``response``, closed after: at most ``limit`` bytes, in time.

        ``what`` names the registry ("tag list of HOST/REPO"), as messages quote it.

        Over the limit raises ``Unsupported``; a body that has not arrived
        within the deadline raises ``RegistryUnavailable``.
        """
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise Unsupported(
                f"{what} is {declared} bytes, over the {_mib(limit)} limit; refusing it"
            )
        data = self._read_capped(response, limit + 1, what)
        if len(data) > limit:
            raise Unsupported(f"{what} is over the {_mib(limit)} limit; refusing it")
        return data

    def _read_capped(self, response: httpx.Response, cap: int, what: str) -> bytes:
        return read_capped(response, cap, what, host=self.host, deadline=self._deadline())

    def _deadline_seconds(self) -> float | None:
        read = self.http.timeout.read
        return None if read is None else read * _DEADLINE_READ_TIMEOUTS

    def _deadline(self) -> float | None:
        seconds = self._deadline_seconds()
        return None if seconds is None else time.monotonic() + seconds

    def _url(self, path: str, base: str | None = None) -> str:
        return f"{base or self.base_url}/v2/{path}"

    def _object_url(
        self, repository: str, kind: str, reference: str = "", base: str | None = None
    ) -> str:
        """``/v2/<repository>/<kind>/<reference>``, after both pass the grammar.

        Names and digests often come from a registry (tag lists, catalogs,
        descriptors); checked here, none can climb out of its repository
        with ``..`` or smuggle control characters into a path.
        """
        problem = repository_problem(repository)
        if problem is None and reference:
            check = digest_problem if is_digest(reference) else tag_problem
            problem = check(reference)
        if problem is not None:
            raise InvalidReference(f"refusing to request {kind} on {self.host}: {problem}")
        if self.refuse is not None and base in (None, self.base_url):  # not on a mirror
            self.refuse(f"{self.host}/{repository}")
        return self._url(f"{repository}/{kind}/{reference}", base)

    def _or_mirror(
        self, repository: str, by_digest: bool, fetch: Callable[[str | None, str], T], what: str
    ) -> T:
        """``fetch(None, repository)`` on the registry; when it cannot be reached (no
        answer at all), ``fetch(base, name)`` on each mirror in order.

        The registry answers first (a destination's state must come from the
        registry itself); a mirror stands in only when the registry is down.
        """
        try:
            return fetch(None, repository)
        except RegistryUnavailable as exc:
            routes = self.mirrors(repository, by_digest)
            if exc.status is not None or not routes:
                raise
            unreachable = exc
        for base, name in routes:
            try:
                result = fetch(base, name)
            except RegistryKitError as exc:
                log.debug("mirror %s failed for %s: %s", base, what, exc)
                continue
            log.warning("%s is unreachable; mirror %s answered for the %s", self.host, base, what)
            return result
        raise unreachable

    def _pages(self, url: str, page_size: int, what: str) -> Iterator[dict[str, Any]]:
        """The JSON pages of a paginated list, following ``Link`` headers within bounds.

        A chain must stay on the registry's origin, never repeat a URL and
        end within ``MAX_PAGES`` pages and ``MAX_ENTRIES`` entries (counted by
        the caller), so a registry cannot keep the client busy forever.
        """
        origin = httpx.URL(url)  # the registry or mirror the first page came from
        seen: set[str] = set()
        next_url: str | None = url
        params: dict[str, str] | None = {"n": str(page_size)}
        while next_url is not None:
            if len(seen) >= MAX_PAGES:
                raise RegistryError(
                    f"{self.host} sent more than {MAX_PAGES} pages of {what}; stopping there"
                )
            seen.add(next_url)
            response = self._send("GET", next_url, params=params, what=what, limit=MAX_PAGE_SIZE)
            yield json_object(response.content, f"the {what}")
            next_url, params = _next_page(response), None
            if next_url is None:
                return
            target = httpx.URL(next_url)
            if (target.scheme, target.host, target.port) != (
                origin.scheme,
                origin.host,
                origin.port,
            ):
                raise RegistryError(
                    f"{self.host} sent a Link for the next page of {what} that leaves the "
                    f"registry (to {target.scheme}://{target.netloc.decode('ascii', 'replace')!r}"
                    "); registrykit follows pages only on the registry itself"
                )
            if next_url in seen:
                raise RegistryError(
                    f"{self.host} sent a Link loop in {what}: a page links back to one already read"
                )


def _next_page(response: httpx.Response) -> str | None:
    match = _LINK_RE.search(response.headers.get("link", ""))
    if not match:
        return None
    # The Link target is relative to the registry; last= may hold dots and dashes.
    return str(response.request.url.join(match.group(1)))


_LINK_RE = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")


def _bad_redirect(exc: httpx.TransportError, first: httpx.Request) -> bool:
    """Whether ``exc`` is about a redirect target rather than the connection itself."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        try:
            return exc.request.url != first.url
        except RuntimeError:  # httpx did not attach the request it failed on
            return False
    return str(exc).startswith("Invalid URL in location header")


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """``response`` (read and closed) holding ``body``, its decoded content.

    Kept on the response rather than copied into a new one, as httpx's own
    ``read()`` does; the headers stay as sent (a HEAD answer's Content-Length
    is the size it reports).
    """
    response._content = body
    return response


def absolute_url(response: httpx.Response, location: str) -> str:
    return str(response.request.url.join(location))
