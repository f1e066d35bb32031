"""rk.login / rk.logout / rk.credential_records end to end, against real registries."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import httpx
import pytest
from support.internals import credential_records
from support.net import TOKEN_PASSWORD, TOKEN_USER
from support.podman import docker_stand_in

import registrykit as rk


def _config(home: Path) -> Path:
    return home / ".docker" / "config.json"


def test_login_verifies_then_stores_0600_keeping_other_entries(
    htpasswd_registry, isolated_home, caplog, tmp_path, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    docker_stand_in(tmp_path, monkeypatch)  # docker (with a daemon) is the runtime: its file
    config = _config(isolated_home)
    config.parent.mkdir()
    other = {"auths": {"ghcr.io": {"auth": "b3RoZXI6c2VjcmV0"}}, "psFormat": "table {{.ID}}"}
    config.write_text(json.dumps(other))
    password = htpasswd_registry.password
    with rk.Client(cache_dir=None) as client:
        result = rk.login(
            htpasswd_registry.host, htpasswd_registry.username, password, client=client
        )
        assert result.stored_in == str(config)
        assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
        doc = json.loads(config.read_text())
        assert doc["psFormat"] == other["psFormat"]
        assert doc["auths"]["ghcr.io"] == other["auths"]["ghcr.io"]
        entry = base64.b64decode(doc["auths"][htpasswd_registry.host]["auth"]).decode()
        assert entry == f"{htpasswd_registry.username}:{password}"
        # The stored login is what the client now uses.
        assert list(client.registry(htpasswd_registry.host).catalog()) is not None
        rows = credential_records(client=client)
        assert {
            "registry": htpasswd_registry.host,
            "username": htpasswd_registry.username,
            "source": str(config),
        } in rows
        texts = [str(result), repr(result), result._repr_html_(), repr(rows), caplog.text]
        assert all(password not in t for t in texts)

        assert rk.logout(htpasswd_registry.host, client=client) == [str(config)]
        assert htpasswd_registry.host not in json.loads(config.read_text())["auths"]
        with pytest.raises(rk.AuthenticationError):
            list(client.registry(htpasswd_registry.host).catalog())


def test_wrong_password_is_refused_and_nothing_is_written(htpasswd_registry, isolated_home):
    with rk.Client(cache_dir=None) as client, pytest.raises(rk.AuthenticationError) as info:
        rk.login(
            htpasswd_registry.host, htpasswd_registry.username, "not-the-password", client=client
        )
    assert "not-the-password" not in str(info.value)
    assert "docker login" in str(info.value)
    assert not _config(isolated_home).exists()


def test_login_through_the_token_flow_and_auth_file(token_registry, isolated_home, tmp_path):
    auth_file = tmp_path / "auth.json"
    with rk.Client(cache_dir=None, auth_file=auth_file) as client:
        result = rk.login(token_registry.host, TOKEN_USER, TOKEN_PASSWORD, client=client)
        assert result.stored_in == str(auth_file)
        assert isinstance(list(client.registry(token_registry.host).catalog()), list)
        with pytest.raises(rk.AuthenticationError):
            rk.login(token_registry.host, TOKEN_USER, "wrong", client=client)
    doc = json.loads(auth_file.read_text())
    assert list(doc["auths"]) == [token_registry.host]


def test_login_uses_the_configured_credential_helper(
    htpasswd_registry, isolated_home, tmp_path, monkeypatch
):
    keychain = tmp_path / "keychain.json"
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    helper.write_text(f"""#!/usr/bin/env python3
import json, sys
path = {str(keychain)!r}
try:
    store = json.load(open(path))
except FileNotFoundError:
    store = {{}}
action = sys.argv[1]
data = sys.stdin.read()
if action == "store":
    item = json.loads(data); store[item["ServerURL"]] = [item["Username"], item["Secret"]]
elif action == "get":
    if data.strip() not in store:
        print("credentials not found in native keychain"); sys.exit(1)
    user, secret = store[data.strip()]
    print(json.dumps({{"ServerURL": data.strip(), "Username": user, "Secret": secret}}))
elif action == "erase":
    store.pop(data.strip(), None)
elif action == "list":
    print(json.dumps({{k: v[0] for k, v in store.items()}}))
json.dump(store, open(path, "w"))
""")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    docker_stand_in(tmp_path, monkeypatch)  # docker (with a daemon) is the runtime: its file
    config = _config(isolated_home)
    config.parent.mkdir()
    config.write_text(json.dumps({"credsStore": "fake"}))
    with rk.Client(cache_dir=None) as client:
        result = rk.login(
            htpasswd_registry.host,
            htpasswd_registry.username,
            htpasswd_registry.password,
            client=client,
        )
        assert result.stored_in == "credsStore:fake"
        assert htpasswd_registry.password not in config.read_text()
        stored = json.loads(keychain.read_text())
        assert stored[htpasswd_registry.host][1] == htpasswd_registry.password
        assert isinstance(list(client.registry(htpasswd_registry.host).catalog()), list)


def test_cloud_login_asks_the_cli(isolated_home, tmp_path, monkeypatch):
    """An ECR host without a password runs `aws ecr get-login-password` (fake CLI here).

    ECR itself cannot be reached from here, so a mock answers for it the way
    ECR does: a Basic challenge, then 200 for user AWS with the CLI's token.
    """
    import httpx

    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    calls = tmp_path / "calls"
    aws = tmp_path / "bin" / "aws"
    aws.parent.mkdir()
    aws.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho ecr-token-123\n')
    aws.chmod(0o755)
    monkeypatch.setenv("PATH", f"{aws.parent}:{os.environ['PATH']}")
    expected = "Basic " + base64.b64encode(b"AWS:ecr-token-123").decode()

    def ecr(request: httpx.Request) -> httpx.Response:
        assert request.url.host == host and request.url.scheme == "https"
        if request.headers.get("authorization") == expected:
            return httpx.Response(200, json={})
        return httpx.Response(401, headers={"WWW-Authenticate": f'Basic realm="https://{host}/"'})

    auth_file = tmp_path / "auth.json"
    with rk.Client(cache_dir=None, auth_file=auth_file, transport=httpx.MockTransport(ecr)) as c:
        result = rk.login(host, client=c)
    assert calls.read_text().split() == ["ecr", "get-login-password", "--region", "eu-west-1"]
    assert result.username == "AWS" and result.stored_in == str(auth_file)
    assert "ecr-token-123" not in str(result) + repr(result)
    stored = json.loads(auth_file.read_text())["auths"][host]["auth"]
    assert base64.b64decode(stored).decode() == "AWS:ecr-token-123"
