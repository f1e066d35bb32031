"""The auth flow driven by hand (httpx's own style): no server needed for its logic."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import parse_qs

import httpx
import pytest
from support.internals import Keychain, Login, RegistryAuth, TransportPolicy, scopes_for

import registrykit as rk

SECRET = "s3cr3t-Pa55word-never-shown"
HOST = "registry.example.com"


ALICE = Login("alice", SECRET)


class _EveryHost(Keychain):
    """A keychain that answers every host with the same login (or none)."""

    def __init__(self, login: Login | None) -> None:
        super().__init__()
        self.login = login

    def resolve(self, host: str, repository: str | None = None) -> Login | None:
        return self.login


def _auth(login: Login | None = ALICE, **policy: object) -> RegistryAuth:
    return RegistryAuth(_EveryHost(login), TransportPolicy(**policy))  # type: ignore[arg-type]


def _challenge(realm: str = "https://auth.example.com/token", scope: str = "", error: str = ""):
    header = f'Bearer realm="{realm}",service="registry.example.com"'
    if scope:
        header += f',scope="{scope}"'
    if error:
        header += f',error="{error}"'
    return httpx.Response(401, headers={"WWW-Authenticate": header})


def _token(value: str = "tok-1", key: str = "token", expires_in: int = 300) -> httpx.Response:
    return httpx.Response(200, json={key: value, "expires_in": expires_in})


def test_scopes_from_path_and_method():
    get = httpx.Request("GET", f"https://{HOST}/v2/library/nginx/manifests/latest")
    put = httpx.Request("PUT", f"https://{HOST}/v2/a/b/c/blobs/uploads/x")
    delete = httpx.Request("DELETE", f"https://{HOST}/v2/app/manifests/sha256:00")
    catalog = httpx.Request("GET", f"https://{HOST}/v2/_catalog?n=10")
    assert scopes_for(get) == ["repository:library/nginx:pull"]
    assert scopes_for(put) == ["repository:a/b/c:pull,push"]
    assert scopes_for(delete) == ["repository:app:delete"]
    assert scopes_for(catalog) == ["registry:catalog:*"]
    mount = httpx.Request(
        "POST",
        f"https://{HOST}/v2/dst/blobs/uploads/",
        extensions={"registrykit.scopes": ("repository:src:pull",)},
    )
    assert scopes_for(mount) == ["repository:dst:pull,push", "repository:src:pull"]


def test_bearer_challenge_fetches_token_with_basic_then_retries():
    auth = _auth()
    request = httpx.Request("GET", f"https://{HOST}/v2/app/tags/list")
    flow = auth.sync_auth_flow(request)
    first = next(flow)
    assert "Authorization" not in first.headers
    token_request = flow.send(_challenge(scope="repository:app:pull"))
    assert token_request.url.host == "auth.example.com"
    params = parse_qs(token_request.url.query.decode())
    assert params["service"] == ["registry.example.com"]
    assert params["scope"] == ["repository:app:pull"]
    assert params["account"] == ["alice"]
    basic = base64.b64decode(token_request.headers["Authorization"].split()[1]).decode()
    assert basic == f"alice:{SECRET}"
    retried = flow.send(_token("tok-1", key="access_token"))
    assert retried.headers["Authorization"] == "Bearer tok-1"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))

    # The next request for the same scope reuses the cached token: no 401 round trip.
    again = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    assert next(again).headers["Authorization"] == "Bearer tok-1"


def test_tokens_are_cached_per_host_and_scope():
    auth = _auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/a/tags/list"))
    next(flow)
    flow.send(_challenge(scope="repository:a:pull"))
    assert flow.send(_token("ta")).headers["Authorization"] == "Bearer ta"
    # The host's challenge is known now: a new scope gets its token before the
    # request goes out, without a 401 round trip.
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/b/tags/list"))
    token_request = next(flow)
    assert parse_qs(token_request.url.query.decode())["scope"] == ["repository:b:pull"]
    assert flow.send(_token("tb")).headers["Authorization"] == "Bearer tb"
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/b/tags/list"))
    assert next(flow).headers["Authorization"] == "Bearer tb"
    other = auth.sync_auth_flow(httpx.Request("GET", "https://other.example.com/v2/b/tags/list"))
    assert "Authorization" not in next(other).headers


def test_insufficient_scope_rechallenges_once_then_gives_up():
    auth = _auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    next(flow)
    flow.send(_challenge(scope="repository:app:pull"))
    flow.send(_token("narrow"))
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    # Now the cached token is refused for more scope: one fresh token, then stop.
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    assert next(flow).headers["Authorization"] == "Bearer narrow"
    token_request = flow.send(
        _challenge(scope="repository:app:pull repository:other:pull", error="insufficient_scope")
    )
    assert parse_qs(token_request.url.query.decode())["scope"] == [
        "repository:app:pull",
        "repository:other:pull",
    ]
    retried = flow.send(_token("wide"))
    assert retried.headers["Authorization"] == "Bearer wide"
    with pytest.raises(StopIteration):
        flow.send(_challenge(scope="repository:app:pull", error="insufficient_scope"))


def test_identity_token_uses_the_oauth2_refresh_grant():
    auth = _auth(Login("<token>", SECRET, identity_token=True))
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    next(flow)
    token_request = flow.send(_challenge(scope="repository:app:pull"))
    assert token_request.method == "POST"
    form = parse_qs(token_request.content.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == [SECRET]
    assert form["scope"] == ["repository:app:pull"]
    assert "Authorization" not in token_request.headers


def test_anonymous_token_when_no_login():
    auth = _auth(None)
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    next(flow)
    token_request = flow.send(_challenge(scope="repository:app:pull"))
    assert "Authorization" not in token_request.headers
    assert "account" not in parse_qs(token_request.url.query.decode())


def test_basic_challenge_sends_credentials_once():
    auth = _auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/"))
    next(flow)
    retried = flow.send(httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}))
    assert retried.headers["Authorization"].startswith("Basic ")
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}))
    # Known Basic host: credentials go with the first request; a refusal is final.
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/x/tags/list"))
    assert next(flow).headers["Authorization"].startswith("Basic ")
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}))


def test_token_service_refusal_is_a_clear_error_without_the_secret():
    auth = _auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    next(flow)
    flow.send(_challenge(scope="repository:app:pull"))
    with pytest.raises(rk.AuthenticationError) as info:
        flow.send(httpx.Response(401, json={"details": "bad credentials"}))
    assert "alice" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_non_https_realm_on_a_remote_host_is_refused():
    auth = _auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"https://{HOST}/v2/app/tags/list"))
    next(flow)
    with pytest.raises(rk.AuthenticationError) as info:
        flow.send(_challenge(realm="http://auth.example.com/token"))
    assert "not https" in str(info.value)


def test_http_realm_allowed_for_loopback_and_named_insecure_hosts():
    for realm, policy in (
        ("http://127.0.0.1:5001/token", {}),
        ("http://auth.lab:8080/token", {"insecure": ("auth.lab:8080",)}),
    ):
        flow = _auth(**policy).sync_auth_flow(
            httpx.Request("GET", f"https://{HOST}/v2/app/tags/list")
        )
        next(flow)
        assert str(flow.send(_challenge(realm=realm)).url).startswith(realm)


def test_no_credentials_over_plain_http_to_a_remote_host(caplog):
    auth = _auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", "http://remote.example.com/v2/"))
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}))
    assert "plain http" in caplog.text
    # Named insecure: allowed, as docker's insecure-registries does.
    flow = _auth(insecure=("remote.example.com",)).sync_auth_flow(
        httpx.Request("GET", "http://remote.example.com/v2/")
    )
    next(flow)
    retried = flow.send(httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}))
    assert retried.headers["Authorization"].startswith("Basic ")


def test_streamed_body_is_not_replayed():
    auth = _auth()

    def body():
        yield b"chunk"

    request = httpx.Request("PUT", f"https://{HOST}/v2/app/blobs/uploads/x", content=body())
    flow = auth.sync_auth_flow(request)
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(_challenge(scope="repository:app:pull,push"))


def test_authorization_is_dropped_on_redirect_to_another_host():
    seen: dict[str, httpx.Headers] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers
        if request.url.host == HOST:
            if "authorization" not in request.headers:
                return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
            return httpx.Response(
                307, headers={"Location": "https://storage.example.net/blob?sig=1"}
            )
        return httpx.Response(200, content=b"blob")

    with rk.Client(
        cache_dir=None, transport=httpx.MockTransport(handler), logins={HOST: ("alice", SECRET)}
    ) as client:
        response = client.http.get(f"https://{HOST}/v2/app/blobs/sha256:00")
    assert response.content == b"blob"
    assert seen[HOST]["authorization"].startswith("Basic ")
    assert "authorization" not in seen["storage.example.net"]


def test_secrets_never_in_reprs_logs_or_errors(caplog):
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
        return _challenge(scope="repository:app:pull")

    with rk.Client(
        cache_dir=None, transport=httpx.MockTransport(handler), logins={HOST: ("alice", SECRET)}
    ) as client:
        with pytest.raises(rk.AuthenticationError) as info:
            client.registry(HOST).tags("app")
        texts = [
            repr(client),
            str(client),
            repr(client.auth),
            repr(client.keychain),
            str(info.value),
            repr(info.value),
            json.dumps(info.value.errors),
        ]
    texts.append(caplog.text)
    assert all(SECRET not in text for text in texts)
    assert all(base64.b64encode(f"alice:{SECRET}".encode()).decode() not in t for t in texts)
