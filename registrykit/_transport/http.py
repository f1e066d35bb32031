"""HTTP transport: TLS policy per host, retries, timeouts, the user agent.

The policy (``TransportPolicy``) answers three questions for a host: may it
be spoken to over plain http, how is its certificate verified, and may
credentials go to it. ``build_http_client`` makes the one ``httpx.Client``
that every registry shares, so connections are pooled across requests, and
``SchemeProbe`` finds out whether a host that may speak plain http does.
"""

from __future__ import annotations

import itertools
import logging
import os
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from .._credentials.process import scrub
from .._model.errors import RegistryError, TLSError
from .._model.hosts import is_loopback, split_host
from .._version import __version__
from .adaptive import ConcurrencyLimit, request_kind
from .errors import is_plain_http_answer, read_bounded, retry_after, transport_error
from .retry import RetryPolicy

log = logging.getLogger(__name__)

USER_AGENT = f"registrykit/{__version__}"

# A request extension: a function every hop of the request (its redirects
# included) must pass before it is sent; it raises to stop the request.
HOP_CHECK = "registrykit.hop_check"
# The most a response read whole (not streamed) may hold: far above any manifest,
# config, token or tag page, far below what would strain memory.
MAX_BODY = 32 * 1024 * 1024

# Connections in one pool shard of a host (see HostTransport): two threads' worth.
CONNECTIONS_PER_SHARD = 4

_CERTS_D = ("/etc/docker/certs.d", "/etc/containers/certs.d")


class InsecureSource(Protocol):
    def is_insecure(self, host: str) -> bool: ...


@dataclass
class TransportPolicy:
    """Which hosts may use plain http, and how TLS is verified per host.

    ``ca_bundle`` is one PEM file trusted for every host. ``cert_dir`` is
    skopeo's ``--cert-dir``: one directory of ``*.crt`` CA files and
    ``*.cert``/``*.key`` client pairs used for every host instead of the
    ``certs.d/<host>/`` directories. Both are checked when the policy is made.
    """

    insecure: tuple[str, ...] = ()
    ca_bundle: str | os.PathLike[str] | ssl.SSLContext | None = None
    certs_dirs: tuple[str, ...] = field(default_factory=lambda: _default_certs_dirs())
    settings: InsecureSource | None = None  # registries.conf / daemon.json
    cert_dir: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        # Checked now: a bad path would otherwise fail at the first connection
        # with a bare "[Errno 21] Is a directory".
        if self.ca_bundle is not None and not isinstance(self.ca_bundle, ssl.SSLContext):
            _check_ca_bundle(Path(self.ca_bundle))
        if self.cert_dir is not None and not Path(self.cert_dir).is_dir():
            raise TLSError(
                f"the cert dir {os.fspath(self.cert_dir)} is not a directory; give a directory "
                "of *.crt CA files and *.cert/*.key pairs (use --ca-bundle for one PEM file)"
            )

    def is_insecure(self, host: str) -> bool:
        """Named insecure by the caller, or in registries.conf / daemon.json."""
        name, _ = split_host(host)
        if host in self.insecure or name in self.insecure:
            return True
        return self.settings is not None and self.settings.is_insecure(host)

    def allows_plain_http(self, host: str) -> bool:
        return is_loopback(host) or self.is_insecure(host)

    def may_send_credentials(self, url: httpx.URL) -> bool:
        """Credentials never travel over plain http to a remote, secure-by-default host."""
        host = url.netloc.decode("ascii")
        return url.scheme == "https" or self.allows_plain_http(host)

    def ssl_context(self, host: str) -> ssl.SSLContext | bool:
        if self.is_insecure(host):
            return False
        if isinstance(self.ca_bundle, ssl.SSLContext):
            return self.ca_bundle
        ctx = ssl.create_default_context()
        if self.ca_bundle is not None:
            ctx.load_verify_locations(cafile=os.fspath(self.ca_bundle))
        for ca in self._host_cas(host):
            ctx.load_verify_locations(cafile=str(ca))
        return ctx

    def client_cert(self, host: str) -> tuple[str, str] | None:
        """docker's certs.d client certificate pair (client.cert + client.key)."""
        for directory in self._host_dirs(host):
            for cert in sorted(directory.glob("*.cert")):
                key = cert.with_suffix(".key")
                if key.exists():
                    return str(cert), str(key)
        return None

    def _host_dirs(self, host: str) -> list[Path]:
        if self.cert_dir is not None:
            return [Path(self.cert_dir)]  # as skopeo: this directory, for every host
        return [Path(d) / host for d in self.certs_dirs if (Path(d) / host).is_dir()]

    def _host_cas(self, host: str) -> list[Path]:
        return [ca for d in self._host_dirs(host) for ca in sorted(d.glob("*.crt"))]


def _check_ca_bundle(path: Path) -> None:
    if path.is_dir():
        raise TLSError(
            f"the CA bundle {path} is a directory; give a PEM file, or use --cert-dir "
            "(cert_dir=) for a directory of *.crt files"
        )
    if not path.is_file():
        raise TLSError(f"the CA bundle {path} does not exist; give the path of a PEM file")


def _default_certs_dirs() -> tuple[str, ...]:
    home = Path.home()
    return (*_CERTS_D, str(home / ".config/containers/certs.d"), str(home / ".docker/certs.d"))


class HostTransport(httpx.BaseTransport):
    """Pooled HTTP/1.1 transports per host, each with that host's TLS settings.

    HTTP/2 was tried: httpcore's sync HTTP/2 connection corrupts its HPACK
    table when several threads share it ("deque mutated during iteration"),
    and the listing fans out over threads, so connections stay HTTP/1.1.

    httpx sets ``verify`` per transport, while docker's model is per host
    (``insecure-registries``, ``certs.d/<host>``); routing by host keeps both.

    Each host's connections are split into shards of two threads each: one
    httpcore pool walks all its connections under one lock for every request,
    which made more than ~16 threads slower than 8. A thread always uses the
    same shard, so its kept-alive connection is there for its next request.
    ``max_connections`` bounds each host in total.
    """

    def __init__(self, policy: TransportPolicy, *, max_connections: int) -> None:
        self._policy = policy
        self._shards = max(1, -(-max_connections // CONNECTIONS_PER_SHARD))
        per_shard = -(-max_connections // self._shards)
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._transports: dict[str, list[httpx.HTTPTransport]] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._next_shard = itertools.count()
        self._thread = threading.local()

    def _for(self, host: str) -> httpx.HTTPTransport:
        shard: int | None = getattr(self._thread, "shard", None)
        if shard is None:
            shard = self._thread.shard = next(self._next_shard) % self._shards
        shards = self._transports.get(host)  # a dict read needs no lock; creation does
        if shards is None or shard >= len(shards):
            with self._lock:
                shards = self._transports.setdefault(host, [])
                while shard >= len(shards):
                    shards.append(self._new(host))
        return shards[shard]

    def _new(self, host: str) -> httpx.HTTPTransport:
        # One TLS context a host, shared by its shards: loading the CA store
        # costs tens of milliseconds of CPU, more than a hundred requests.
        context = self._contexts.get(host)
        if context is None:
            context = self._contexts[host] = httpx.create_ssl_context(
                verify=self._policy.ssl_context(host), cert=self._policy.client_cert(host)
            )
        return httpx.HTTPTransport(verify=context, limits=self._limits, retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.netloc.decode("ascii")).handle_request(request)

    def close(self) -> None:
        with self._lock:
            transports, self._transports = list(self._transports.values()), {}
        for shards in transports:
            for transport in shards:
                transport.close()


class RetryTransport(httpx.BaseTransport):
    """Retry refused connections and the policy's statuses, honouring Retry-After.

    Only requests whose body can be sent again are retried: a streamed upload
    body is consumed by the first attempt, and the caller resumes those.
    Every answer is reported to ``limit``, which adapts the concurrency to it.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        limit: ConcurrencyLimit | None = None,
    ) -> None:
        self._inner = inner
        self._policy = policy or RetryPolicy()
        self._limit = limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check = request.extensions.get(HOP_CHECK)
        if check is not None:
            check(request.url)  # httpx copies extensions to each redirect it follows
        policy = self._policy
        replayable = _replayable(request)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            sent = time.monotonic()
            try:
                response = self._inner.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.WriteError) as exc:
                # A failed write means the request never fully arrived, so sending it
                # again is safe. It also covers a kept-alive connection that another
                # thread's pool pass closed under this request (httpcore#1110: EBADF).
                delay = policy.delay(attempt)
                retry = replayable and not _is_tls_failure(exc)
                if not retry or not policy.allows(attempt, waited, delay):
                    raise
            except httpx.ReadError:
                # The same race seen while waiting for the answer: only a GET or HEAD,
                # which changes nothing, may go again.
                delay = policy.delay(attempt)
                if request.method not in ("GET", "HEAD") or not policy.allows(
                    attempt, waited, delay
                ):
                    raise
            else:
                if self._limit is not None:
                    self._limit.record(
                        request_kind(
                            request.method, request.url.netloc.decode("ascii"), request.url.path
                        ),
                        time.monotonic() - sent,
                        response.status_code,
                        "retry-after" in response.headers,
                    )
                if response.status_code not in policy.statuses or not replayable:
                    return response
                delay = policy.delay(attempt, retry_after(response))
                if not policy.allows(attempt, waited, delay):
                    return response  # the caller reports it (RateLimited / unavailable)
                response.close()
            log.debug(
                "retrying %s %s in %.1fs (attempt %d)",
                request.method,
                request.url.copy_with(query=None),
                delay,
                attempt,
            )
            time.sleep(delay)
            waited += delay

    def close(self) -> None:
        self._inner.close()


def _replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream) or request.method in ("GET", "HEAD")


def _is_tls_failure(exc: BaseException) -> bool:
    return "SSL" in str(exc).upper() or "CERTIFICATE" in str(exc).upper()


class SchemeProbe:
    """https, unless a host may use plain http and turns out to speak it; remembered per host.

    Only a TLS handshake answered in plain http falls back; a certificate
    error never does (an insecure host may also fall back after a handshake
    failure, as docker does for its insecure registries).
    """

    def __init__(self, policy: TransportPolicy) -> None:
        self._policy = policy
        self._lock = threading.Lock()
        self._schemes: dict[str, str] = {}

    def scheme(self, http: httpx.Client, api_host: str) -> str:
        if not self._policy.allows_plain_http(api_host):
            return "https"
        with self._lock:
            known = self._schemes.get(api_host)
        if known:
            return known
        scheme = "https"
        try:
            # Anonymous, with the client's own timeout (a slow lab host is not a dead one).
            http.get(f"https://{api_host}/v2/", auth=None).close()
        except httpx.TransportError as exc:
            if is_plain_http_answer(exc):
                scheme = "http"
            elif isinstance(exc, httpx.ConnectError) and "SSL" in str(exc).upper():
                if not self._policy.is_insecure(api_host):
                    raise transport_error(exc, api_host) from None
                scheme = "http"
            else:
                raise transport_error(exc, api_host) from None
        log.debug("%s speaks %s", api_host, scheme)
        with self._lock:
            self._schemes[api_host] = scheme
        return scheme


class NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing: registries need no cookies.

    httpx parses every answer's cookies through ``http.cookiejar``: about a
    seventh of a request's CPU, for state no registry protocol uses.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class RegistryHTTPClient(httpx.Client):
    """An ``httpx.Client`` whose URL and redirect failures are registrykit errors.

    Both come from what a registry sent (a tag or Location with control
    characters, a redirect loop), and every caller already handles
    ``RegistryKitError``. It keeps no cookies (``NoCookies``).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = NoCookies()

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        try:
            return super().build_request(*args, **kwargs)
        except httpx.InvalidURL as exc:
            raise RegistryError(f"invalid URL: {scrub(str(exc))}") from None

    def send(
        self, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = super().send(request, stream=True, **kwargs)
            if not stream:
                # httpx would read any length into memory; a registry's answer is bounded.
                read_bounded(response, MAX_BODY, f"the answer of {request.url.netloc.decode()}")
            return response
        except httpx.TooManyRedirects:
            raise RegistryError(
                f"{request.url.netloc.decode('ascii')} redirected {request.method} "
                f"{scrub(request.url.path)} more than {self.max_redirects} times (a redirect "
                "loop); check the registry or its proxy"
            ) from None
        except httpx.InvalidURL as exc:
            raise RegistryError(f"invalid URL: {scrub(str(exc))}") from None


def build_http_client(
    policy: TransportPolicy,
    *,
    transport: httpx.BaseTransport | None,
    limit: ConcurrencyLimit,
    timeout: httpx.Timeout,
    retry: RetryPolicy,
    auth: httpx.Auth | None,
) -> httpx.Client:
    # Two connections a thread: a thread may read one answer while sending another.
    inner = transport or HostTransport(policy, max_connections=limit.cap * 2)
    return RegistryHTTPClient(
        transport=RetryTransport(inner, retry, limit),
        timeout=timeout,
        auth=auth,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    )
