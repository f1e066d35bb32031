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
from typing import Generic, TypeVar

import httpx

from ._credentials.keychain import Keychain, Login
from ._credentials.store import CredentialStore
from ._model.errors import InvalidReference, NotFound, RegistryKitError, RegistryUnavailable
from ._model.hosts import api_host
from ._model.reference import Reference, parse_reference, parse_repository
from ._model.registries import determine_registry
from ._registry.api import RegistryClient
from ._registry.cache import ContentCache, default_cache_dir
from ._registry.session import MirrorRoutes
from ._transport.adaptive import AUTO, Concurrency, ConcurrencyLimit
from ._transport.auth import RegistryAuth
from ._transport.errors import raise_for_response, transport_error
from ._transport.http import SchemeProbe, TransportPolicy, build_http_client
from ._transport.retry import RetryPolicy
from ._transport.settings import RegistrySettings, load_registry_settings
from ._transport.shortnames import (
    is_short_name,
    refuse_blocked,
    resolve_short_name,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_DEFAULT = object()


class Client:
    """Settings and connections for talking to registries.

    ``insecure`` names hosts (``"host"`` or ``"host:port"``) that may use plain
    http and skip TLS verification; loopback registries may use plain http
    without being named. ``ca_bundle`` (a PEM path or an ``ssl.SSLContext``)
    verifies every host; docker's and podman's ``certs.d/<host>/`` are honoured
    too, unless ``cert_dir`` (skopeo's ``--cert-dir``: ``*.crt`` CAs and
    ``*.cert``/``*.key`` client pairs) names the one directory for every
    host. ``concurrency`` bounds parallel requests: ``"auto"`` (the default)
    starts at 16 and adapts to the latency, backing off when the registry
    throttles (at most 32); an int fixes it. ``cache_dir=None`` keeps the
    digest cache in memory only. ``logins`` adds credentials for this client
    alone (``{"host": ("user", "password")}``), ahead of the stored ones.
    """

    def __init__(
        self,
        auth_file: str | os.PathLike[str] | None = None,
        insecure: Iterable[str] = (),
        ca_bundle: str | os.PathLike[str] | ssl.SSLContext | None = None,
        concurrency: Concurrency = AUTO,
        cache_dir: str | os.PathLike[str] | object | None = _DEFAULT,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 60.0,
        retry: RetryPolicy | None = None,
        settings: RegistrySettings | None = None,
        logins: Mapping[str, tuple[str, str]] | None = None,
        cert_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._limit = ConcurrencyLimit(concurrency)
        self.auth_file = Path(auth_file) if auth_file is not None else None
        self.insecure = tuple(insecure)
        self.ca_bundle = ca_bundle
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
            insecure=self.insecure, ca_bundle=ca_bundle, settings=self.settings, cert_dir=cert_dir
        )
        self.credentials = CredentialStore(self.auth_file)
        self.keychain = Keychain(
            self.credentials,
            {
                determine_registry(host).host: Login.of(username, password)
                for host, (username, password) in (logins or {}).items()
            },
        )
        self.auth = RegistryAuth(self.keychain, self.policy)
        self._schemes = SchemeProbe(self.policy)
        self.cache = ContentCache(self.cache_dir)
        self._lock = threading.RLock()
        self._http: httpx.Client | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._registries: dict[str, RegistryClient] = {}
        self._in_worker = threading.local()

    def __repr__(self) -> str:
        parts = [f"concurrency={AUTO if self._limit.adaptive else self._limit.cap}"]
        if self.insecure:
            parts.append(f"insecure={list(self.insecure)!r}")
        if self.auth_file:
            parts.append(f"auth_file={str(self.auth_file)!r}")
        if logins := self.keychain.hosts():
            parts.append(f"logins={logins!r}")
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
                    limit=self._limit,
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
        self.keychain.add(key, Login.of(username, password))
        self.auth.forget(api_host(key))

    def remove_login(self, host: str) -> None:
        key = determine_registry(host).host
        self.keychain.remove(key)
        self.auth.forget(api_host(key))

    def login_for(self, host: str) -> Login | None:
        """The credentials this client would use for ``host`` (a registry or API host)."""
        return self.keychain.resolve(host)

    def verify_login(self, host: str, login: Login) -> None:
        """``GET /v2/`` on ``host`` with ``login`` alone; raises if refused. Changes nothing.

        The request goes over this client's connections and settings, with a
        single-login keychain instead of the client's, so a login is proven
        before anything is stored or added.
        """
        key = determine_registry(host).host
        target = api_host(key)
        auth = RegistryAuth(Keychain.single(key, login), self.policy)
        url = f"{self._schemes.scheme(self.http, target)}://{target}/v2/"
        try:
            response = self.http.get(url, auth=auth)
        except httpx.TransportError as exc:
            raise transport_error(exc, key) from None
        try:
            raise_for_response(response, "the API root /v2/", host=key)
        finally:
            response.close()

    # -- registries ---------------------------------------------------------------

    @staticmethod
    def api_host(host: str) -> str:
        """Where ``host``'s ``/v2/`` API answers (Docker Hub's differs from its name)."""
        return api_host(host)

    def registry(self, host_or_reference: str | Reference) -> RegistryClient:
        """The ``RegistryClient`` for a host (or for a reference's registry).

        A registry (or, for a reference, a namespace) that registries.conf
        blocks raises ``PermissionDenied``, as podman refuses it.
        """
        if isinstance(host_or_reference, Reference):
            host = host_or_reference.registry
            refuse_blocked(self.settings, host_or_reference.name, "refusing to access")
        else:
            host = determine_registry(host_or_reference).host
            refuse_blocked(self.settings, host, "refusing to access")
        with self._lock:
            found = self._registries.get(host)
        if found is not None:
            return found
        target = api_host(host)
        mirrors = self._mirror_routes(host)
        try:
            base = f"{self._schemes.scheme(self.http, target)}://{target}"
        except RegistryUnavailable:
            if not self.settings.has_mirrors(host):
                raise
            # The mirrors may still answer. Kept, so the next operation does not wait
            # out the probe's retries again; each request still tries the host first.
            scheme = "http" if self.policy.allows_plain_http(target) else "https"
            base = f"{scheme}://{target}"
        client = RegistryClient(
            self.http, host, base, self.cache, mirrors=mirrors, refuse=self._refuse
        )
        with self._lock:
            return self._registries.setdefault(host, client)

    def _refuse(self, name: str) -> None:
        refuse_blocked(self.settings, name, "refusing to access")

    def _mirror_routes(self, host: str) -> MirrorRoutes:
        """Where a repository of ``host`` is read from before ``host`` (registries.conf mirrors)."""

        def routes(repository: str, by_digest: bool | None) -> tuple[tuple[str, str], ...]:
            names = self.settings.mirror_names(f"{host}/{repository}", by_digest)
            return tuple(self._mirror_route(name) for name in names)

        return routes

    def _mirror_route(self, name: str) -> tuple[str, str]:
        """``mirror.example.com/cache/library/alpine`` → (``https://mirror.example.com``,
        ``cache/library/alpine``): a mirror's namespace is part of the repository path.

        An ``http://`` mirror (docker's daemon.json) is plain http; one named
        insecure in registries.conf is too.
        """
        scheme, sep, rest = name.partition("://")
        if not sep:
            scheme, rest = "", name
        host, _, repository = rest.partition("/")
        if not scheme:
            scheme = "http" if self.policy.is_insecure(host) else "https"
        return f"{scheme}://{api_host(host)}", repository

    def reference(
        self,
        text: str | Reference,
        *,
        repository: bool = False,
        default_tag: str | None = "latest",
        write: bool = False,
    ) -> Reference:
        """The registry reference ``text`` means, with registries.conf applied as podman does.

        A short name (``myapp``, ``team/app:1``) resolves through
        ``[aliases]`` and ``unqualified-search-registries``; with several
        search registries a read tries each in order and takes the first
        that has the image (a write refuses to guess), and
        ``short-name-mode = "enforcing"`` refuses. With neither it is on
        Docker Hub. A blocked registry raises ``PermissionDenied``. The log
        says what a short name resolved to.
        """
        if isinstance(text, Reference):
            ref = text
        else:
            parse = parse_repository if repository else _parse_with(default_tag)
            ref = parse(text)  # the user's text must be a valid reference in itself
            if is_short_name(text):
                return self._resolve_short(text, parse, repository=repository, write=write)
        refuse_blocked(self.settings, ref.name, "refusing to access")
        return ref

    def _resolve_short(
        self, text: str, parse: Callable[[str], Reference], *, repository: bool, write: bool
    ) -> Reference:
        resolution = resolve_short_name(text, self.settings)
        refs = [parse(candidate) for candidate in resolution.candidates]
        if len(refs) == 1:
            refuse_blocked(self.settings, refs[0].name, "refusing to access")
            log.info("%s: %s", resolution.describe(), refs[0])
            return refs[0]
        if write:
            raise InvalidReference(
                f"short name {text!r} could be any of {', '.join(map(str, refs))} "
                f"({resolution.describe()}); registrykit does not guess where to write: "
                "write the full name."
            )
        failures: list[str] = []
        for ref in refs:
            try:
                refuse_blocked(self.settings, ref.name, "refusing to access")
                registry = self.registry(ref)
                if repository:
                    registry.tags(ref.repository)  # NotFound when the repository is not there
                    found = True
                else:
                    found = registry.head_manifest(ref.repository, ref.identifier) is not None
            except RegistryKitError as exc:
                failures.append(f"{ref}: {exc}")
                continue
            if found:
                log.info("%s: %s (tried in order)", resolution.describe(), ref)
                return ref
            failures.append(f"{ref}: not found")
        raise NotFound(
            f"short name {text!r} ({resolution.describe()}) was found on none of the "
            f"candidates: {'; '.join(failures)}. Write the full name."
        )

    # -- concurrency --------------------------------------------------------------

    @property
    def concurrency(self) -> int:
        """Items in flight in a fan-out now (the fixed number, or the adaptive limit's value)."""
        return self._limit.limit

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` on the client's thread pool, results in order.

        At most ``concurrency`` items run at once, read again as each one
        starts, so an adaptive limit takes effect mid-way. The first failure
        (in item order) is raised once the running items end; no new item
        starts after one failed. Called from inside a worker it runs
        serially, so nested fan-outs cannot deadlock the pool.
        """
        if len(items) <= 1 or self._limit.cap == 1 or getattr(self._in_worker, "on", False):
            return [fn(item) for item in items]
        return _FanOut(self, fn, items).run()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._limit.cap, thread_name_prefix="registrykit"
                )
            return self._executor


class _FanOut(Generic[T, R]):
    """One ``Client.map``: workers that each take items until none is left.

    A worker runs items one after another on its thread (so its pool shard
    and kept-alive connection stay its own), starts a sibling when it finds
    the limit has grown, and stops when it finds the limit has shrunk.
    """

    def __init__(self, client: Client, fn: Callable[[T], R], items: Sequence[T]) -> None:
        self._client = client
        self._limit = client._limit
        self._fn = fn
        self._items = items
        self._lock = threading.Lock()
        self._next = 0
        self._active = 0
        self._stopped = False
        self._released = False
        self._done = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self.results: dict[int, R] = {}
        self.failures: dict[int, BaseException] = {}

    def run(self) -> list[R]:
        executor = self._executor = self._client._pool()
        self._limit.waiting(1)
        with self._lock:
            self._active = min(self._limit.limit, len(self._items))
        try:
            for _ in range(self._active):
                executor.submit(self._work)
            self._done.wait()
        except BaseException:
            self._stop()  # interrupted: running items end, no new one starts
            raise
        if self.failures:
            raise self.failures[min(self.failures)]
        return [self.results[i] for i in range(len(self._items))]

    def _stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._release()

    def _release(self) -> None:
        """Under the lock: no item waits any more, so the limit no longer binds."""
        if not self._released:
            self._released = True
            self._limit.waiting(-1)

    def _take(self) -> int | None:
        """The next item's index, or None when this worker should end."""
        with self._lock:
            over = self._stopped or bool(self.failures) or self._next >= len(self._items)
            if over:
                self._release()
            if over or self._active > self._limit.limit:
                self._active -= 1
                if not self._active:
                    self._done.set()
                return None
            index, self._next = self._next, self._next + 1
            sibling = False
            if self._next >= len(self._items):
                self._release()
            elif self._active < self._limit.limit:
                sibling = True
                self._active += 1
        if sibling and self._executor is not None:
            try:
                self._executor.submit(self._work)
            except RuntimeError:  # the pool shut down (Client.close during a map): no sibling
                with self._lock:
                    self._active -= 1
        return index

    def _work(self) -> None:
        worker = self._client._in_worker
        worker.on = True
        try:
            while (index := self._take()) is not None:
                try:
                    self.results[index] = self._fn(self._items[index])
                except BaseException as exc:  # handed to the caller's thread
                    self.failures[index] = exc
        finally:
            worker.on = False


def _parse_with(default_tag: str | None) -> Callable[[str], Reference]:
    return lambda text: parse_reference(text, default_tag=default_tag)


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
