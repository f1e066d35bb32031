"""CredentialStore: reading, writing and erasing logins like docker and podman.

Credential helpers are faked with small Python programs named
``docker-credential-<name>`` that keep their "keychain" in a JSON file and log
every call, so the tests can check that secrets only ever travel over stdin.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

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
from support.internals import Credential, CredentialStore, auth_key, normalize_host

from registrykit import RegistryKitError

# --------------------------------------------------------------------------- hosts


@pytest.mark.parametrize(
    ("given", "host", "key"),
    [
        ("docker.io", "docker.io", DOCKER_HUB_KEY),
        ("index.docker.io", "docker.io", DOCKER_HUB_KEY),
        ("registry-1.docker.io", "docker.io", DOCKER_HUB_KEY),
        ("https://index.docker.io/v1/", "docker.io", DOCKER_HUB_KEY),
        ("ghcr.io", "ghcr.io", "ghcr.io"),
        ("https://myreg.io/v1/", "myreg.io", "myreg.io"),
        ("localhost:5000", "localhost:5000", "localhost:5000"),
        ("http://localhost:5000", "localhost:5000", "localhost:5000"),
    ],
)
def test_host_normalisation(given: str, host: str, key: str) -> None:
    assert normalize_host(given) == host
    assert auth_key(given) == key


# --------------------------------------------------------------------------- reading


def test_reads_base64_auth_splitting_on_the_first_colon(env: Env) -> None:
    write_json(env.docker_config, {"auths": {"ghcr.io": {"auth": b64(f"alice:{SECRET}")}}})
    cred = CredentialStore().get("ghcr.io")
    assert cred == Credential("alice", SECRET, False, str(env.docker_config))


def test_reads_username_and_password_fields(env: Env) -> None:
    write_json(env.docker_config, {"auths": {"quay.io": {"username": "bob", "password": SECRET}}})
    cred = CredentialStore().get("quay.io")
    assert cred is not None
    assert (cred.username, cred.secret, cred.identity_token) == ("bob", SECRET, False)


def test_reads_identity_token(env: Env) -> None:
    write_json(
        env.docker_config,
        {"auths": {"myacr.azurecr.io": {"auth": b64("carol:"), "identitytoken": TOKEN}}},
    )
    cred = CredentialStore().get("myacr.azurecr.io")
    assert cred is not None
    assert (cred.username, cred.secret, cred.identity_token) == ("carol", TOKEN, True)


def test_identity_token_alone_uses_the_token_username(env: Env) -> None:
    write_json(env.docker_config, {"auths": {"r.example": {"identitytoken": TOKEN}}})
    cred = CredentialStore().get("r.example")
    assert cred is not None
    assert (cred.username, cred.secret, cred.identity_token) == ("<token>", TOKEN, True)


@pytest.mark.parametrize(
    "query", ["docker.io", "index.docker.io", "registry-1.docker.io", DOCKER_HUB_KEY]
)
def test_docker_hub_key_matches_every_spelling(env: Env, query: str) -> None:
    write_json(env.docker_config, {"auths": {DOCKER_HUB_KEY: {"auth": b64(f"alice:{SECRET}")}}})
    cred = CredentialStore().get(query)
    assert cred is not None and cred.username == "alice"


def test_legacy_url_key_matches_its_host(env: Env) -> None:
    write_json(env.docker_config, {"auths": {"https://myreg.io/v1/": {"auth": b64("u:p")}}})
    cred = CredentialStore().get("myreg.io")
    assert cred is not None and cred.secret == "p"


def test_namespace_key_does_not_answer_for_the_whole_host(env: Env) -> None:
    write_json(env.docker_config, {"auths": {"quay.io/team": {"auth": b64("u:p")}}})
    assert CredentialStore().get("quay.io") is None


def test_empty_entries_and_other_hosts_are_not_matches(env: Env) -> None:
    write_json(env.docker_config, {"auths": {"ghcr.io": {}, "quay.io": {"auth": b64("u:p")}}})
    assert CredentialStore().get("ghcr.io") is None
    assert CredentialStore().get("example.com") is None


def test_broken_file_is_skipped_with_a_warning(
    env: Env, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # podman's runtime auth.json is read first (REGISTRY_AUTH_FILE would be read alone).
    broken = env.root / "run" / "containers" / "auth.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "run"))
    write_json(env.docker_config, {"auths": {"ghcr.io": {"auth": b64("u:p")}}})
    with caplog.at_level(logging.WARNING):
        cred = CredentialStore().get("ghcr.io")
    assert cred is not None and cred.source == str(env.docker_config)
    assert str(broken) in caplog.text


def test_podman_auth_files(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime_dir = env.root / "run"
    xdg_file = write_json(
        runtime_dir / "containers" / "auth.json", {"auths": {"quay.io": {"auth": b64("x:1")}}}
    )
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    cred = CredentialStore().get("quay.io")
    assert cred is not None and cred.source == str(xdg_file)

    env_file = write_json(env.root / "auth.json", {"auths": {"quay.io": {"auth": b64("y:2")}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(env_file))
    cred = CredentialStore().get("quay.io")
    assert cred is not None and (cred.username, cred.source) == ("y", str(env_file))


def test_read_order_and_precedence(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = env.root / "explicit.json"
    regfile = env.root / "registry-auth.json"
    xdg = env.root / "run" / "containers" / "auth.json"
    user_podman = env.home / ".config" / "containers" / "auth.json"
    docker_cfg = env.root / "dockercfg" / "config.json"
    home_docker = env.docker_config
    order = [explicit, xdg, user_podman, docker_cfg, home_docker]
    for i, path in enumerate([*order, regfile]):
        write_json(path, {"auths": {"r.example": {"auth": b64(f"user{i}:pw{i}")}}})
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)  # ~/.config, as podman
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "run"))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_cfg.parent))
    # With REGISTRY_AUTH_FILE set, podman and skopeo read that file alone (contract v2).
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(regfile))
    assert CredentialStore(explicit).read_paths() == [explicit, regfile]
    assert CredentialStore().read_paths() == [regfile]
    monkeypatch.delenv("REGISTRY_AUTH_FILE")

    assert CredentialStore(explicit).read_paths() == order
    assert CredentialStore().read_paths() == order[1:]
    for i, path in enumerate(order):
        cred = CredentialStore(order[0] if i == 0 else None).get("r.example")
        assert cred is not None and cred.username == f"user{i}"
        path.unlink()
    assert CredentialStore().get("r.example") is None
    assert CredentialStore().read_paths() == []


def test_read_paths_deduplicates(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    write_json(env.docker_config, {})
    monkeypatch.setenv("DOCKER_CONFIG", str(env.docker_config.parent))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(env.docker_config))
    assert CredentialStore(env.docker_config).read_paths() == [env.docker_config]


def test_write_path_order(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CredentialStore().write_path() == env.docker_config
    monkeypatch.setenv("DOCKER_CONFIG", str(env.root / "dc"))
    assert CredentialStore().write_path() == env.root / "dc" / "config.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(env.root / "ra.json"))
    assert CredentialStore().write_path() == env.root / "ra.json"
    assert CredentialStore(env.root / "mine.json").write_path() == env.root / "mine.json"


# --------------------------------------------------------------------------- storing


def test_store_keeps_everything_else_and_writes_0600(env: Env) -> None:
    original = {
        "auths": {
            "quay.io": {"auth": b64("q:1"), "email": "q@example.com"},
            DOCKER_HUB_KEY: {"auth": b64("hub:2")},
        },
        "psFormat": "table {{.ID}}",
        "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
        "HttpHeaders": {"User-Agent": "x"},
    }
    write_json(env.docker_config, original)
    env.docker_config.chmod(0o644)

    where = CredentialStore().store("ghcr.io", "alice", SECRET)

    assert where == str(env.docker_config)
    doc = json.loads(env.docker_config.read_text())
    expected = json.loads(json.dumps(original))
    expected["auths"]["ghcr.io"] = {"auth": b64(f"alice:{SECRET}")}
    assert doc == expected
    assert stat.S_IMODE(env.docker_config.stat().st_mode) == 0o600
    assert list(env.docker_config.parent.iterdir()) == [env.docker_config]
    cred = CredentialStore().get("ghcr.io")
    assert cred is not None and (cred.username, cred.secret) == ("alice", SECRET)


def test_store_creates_the_file_and_a_0700_directory(env: Env) -> None:
    target = env.root / "new" / "dir" / "auth.json"
    CredentialStore(target).store("localhost:5000", "alice", SECRET)
    assert json.loads(target.read_text()) == {
        "auths": {"localhost:5000": {"auth": b64(f"alice:{SECRET}")}}
    }
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_is_stored_under_the_v1_url(env: Env, host: str) -> None:
    write_json(env.docker_config, {"auths": {"https://index.docker.io/v1": {"auth": b64("o:ld")}}})
    CredentialStore().store(host, "alice", SECRET)
    auths = json.loads(env.docker_config.read_text())["auths"]
    # The old spelling of the same host is replaced, not left to shadow the new one.
    assert auths == {DOCKER_HUB_KEY: {"auth": b64(f"alice:{SECRET}")}}


def test_store_identity_token(env: Env) -> None:
    CredentialStore().store("myacr.azurecr.io", "<token>", TOKEN)
    auths = json.loads(env.docker_config.read_text())["auths"]
    assert auths == {"myacr.azurecr.io": {"identitytoken": TOKEN}}
    cred = CredentialStore().get("myacr.azurecr.io")
    assert cred is not None and cred.identity_token and cred.secret == TOKEN


def test_atomic_write_leaves_the_old_file_when_replace_fails(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_json(env.docker_config, {"auths": {"quay.io": {"auth": b64("q:1")}}})
    before = env.docker_config.read_bytes()

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        CredentialStore().store("ghcr.io", "alice", SECRET)
    assert env.docker_config.read_bytes() == before
    assert list(env.docker_config.parent.iterdir()) == [env.docker_config]


def test_atomic_write_leaves_the_old_file_when_serialising_fails(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_json(env.docker_config, {"auths": {"quay.io": {"auth": b64("q:1")}}})
    before = env.docker_config.read_bytes()

    def boom(*args: Any, **kwargs: Any) -> None:
        raise ValueError("cannot serialise")

    monkeypatch.setattr(json, "dump", boom)
    with pytest.raises(ValueError):
        CredentialStore().store("ghcr.io", "alice", SECRET)
    assert env.docker_config.read_bytes() == before
    assert list(env.docker_config.parent.iterdir()) == [env.docker_config]


def test_store_refuses_to_overwrite_an_unparsable_file(env: Env) -> None:
    env.docker_config.parent.mkdir(parents=True)
    env.docker_config.write_text('{"auths": {')
    with pytest.raises(RegistryKitError, match="not valid JSON") as info:
        CredentialStore().store("ghcr.io", "alice", SECRET)
    assert env.docker_config.read_text() == '{"auths": {'
    assert_no_secret(str(info.value))


def test_store_writes_through_a_symlink(env: Env) -> None:
    real = write_json(env.root / "dotfiles" / "config.json", {"auths": {}})
    env.docker_config.parent.mkdir(parents=True)
    env.docker_config.symlink_to(real)
    CredentialStore().store("ghcr.io", "alice", SECRET)
    assert env.docker_config.is_symlink()
    assert "ghcr.io" in json.loads(real.read_text())["auths"]


# --------------------------------------------------------------------------- erasing


# --------------------------------------------------------------------------- listing


def test_records_skip_a_broken_helper_with_a_warning(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    write_json(
        env.docker_config,
        {"auths": {"quay.io": {"auth": b64("q:1")}}, "credsStore": "missing"},
    )
    with caplog.at_level(logging.WARNING):
        rows = CredentialStore().records()
    assert rows == [{"registry": "quay.io", "username": "q", "source": str(env.docker_config)}]
    assert "docker-credential-missing" in caplog.text


# --------------------------------------------------------------------------- errors


def test_missing_helper_names_it_and_the_fix(env: Env) -> None:
    write_json(env.docker_config, {"credsStore": "osxkeychain"})
    with pytest.raises(RegistryKitError) as info:
        CredentialStore().get("ghcr.io")
    message = str(info.value)
    assert "docker-credential-osxkeychain" in message
    assert "install" in message and "credsStore" in message
    with pytest.raises(RegistryKitError) as info:
        CredentialStore().store("ghcr.io", "alice", SECRET)
    assert "docker-credential-osxkeychain" in str(info.value)
    assert_no_secret(str(info.value))


# --------------------------------------------------------------------------- secrecy


def test_repr_and_str_never_show_the_secret(env: Env) -> None:
    cred = Credential("alice", SECRET, False, "/x/config.json")
    token = Credential("<token>", TOKEN, True, "credsStore:desktop")
    for obj in (cred, token, CredentialStore(), CredentialStore(env.root / "a.json")):
        assert_no_secret(repr(obj))
        assert_no_secret(str(obj))
        assert_no_secret(f"{obj}")
    assert "alice" in repr(cred) and "/x/config.json" in str(cred)


def test_store_updates_the_file_that_already_holds_the_host(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Contract v2: an older podman login is replaced where it is, not shadowing a new one.
    runtime_auth = write_json(
        env.root / "run" / "containers" / "auth.json",
        {"auths": {"ghcr.io": {"auth": b64("old:pw")}}},
    )
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "run"))
    assert CredentialStore().store("ghcr.io", "alice", SECRET) == str(runtime_auth)
    cred = CredentialStore().get("ghcr.io")
    assert cred is not None and (cred.username, cred.source) == ("alice", str(runtime_auth))
    assert CredentialStore().store("quay.io", "alice", SECRET) == str(env.docker_config)


# --------------------------------------------------------------------------- keychain


def test_keychain_puts_client_logins_in_front_of_stored_ones(tmp_path: Path) -> None:
    from support.internals import Keychain, Login

    auth_file = tmp_path / "auth.json"
    auth_file.write_text(
        json.dumps(
            {
                "auths": {
                    DOCKER_HUB_KEY: {"auth": b64(f"stored:{SECRET}")},
                    "ghcr.io": {"auth": b64(f"stored:{SECRET}")},
                }
            }
        )
    )
    keychain = Keychain(CredentialStore(auth_file), {"ghcr.io": Login.of("mine", SECRET)})
    ghcr = keychain.resolve("ghcr.io")
    assert ghcr is not None and ghcr.username == "mine"
    # The API host, the registry host and the auth key all find Docker Hub's login.
    for host in ("registry-1.docker.io", "docker.io", DOCKER_HUB_KEY):
        hub = keychain.resolve(host)
        assert hub is not None and hub.username == "stored"
    keychain.remove("ghcr.io")
    ghcr = keychain.resolve("ghcr.io")
    assert ghcr is not None and ghcr.username == "stored"
    keychain.add("quay.io", Login.of("<token>", SECRET))
    quay = keychain.resolve("quay.io")
    assert quay is not None and quay.identity_token
    assert keychain.hosts() == ["quay.io"]
    assert SECRET not in repr(keychain) + repr(quay)
    single = Keychain.single("ghcr.io", Login.of("probe", SECRET))
    assert single.resolve("docker.io") is None
