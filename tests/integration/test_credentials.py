"""CredentialStore with fake ``docker-credential-<name>`` helpers (subprocesses).

The helpers keep their "keychain" in a JSON file and log every call, so the
tests can check that secrets only ever travel over stdin."""

from __future__ import annotations

import json
import logging
import time

import pytest
from support.credhelpers import (
    DOCKER_HUB_KEY,
    SECRET,
    TOKEN,
    Env,
    assert_no_secret,
    b64,
    write_json,
)
from support.internals import Credential, CredentialStore

from registrykit import RegistryKitError


def test_cred_helper_is_used_for_its_host(env: Env) -> None:
    env.add_helper("fake")
    env.set_keychain("fake", {"ghcr.io": ("alice", SECRET)})
    write_json(env.docker_config, {"credHelpers": {"ghcr.io": "fake"}})
    cred = CredentialStore().get("ghcr.io")
    assert cred == Credential("alice", SECRET, False, "credHelper:fake")
    assert env.calls() == [{"helper": "fake", "argv": ["get"], "stdin_in_argv": False}]


def test_helper_token_username_marks_an_identity_token(env: Env) -> None:
    env.add_helper("fake")
    env.set_keychain("fake", {DOCKER_HUB_KEY: ("<token>", TOKEN)})
    write_json(env.docker_config, {"credsStore": "fake"})
    cred = CredentialStore().get("docker.io")
    assert cred is not None and cred.identity_token and cred.secret == TOKEN


def test_helper_not_found_falls_through_to_auths_then_creds_store(env: Env) -> None:
    env.add_helper("fake")
    env.add_helper("store")
    env.set_keychain("store", {"quay.io": ("dave", SECRET)})
    write_json(
        env.docker_config,
        {
            "credHelpers": {"ghcr.io": "fake", "quay.io": "fake"},
            "auths": {"ghcr.io": {"auth": b64("plain:pw")}},
            "credsStore": "store",
        },
    )
    store = CredentialStore()
    ghcr = store.get("ghcr.io")
    assert ghcr is not None and ghcr.source == str(env.docker_config)
    quay = store.get("quay.io")
    assert quay is not None and quay.source == "credsStore:store" and quay.username == "dave"
    assert store.get("nowhere.example") is None


def test_creds_store(env: Env) -> None:
    env.add_helper("desktop")
    env.set_keychain("desktop", {"registry.gitlab.com": ("eve", SECRET)})
    write_json(env.docker_config, {"auths": {}, "credsStore": "desktop"})
    cred = CredentialStore().get("registry.gitlab.com")
    assert cred == Credential("eve", SECRET, False, "credsStore:desktop")


def test_store_uses_the_cred_helper_then_creds_store(env: Env) -> None:
    env.add_helper("fake")
    env.add_helper("desktop")
    write_json(
        env.docker_config,
        {
            "credHelpers": {"ghcr.io": "fake"},
            "credsStore": "desktop",
            "auths": {"ghcr.io": {"auth": b64("stale:old")}},
        },
    )
    store = CredentialStore()
    assert store.store("ghcr.io", "alice", SECRET) == "credHelper:fake"
    assert store.store("docker.io", "bob", TOKEN) == "credsStore:desktop"
    assert env.keychain("fake") == {"ghcr.io": {"Username": "alice", "Secret": SECRET}}
    assert env.keychain("desktop") == {DOCKER_HUB_KEY: {"Username": "bob", "Secret": TOKEN}}
    text = env.docker_config.read_text()
    assert_no_secret(text)
    assert "stale" not in text  # the plain-text copy would shadow the helper's entry
    assert json.loads(text)["credHelpers"] == {"ghcr.io": "fake"}
    calls = env.calls()
    assert [c["argv"] for c in calls] == [["store"], ["store"]]
    assert not any(c["stdin_in_argv"] for c in calls)


def test_erase_everywhere(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.add_helper("fake")
    env.add_helper("desktop")
    env.set_keychain("fake", {"ghcr.io": ("alice", SECRET)})
    env.set_keychain("desktop", {"ghcr.io": ("alice", SECRET), "quay.io": ("q", "1")})
    # podman's runtime file (REGISTRY_AUTH_FILE would be read alone, contract v2).
    podman = write_json(
        env.root / "run" / "containers" / "auth.json",
        {"auths": {"ghcr.io": {"auth": b64("p:1")}, "quay.io": {"auth": b64("q:1")}}},
    )
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "run"))
    write_json(
        env.docker_config,
        {
            "credHelpers": {"ghcr.io": "fake"},
            "credsStore": "desktop",
            "auths": {"https://ghcr.io": {"auth": b64("d:1")}},
            "currentContext": "default",
        },
    )
    removed = CredentialStore().erase("ghcr.io")
    assert removed == [
        str(podman),
        "credHelper:fake",
        "credsStore:desktop",
        str(env.docker_config),
    ]
    assert json.loads(podman.read_text()) == {"auths": {"quay.io": {"auth": b64("q:1")}}}
    docker_doc = json.loads(env.docker_config.read_text())
    assert docker_doc["auths"] == {} and docker_doc["currentContext"] == "default"
    assert env.keychain("fake") == {}
    assert env.keychain("desktop") == {"quay.io": {"Username": "q", "Secret": "1"}}
    assert CredentialStore().get("ghcr.io") is None
    assert CredentialStore().erase("ghcr.io") == []


def test_records_list_every_login_without_secrets(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.add_helper("fake")
    env.add_helper("desktop")
    env.set_keychain("fake", {"ghcr.io": ("alice", SECRET), "unrelated.io": ("z", SECRET)})
    env.set_keychain("desktop", {DOCKER_HUB_KEY: ("bob", TOKEN)})
    podman = write_json(
        env.root / "run" / "containers" / "auth.json",
        {"auths": {"quay.io/team": {"auth": b64("q:1")}}},
    )
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "run"))
    write_json(
        env.docker_config,
        {
            "auths": {
                "localhost:5000": {"auth": b64(f"alice:{SECRET}")},
                "tok.example": {"identitytoken": TOKEN},
            },
            "credHelpers": {"ghcr.io": "fake"},
            "credsStore": "desktop",
        },
    )
    rows = CredentialStore().records()
    assert rows == [
        {"registry": "quay.io/team", "username": "q", "source": str(podman)},
        {"registry": "localhost:5000", "username": "alice", "source": str(env.docker_config)},
        {"registry": "tok.example", "username": "<token>", "source": str(env.docker_config)},
        {"registry": "ghcr.io", "username": "alice", "source": "credHelper:fake"},
        {"registry": "docker.io", "username": "bob", "source": "credsStore:desktop"},
    ]
    assert_no_secret(json.dumps(rows))


def test_failing_helper_error_never_contains_the_secret(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.add_helper("fake")
    write_json(env.docker_config, {"credHelpers": {"ghcr.io": "fake"}})
    monkeypatch.setenv("FAKE_HELPER_MODE", "fail")
    with pytest.raises(RegistryKitError) as info:
        CredentialStore().store("ghcr.io", "alice", SECRET)
    message = str(info.value)
    assert "docker-credential-fake" in message and "keychain is locked" in message
    assert_no_secret(message)
    assert info.value.__cause__ is None
    with pytest.raises(RegistryKitError, match="docker-credential-fake"):
        CredentialStore().get("ghcr.io")


def test_hanging_helper_times_out(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.add_helper("fake")
    write_json(env.docker_config, {"credsStore": "fake"})
    monkeypatch.setenv("FAKE_HELPER_MODE", "hang")
    start = time.monotonic()
    with pytest.raises(RegistryKitError, match="did not answer"):
        CredentialStore(helper_timeout=0.5).get("ghcr.io")
    assert time.monotonic() - start < 10


def test_logs_never_contain_the_secret(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    env.add_helper("fake")
    write_json(env.docker_config, {"credHelpers": {"ghcr.io": "fake"}})
    store = CredentialStore()
    with caplog.at_level(logging.DEBUG):
        store.store("ghcr.io", "alice", SECRET)
        store.store("quay.io", "alice", SECRET)
        store.store("docker.io", "<token>", TOKEN)
        assert store.get("ghcr.io") is not None
        assert store.get("quay.io") is not None
        assert store.get("docker.io") is not None
        store.records()
        store.erase("ghcr.io")
        store.erase("quay.io")
    assert caplog.records, "expected debug logging to be captured"
    for record in caplog.records:
        assert_no_secret(record.getMessage())
    assert_no_secret(caplog.text)
