"""``Client``: the settings every call shares, and the resources behind them.

Like ``httpx.Client``, it is a settings holder and a context manager. It owns
one pooled HTTP client, the auth flow with its token cache, the content
cache and a thread pool; ``registry(host)`` hands out a ``RegistryClient``
for one host. Functions that take ``client=None`` use a default instance.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx

from ._credentials.store import CredentialStore
from ._model.reference import Reference, parse_reference
from ._model.registries import determine_registry
from ._registry.api import RegistryClient
from ._registry.cache import ContentCache, default_cache_dir
from ._transport.auth import Login, RegistryAuth
from ._transport.errors import is_plain_http_answer, transport_error
from ._transport.http import RetryPolicy, TransportPolicy, build_http_client
from ._transport.settings import RegistrySettings, load_registry_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_DEFAULT = object()
_DOCKER_HUB_API = "registry-1.docker.io"


class Client:
    """Settings and connections for talking to registries.

    ``insecure`` names hosts (``"host"`` or ``"host:port"``) that may use plain
    http and skip TLS verification; loopback registries may use plain http
    without being named. ``ca_bundle`` (a PEM path or an ``ssl.SSLContext``)
    verifies every host; docker's and podman's ``certs.d/<host>/`` are honoured
    too. ``concurrency`` bounds parallel requests. ``cache_dir=None`` keeps the
    digest cache in memory only. ``logins`` adds credentials for this client
    alone (``{"host": ("user", "password")}``), ahead of the stored ones.
    """

    def __init__(
        self,
        auth_file: str | os.PathLike[str] | None = None,
        insecure: Iterable[str] = (),
        ca_bundle: str | os.PathLike[str] | ssl.SSLContext | None = None,
        concurrency: int = 8,
        cache_dir: str | os.PathLike[str] | object | None = _DEFAULT,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 60.0,
        retry: RetryPolicy | None = None,
        settings: RegistrySettings | None = None,
        logins: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.auth_file = Path(auth_file) if auth_file is not None else None
        self.insecure = tuple(insecure)
        self.ca_bundle = ca_bundle
        self.concurrency = concurrency
        self.cache_dir: Path | None
        if cache_dir is _DEFAULT:
            self.cache_dir = default_cache_dir()
        elif isinstance(cache_dir, str | os.PathLike):
            self.cache_dir = Path(cache_dir)
        else:
            self.cache_dir = None
        self.settings = settings if settings is not None else load_registry_settings()
        self.timeout = (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=min(timeout, 15.0))
        )
        self._retry = retry or RetryPolicy()
        self._transport = transport
        self.policy = TransportPolicy(
            insecure=self.insecure, ca_bundle=ca_bundle, settings=self.settings
        )
        self.credentials = CredentialStore(self.auth_file)
        self._logins: dict[str, Login] = {}
        for host, (username, password) in (logins or {}).items():
            self.add_login(host, username, password)
        self.auth = RegistryAuth(self._lookup_login, self.policy)
        self.cache = ContentCache(self.cache_dir)
        self._lock = threading.RLock()
        self._http: httpx.Client | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._registries: dict[str, RegistryClient] = {}
        self._schemes: dict[str, str] = {}
        self._in_worker = threading.local()

    def __repr__(self) -> str:
        parts = [f"concurrency={self.concurrency}"]
        if self.insecure:
            parts.append(f"insecure={list(self.insecure)!r}")
        if self.auth_file:
            parts.append(f"auth_file={str(self.auth_file)!r}")
        if self._logins:
            parts.append(f"logins={sorted(self._logins)!r}")
        parts.append(f"cache_dir={str(self.cache_dir) if self.cache_dir else None!r}")
        return f"Client({', '.join(parts)})"

    # -- lifecycle ----------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = build_http_client(
                    self.policy,
                    transport=self._transport,
                    concurrency=self.concurrency,
                    timeout=self.timeout,
                    retry=self._retry,
                    auth=self.auth,
                )
            return self._http

    def close(self) -> None:
        with self._lock:
            http, self._http = self._http, None
            executor, self._executor = self._executor, None
            self._registries.clear()
        if executor is not None:
            executor.shutdown(wait=True)
        if http is not None:
            http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials --------------------------------------------------------------

    def add_login(self, host: str, username: str, password: str) -> None:
        """Use these credentials for ``host`` in this client only (nothing is stored)."""
        key = determine_registry(host).host
        self._logins[key] = Login(username, password, identity_token=username == "<token>")
        if hasattr(self, "auth"):
            self.auth.forget(self.api_host(key))

    def remove_login(self, host: str) -> None:
        key = determine_registry(host).host
        self._logins.pop(key, None)
        self.auth.forget(self.api_host(key))

    def login_for(self, host: str) -> Login | None:
        """The credentials this client would use for ``host`` (a registry or API host)."""
        return self._lookup_login(self.api_host(host))

    def _lookup_login(self, api_host: str) -> Login | None:
        host = "docker.io" if api_host == _DOCKER_HUB_API else api_host
        if host in self._logins:
            return self._logins[host]
        found = self.credentials.get(host)
        if found is None:
            return None
        return Login(found.username, found.secret, identity_token=found.identity_token)

    # -- registries ---------------------------------------------------------------

    @staticmethod
    def api_host(host: str) -> str:
        return determine_registry(host).api_host

    def registry(self, host_or_reference: str | Reference) -> RegistryClient:
        """The ``RegistryClient`` for a host (or for a reference's registry)."""
        if isinstance(host_or_reference, Reference):
            host = host_or_reference.registry
        else:
            host = determine_registry(host_or_reference).host
        with self._lock:
            found = self._registries.get(host)
        if found is not None:
            return found
        api_host = self.api_host(host)
        base = f"{self._scheme(api_host)}://{api_host}"
        mirrors = tuple(self._mirror_url(m) for m in self.settings.mirrors.get(host, ()))
        client = RegistryClient(self.http, host, base, self.cache, mirrors=mirrors)
        with self._lock:
            return self._registries.setdefault(host, client)

    def _mirror_url(self, location: str) -> str:
        if "://" in location:
            return location
        host = location.split("/", 1)[0]
        return f"{'http' if self.policy.is_insecure(host) else 'https'}://{location}"

    def _scheme(self, api_host: str) -> str:
        """https, unless the host may use plain http and turns out to speak it.

        Only a TLS handshake answered in plain http falls back; a certificate
        error never does.
        """
        if not self.policy.allows_plain_http(api_host):
            return "https"
        with self._lock:
            known = self._schemes.get(api_host)
        if known:
            return known
        scheme = "https"
        try:
            self.http.get(f"https://{api_host}/v2/", auth=None, timeout=10.0).close()
        except httpx.TransportError as exc:
            if is_plain_http_answer(exc):
                scheme = "http"
            elif isinstance(exc, httpx.ConnectError) and "SSL" in str(exc).upper():
                if self.policy.is_insecure(api_host):
                    scheme = "http"
                else:
                    raise transport_error(exc, api_host) from None
            else:
                raise transport_error(exc, api_host) from None
        log.debug("%s speaks %s", api_host, scheme)
        with self._lock:
            self._schemes[api_host] = scheme
        return scheme

    def resolve(self, image: str | Reference) -> tuple[Reference, RegistryClient]:
        ref = image if isinstance(image, Reference) else parse_reference(image)
        return ref, self.registry(ref)

    # -- concurrency --------------------------------------------------------------

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` on the client's thread pool, results in order.

        Called from inside a worker it runs serially, so nested fan-outs
        cannot deadlock the pool.
        """
        if len(items) <= 1 or self.concurrency == 1 or getattr(self._in_worker, "on", False):
            return [fn(item) for item in items]
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.concurrency, thread_name_prefix="registrykit"
                )
            executor = self._executor

        def run(item: T) -> R:
            self._in_worker.on = True
            try:
                return fn(item)
            finally:
                self._in_worker.on = False

        return list(executor.map(run, items))


_default_lock = threading.Lock()
_default_client: Client | None = None


def default_client() -> Client:
    """The shared client used when a function gets no ``client=``."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = Client()
        return _default_client


def get_client(client: Client | None) -> Client:
    return client if client is not None else default_client()


def set_default_client(client: Client | None) -> None:
    """Replace the default client (e.g. one with ``insecure=`` for a lab registry)."""
    global _default_client
    with _default_lock:
        old, _default_client = _default_client, client
    if old is not None and old is not client:
        old.close()
