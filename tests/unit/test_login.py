"""rk.login refuses early, without a registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

import registrykit as rk


def test_login_without_password_gives_the_hint(isolated_home):
    with pytest.raises(rk.AuthenticationError) as info:
        rk.login("ghcr.io", "me", None)
    assert "--password-stdin" in str(info.value)


def _config(home: Path) -> Path:
    return home / ".docker" / "config.json"


def _basic_only(username: str, password: str):
    """A MockTransport handler for a registry that accepts one Basic login."""
    good = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if request.headers.get("authorization") == good:
            return httpx.Response(200, json={})
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    return handler, seen


def test_login_verifies_over_the_clients_transport_and_changes_nothing_if_refused(
    isolated_home,
):
    handler, seen = _basic_only("alice", "right-password")
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(rk.AuthenticationError):
            rk.login("registry.example.com", "alice", "wrong", store=False, client=client)
        assert client.login_for("registry.example.com") is None
        assert client.keychain.hosts() == []
        result = rk.login(
            "registry.example.com", "alice", "right-password", store=False, client=client
        )
        assert result.stored_in is None and "this client only" in str(result)
        login = client.login_for("registry.example.com")
        assert login is not None and login.username == "alice"
    # Every request, refused or not, went through the transport the client was given.
    assert seen[0] is None and len(seen) == 4
    assert not _config(isolated_home).exists()


def test_logout_result_is_a_list_of_places_with_a_summary(isolated_home):
    config = _config(isolated_home)
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"auths": {"ghcr.io": {"auth": "YTpi"}}}))
    with rk.Client(cache_dir=None) as client:
        result = rk.logout("ghcr.io", client=client)
    assert result == [str(config)] and result[0] == str(config)
    assert isinstance(result, rk.LogoutResult)
    assert "ghcr.io" in str(result) and str(config) in result._repr_html_()
    assert "ghcr.io" not in json.loads(config.read_text())["auths"]
