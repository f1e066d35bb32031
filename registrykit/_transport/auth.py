"""The registry auth flow as an ``httpx.Auth``: Basic and Bearer challenges.

A request goes out with what is already known for its host (a cached token
for its scope, or Basic credentials after a Basic challenge). On a 401 the
``WWW-Authenticate`` challenge says what to do: Basic credentials, or a
token from the Bearer realm for the challenge's scope (fetched with Basic
credentials, with an identity token through the OAuth2 refresh grant, or
anonymously). Tokens are cached per (host, scope) until they expire. A
second challenge for the same request stops the flow: the caller turns the
401 into an ``AuthenticationError``.

Credentials belong to a host: a challenge is answered with the credentials of
the host that sent it, which after a redirect (a blob served from storage
elsewhere) is not the registry's. The token request and every redirect hop
of it must pass the realm rule (https, loopback, or the realm host named
insecure), and its body is read up to a bound.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field

import httpx

from .._credentials.keychain import Keychain, Login
from .._credentials.process import remember_secret, scrub
from .._model.errors import AuthenticationError, RegistryError
from .._model.hosts import is_loopback
from .errors import read_bounded, registry_errors
from .http import HOP_CHECK, TransportPolicy

log = logging.getLogger(__name__)

# Extra scopes a request needs beyond its own repository, e.g. pull on the
# source repository of a cross-repository mount.
SCOPES_EXTENSION = "registrykit.scopes"

_MIN_TOKEN_LIFETIME = 60  # seconds, the distribution spec's default for expires_in
_MAX_TOKEN_LIFETIME = 365 * 24 * 3600  # a registry's "forever" must still fit a float
_MAX_TOKEN_BODY = 1024 * 1024  # real token answers are a few KiB
_PATH_RE = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)(?:/|$)")
_CHALLENGE_RE = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str]

    @classmethod
    def parse(cls, header: str) -> Challenge | None:
        scheme, _, rest = header.strip().partition(" ")
        if not scheme:
            return None
        params = {k.lower(): (q if q else u) for k, q, u in _CHALLENGE_RE.findall(rest)}
        return cls(scheme.lower(), params)


@dataclass
class _Token:
    value: str = field(repr=False)
    expires: float


def scopes_for(request: httpx.Request) -> list[str]:
    """The token scopes a request needs, from its path and method."""
    path = request.url.path
    if path.rstrip("/") == "/v2/_catalog":
        return ["registry:catalog:*"]
    match = _PATH_RE.match(path)
    scopes = list(request.extensions.get(SCOPES_EXTENSION, ()))
    if match:
        name = match["name"]
        if request.method == "DELETE":
            actions = "delete"
        elif request.method in ("GET", "HEAD"):
            actions = "pull"
        else:
            actions = "pull,push"
        scopes.insert(0, f"repository:{name}:{actions}")
    return scopes


class RegistryAuth(httpx.Auth):
    """Registry authentication for every host a ``Client`` talks to.

    One instance serves all hosts and threads: tokens are keyed by host and
    scope, never shared across either. Credentials come from ``keychain``,
    which is passed down (go-containerregistry's ``authn.Keychain``).
    """

    def __init__(self, keychain: Keychain, policy: TransportPolicy) -> None:
        self._keychain = keychain
        self._policy = policy
        self._lock = threading.Lock()
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}

    def __repr__(self) -> str:
        return f"RegistryAuth(hosts={sorted(self._challenges)!r})"

    def challenge(self, host: str) -> Challenge | None:
        """The last challenge ``host`` sent: its token service says what it is, at no cost."""
        with self._lock:
            return self._challenges.get(host)

    def forget(self, host: str) -> None:
        """Drop cached tokens and challenges for ``host`` (after login/logout)."""
        with self._lock:
            self._challenges.pop(host, None)
            for key in [k for k in self._tokens if k[0] == host]:
                del self._tokens[key]

    # httpx calls sync_auth_flow; overriding it (rather than auth_flow) lets
    # the flow read the token response only, never a streamed request body
    # or a blob response.
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        host = _host(request.url)
        scopes = scopes_for(request)
        with self._lock:
            known = self._challenges.get(host)
        if known is not None:
            yield from self._authorize(request, host, known, scopes, fresh=False)
        response = yield request
        challenged: set[str] = set()  # one fresh try per host, then the caller reports the 401
        while response.status_code == 401:
            challenge = Challenge.parse(response.headers.get("www-authenticate", ""))
            if challenge is None or challenge.scheme not in ("basic", "bearer"):
                return
            answered = _answered(response, request)
            if _host(answered.url) != host:
                # A redirect led to another host, which challenges for itself: it
                # gets its own credentials (usually none), on the request it saw.
                request, host = answered, _host(answered.url)
                scopes, known = scopes_for(request), None
            if host in challenged:
                return
            challenged.add(host)
            with self._lock:
                self._challenges[host] = challenge
            if not _replayable(request):
                return  # a streamed body is spent; the caller re-sends after priming
            if known is not None and known.scheme == "basic" == challenge.scheme:
                return  # the same credentials would be refused again
            # Fresh credentials (new scopes from the challenge first).
            applied = yield from self._authorize(request, host, challenge, scopes, fresh=True)
            if not applied:
                return
            response = yield request

    def _authorize(
        self,
        request: httpx.Request,
        host: str,
        challenge: Challenge,
        scopes: list[str],
        *,
        fresh: bool,
    ) -> Generator[httpx.Request, httpx.Response, bool]:
        if challenge.scheme == "basic":
            login = self._login_for(request.url)
            if login is None or login.identity_token:
                return False
            _authorization(request.headers, _basic(login.username, login.secret))
            return True
        # A remembered challenge's scope belonged to another request: only a
        # live challenge adds its scope to ours.
        wanted = _merge_scopes(challenge.params.get("scope", "") if fresh else "", scopes)
        key = (host, " ".join(wanted))
        with self._lock:
            token = self._tokens.get(key)
        if token is None or token.expires <= time.monotonic() or fresh:
            token = yield from self._fetch_token(request.url, challenge, wanted)
            with self._lock:
                self._tokens[key] = token
        _authorization(request.headers, f"Bearer {token.value}")
        return True

    def _login_for(self, url: httpx.URL) -> Login | None:
        if not self._policy.may_send_credentials(url):
            log.warning(
                "not sending credentials to %s over plain http; name the host insecure to allow it",
                _host(url),
            )
            return None
        # The repository lets a namespaced login (podman login HOST/team) answer for it.
        match = _PATH_RE.match(url.path)
        return self._keychain.resolve(_host(url), match["name"] if match else None)

    def _fetch_token(
        self, registry_url: httpx.URL, challenge: Challenge, scopes: list[str]
    ) -> Generator[httpx.Request, httpx.Response, _Token]:
        host = _host(registry_url)
        realm_url = self._checked_realm(challenge.params.get("realm", ""), host)
        login = self._login_for(registry_url)
        token_request = _token_request(
            realm_url, challenge.params.get("service", ""), login, scopes
        )
        # Every redirect hop of the token request passes the realm rule too.
        token_request.extensions[HOP_CHECK] = lambda url: self._checked_realm(str(url), host)
        response = yield token_request
        body = read_bounded(response, _MAX_TOKEN_BODY, f"the token answer of {host}")
        if response.status_code in (401, 403):
            who = f"as {login.username!r}" if login else "anonymously"
            raise AuthenticationError(
                f"the token service of {host} ({realm_url.host}) refused a token {who} "
                f"for {' '.join(scopes) or 'access'} (HTTP {response.status_code}). Check the "
                f"username and password or token (rk.login({host!r}, ...)), that it has not "
                "expired, and that it grants this repository.",
                status=response.status_code,
                errors=registry_errors(response),
            )
        if response.status_code >= 400:
            raise RegistryError(
                f"the token service of {host} answered HTTP {response.status_code}",
                status=response.status_code,
            )
        token = _parse_token(body)
        if token is None:
            raise AuthenticationError(
                f"the token service of {host} sent no usable token (the answer is not a JSON "
                "object with a string token and a numeric expires_in); check the registry's "
                "auth setup"
            )
        remember_secret(token.value)
        return token

    def _checked_realm(self, realm: str, host: str) -> httpx.URL:
        try:
            url = httpx.URL(realm)
            realm_host = _host(url)
        except (httpx.InvalidURL, UnicodeError):
            raise AuthenticationError(
                f"{host} sent an invalid token realm {scrub(realm)!r}"
            ) from None
        # Insecure applies to the host named, never to the realms it hands out.
        if url.scheme == "https" or (
            url.scheme == "http"
            and (is_loopback(realm_host) or self._policy.is_insecure(realm_host))
        ):
            return url
        raise AuthenticationError(
            f"{host} asked for a token from {scrub(str(url.copy_with(query=None)))!r}, which "
            "is not https; refusing to send credentials there. If this is a test registry "
            f"you trust, name it insecure: rk.Client(insecure=[{realm_host!r}])."
        )


def _answered(response: httpx.Response, sent: httpx.Request) -> httpx.Request:
    """The request ``response`` answers: the last redirect hop of ``sent``."""
    try:
        return response.request
    except RuntimeError:  # a response built by hand (tests, mocks) has none
        return sent


def _host(url: httpx.URL) -> str:
    return url.netloc.decode("ascii")


def _authorization(headers: httpx.Headers, value: str) -> None:
    remember_secret(value)
    headers["Authorization"] = value


def _token_request(
    realm_url: httpx.URL, service: str, login: Login | None, scopes: list[str]
) -> httpx.Request:
    """The request for a token: the OAuth2 refresh grant for an identity token, else a GET."""
    if login is not None and login.identity_token:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": login.secret,
            "service": service,
            "client_id": "registrykit",
            "access_type": "offline",
            "scope": " ".join(scopes),
        }
        return httpx.Request("POST", realm_url, data=form)
    params: list[tuple[str, str]] = []
    if service:
        params.append(("service", service))
    params += [("scope", s) for s in scopes]
    headers = {}
    if login is not None:
        params.append(("account", login.username))
        headers["Authorization"] = _basic(login.username, login.secret)
    return httpx.Request(
        "GET", realm_url.copy_merge_params(httpx.QueryParams(tuple(params))), headers=headers
    )


def _parse_token(body: bytes) -> _Token | None:
    """The token in a token answer, or None when it holds none of the right type."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    value = doc.get("token") or doc.get("access_token")
    expires_in = doc.get("expires_in") or 0
    # A token goes into a header: printable ASCII only.
    if not isinstance(value, str) or not value or not (value.isascii() and value.isprintable()):
        return None
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return None
    if not math.isfinite(expires_in):
        return None
    lifetime = min(max(float(expires_in), _MIN_TOKEN_LIFETIME), _MAX_TOKEN_LIFETIME)
    # Renew a little early so a token does not expire mid-request.
    return _Token(value, time.monotonic() + lifetime * 0.9)


def _replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


def _merge_scopes(challenge_scope: str, scopes: Iterable[str]) -> list[str]:
    merged = [s for s in challenge_scope.split() if s]
    for scope in scopes:
        if scope not in merged:
            merged.append(scope)
    return merged


def _basic(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
