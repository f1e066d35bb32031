"""LocalRegistry against the real distribution binary, in every auth/TLS mode."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import httpx
import jwt
import pytest
from support.images import FixtureImages
from support.net import PUBLIC_REPOSITORY, TOKEN_PASSWORD, TOKEN_USER, free_port
from support.oci import MANIFEST_ACCEPT
from support.skopeo import Skopeo
from support.tokenserver import TokenServer

from registrykit import RegistryUnavailable
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(120)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_and_stop_cleans_up() -> None:
    reg = LocalRegistry()
    reg.start()
    port, pid, workdir, data_dir = reg.port, reg.pid, reg.workdir, reg.data_dir
    assert pid is not None and workdir is not None and data_dir is not None
    assert reg.running
    assert reg.host == f"127.0.0.1:{port}"
    assert reg.url == f"http://127.0.0.1:{port}"
    assert reg.log_file is not None and reg.log_file.exists()
    assert httpx.get(f"{reg.url}/v2/").status_code == 200

    reg.stop()
    assert not reg.running
    assert reg.pid is None
    assert not _pid_exists(pid)
    assert _port_is_free(port)
    assert not workdir.exists()
    assert not data_dir.exists()
    reg.stop()  # idempotent


def test_context_manager_and_fixed_port() -> None:
    port = free_port()
    with LocalRegistry(port=port) as reg:
        assert reg.port == port
        assert httpx.get(f"http://127.0.0.1:{port}/v2/").status_code == 200
    assert not reg.running
    with pytest.raises(RegistryUnavailable, match="not started"):
        _ = reg.port


def test_registry_env_vars_in_parent_do_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    # skopeo/podman's REGISTRY_AUTH_FILE makes the registry refuse to start
    # when inherited; REGISTRY_HTTP_ADDR would move it to another port.
    monkeypatch.setenv("REGISTRY_AUTH_FILE", "/nonexistent/auth.json")
    monkeypatch.setenv("REGISTRY_HTTP_ADDR", "127.0.0.1:1")
    with LocalRegistry() as reg:
        assert httpx.get(f"{reg.url}/v2/").status_code == 200


def test_storage_delete_is_enabled(
    registry: LocalRegistry, fixture_images: FixtureImages, skopeo: Skopeo
) -> None:
    digest = fixture_images.images["single"].digest
    skopeo.copy(
        fixture_images.source("single"),
        f"docker://{registry.host}/local-test/delete:1",
        "--preserve-digests",
    )
    url = f"{registry.url}/v2/local-test/delete/manifests/{digest}"
    assert httpx.head(url, headers={"Accept": MANIFEST_ACCEPT}).status_code == 200
    assert httpx.delete(url).status_code == 202
    assert httpx.head(url, headers={"Accept": MANIFEST_ACCEPT}).status_code == 404


def test_htpasswd_requires_credentials(htpasswd_registry: LocalRegistry) -> None:
    reg = htpasswd_registry
    assert reg.username == "registrykit"
    assert reg.password
    url = f"{reg.url}/v2/"
    resp = httpx.get(url)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Basic ")
    assert httpx.get(url, auth=(reg.username, reg.password)).status_code == 200
    assert httpx.get(url, auth=(reg.username, "wrong")).status_code == 401
    # Extra users from users= share the file.
    assert httpx.get(url, auth=("reader", "reader-pass")).status_code == 200
    assert set(reg.users) == {"registrykit", "reader"}


def test_skopeo_pushes_with_htpasswd_credentials(
    htpasswd_registry: LocalRegistry, fixture_images: FixtureImages, skopeo: Skopeo
) -> None:
    ref = f"docker://{htpasswd_registry.host}/local-test/auth:1"
    src = fixture_images.source("single")
    denied = skopeo.copy(src, ref, dest_creds="registrykit:wrong", check=False)
    assert denied.returncode != 0
    skopeo.copy(src, ref, "--preserve-digests")
    assert skopeo.inspect(ref)["Digest"] == fixture_images.images["single"].digest


def test_repr_never_shows_password(htpasswd_registry: LocalRegistry) -> None:
    assert htpasswd_registry.password
    for text in (repr(htpasswd_registry), str(htpasswd_registry)):
        assert htpasswd_registry.password not in text
        assert "registrykit" in text  # the user name is fine to show
    stopped = LocalRegistry(auth="htpasswd", password="s3cret-Value-42")
    assert "s3cret-Value-42" not in repr(stopped)


def test_tls_verifies_with_ca_file(tls_registry: LocalRegistry) -> None:
    assert tls_registry.url.startswith("https://127.0.0.1:")
    assert tls_registry.ca_file is not None and tls_registry.ca_file.exists()
    ctx = ssl.create_default_context(cafile=str(tls_registry.ca_file))
    assert httpx.get(f"{tls_registry.url}/v2/", verify=ctx).status_code == 200
    # The certificate names localhost too.
    localhost = tls_registry.url.replace("127.0.0.1", "localhost")
    assert httpx.get(f"{localhost}/v2/", verify=ctx).status_code == 200
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_registry.url}/v2/")


def test_skopeo_through_tls_with_cert_dir(
    tls_registry: LocalRegistry, fixture_images: FixtureImages, skopeo: Skopeo
) -> None:
    pushed = fixture_images.push_fixtures(tls_registry, "local-tls")
    ref, digest = pushed["multi"]
    assert skopeo.inspect(f"docker://{ref}")["Digest"] == digest


def test_token_mode_challenges_with_token_server_realm(
    token_registry: LocalRegistry, token_server: TokenServer
) -> None:
    resp = httpx.get(f"{token_registry.url}/v2/")
    assert resp.status_code == 401
    challenge = resp.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'realm="{token_server.realm}"' in challenge
    assert f'service="{token_server.service}"' in challenge


def test_token_from_token_server_is_accepted(
    token_registry: LocalRegistry, token_server: TokenServer
) -> None:
    resp = httpx.get(
        token_server.realm,
        params={"service": token_server.service, "scope": "registry:catalog:*"},
        auth=(TOKEN_USER, TOKEN_PASSWORD),
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["token"] == body["access_token"]
    header = jwt.get_unverified_header(body["token"])
    assert "x5c" in header
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["aud"] == token_server.service
    assert claims["access"] == [{"type": "registry", "name": "catalog", "actions": ["*"]}]
    catalog = httpx.get(
        f"{token_registry.url}/v2/_catalog",
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    assert catalog.status_code == 200, catalog.text
    assert "repositories" in catalog.json()
    last = token_server.requests[-1]
    assert last.basic_auth and last.username == TOKEN_USER
    assert last.scopes == ["registry:catalog:*"]


def test_token_server_rejects_bad_credentials_and_limits_anonymous(
    token_registry: LocalRegistry, token_server: TokenServer
) -> None:
    bad = httpx.get(
        token_server.realm,
        params={"service": token_server.service, "scope": "registry:catalog:*"},
        auth=(TOKEN_USER, "wrong"),
    )
    assert bad.status_code == 401
    anon = httpx.get(
        token_server.realm,
        params={"service": token_server.service, "scope": "registry:catalog:*"},
    )
    assert anon.status_code == 200
    claims = jwt.decode(anon.json()["token"], options={"verify_signature": False})
    assert claims["access"] == []
    catalog = httpx.get(
        f"{token_registry.url}/v2/_catalog",
        headers={"Authorization": f"Bearer {anon.json()['token']}"},
    )
    assert catalog.status_code == 401


def test_token_mode_push_and_anonymous_public_pull(
    token_registry: LocalRegistry,
    token_server: TokenServer,
    fixture_images: FixtureImages,
    skopeo: Skopeo,
) -> None:
    digest = fixture_images.images["single"].digest
    public = f"docker://{token_registry.host}/{PUBLIC_REPOSITORY}:1"
    private = f"docker://{token_registry.host}/local-test/private:1"
    for ref in (public, private):
        skopeo.copy(fixture_images.source("single"), ref, "--preserve-digests")
    # Anonymous: pull works on the public repository only.
    anon = ["--no-creds"]
    out = skopeo.run("inspect", "--tls-verify=false", *anon, public)
    assert digest in out.stdout
    denied = skopeo.run("inspect", "--tls-verify=false", *anon, private, check=False)
    assert denied.returncode != 0
    assert any(not r.basic_auth for r in token_server.requests)


def test_token_server_oauth2_password_and_refresh_flow(
    token_registry: LocalRegistry, token_server: TokenServer
) -> None:
    form = {
        "grant_type": "password",
        "username": TOKEN_USER,
        "password": TOKEN_PASSWORD,
        "service": token_server.service,
        "scope": "registry:catalog:*",
        "client_id": "registrykit-tests",
    }
    first = httpx.post(token_server.realm, data=form)
    assert first.status_code == 200
    refresh = first.json()["refresh_token"]
    assert token_server.refresh_tokens[refresh] == TOKEN_USER
    second = httpx.post(
        token_server.realm,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "service": token_server.service,
            "scope": "registry:catalog:*",
            "client_id": "registrykit-tests",
        },
    )
    assert second.status_code == 200
    token = second.json()["access_token"]
    catalog = httpx.get(
        f"{token_registry.url}/v2/_catalog", headers={"Authorization": f"Bearer {token}"}
    )
    assert catalog.status_code == 200
    bad = httpx.post(
        token_server.realm, data={"grant_type": "refresh_token", "refresh_token": "nope"}
    )
    assert bad.status_code == 401
    wrong = httpx.post(token_server.realm, data={**form, "password": "wrong"})
    assert wrong.status_code == 401


def test_token_server_short_expiry_and_single_key(tmp_path: Path) -> None:
    with TokenServer(
        tmp_path, users={"u": "p"}, expires_in=2, token_keys="access_token", algorithm="ES256"
    ) as server:
        resp = httpx.get(
            server.realm, params={"scope": "repository:a/b:pull,push"}, auth=("u", "p")
        )
        body = resp.json()
        assert "token" not in body and body["expires_in"] == 2
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 2
        assert claims["access"] == [
            {"type": "repository", "name": "a/b", "actions": ["pull", "push"]}
        ]
        assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"


def test_persistent_data_dir_survives_restart(
    tmp_path: Path, fixture_images: FixtureImages, skopeo: Skopeo
) -> None:
    data_dir = tmp_path / "registry-data"
    digest = fixture_images.images["single"].digest
    with LocalRegistry(data_dir=data_dir) as reg:
        assert reg.data_dir == data_dir
        skopeo.copy(
            fixture_images.source("single"),
            f"docker://{reg.host}/persist/me:1",
            "--preserve-digests",
        )
    assert data_dir.exists() and any(data_dir.iterdir())
    with LocalRegistry(data_dir=data_dir) as again:
        assert skopeo.inspect(f"docker://{again.host}/persist/me:1")["Digest"] == digest
        # Restarting the same object works too.
        again.stop()
        again.start()
        resp = httpx.get(f"{again.url}/v2/persist/me/tags/list")
        assert resp.json()["tags"] == ["1"]
    assert data_dir.exists()


def test_startup_failure_reports_log_tail() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        reg = LocalRegistry(port=port, startup_timeout=10)
        with pytest.raises(RegistryUnavailable, match="address already in use"):
            reg.start()
        assert not reg.running
        assert reg.workdir is None
