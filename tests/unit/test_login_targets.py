"""Logins where the runtime looks (design.md, contract v2): where they are written and read.

PATH holds only stand-in ``podman``/``docker`` files (never run: their presence
and, for docker, whether its daemon answers decide; the daemon answer is
stubbed), and ``/run/containers`` is redirected under the test's tmp dir.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.credhelpers import DOCKER_HUB_KEY, SECRET, Env, b64, write_json
from support.internals import CredentialStore, credential_runtime
from support.internals import store as credential_store


@pytest.fixture
def run_dir(env: Env, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where ``/run/containers`` is for these tests."""
    run = env.root / "run-containers"
    monkeypatch.setattr(credential_store, "_RUN_CONTAINERS", run)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return run


def _runtimes(env: Env, *names: str) -> None:
    for name in names:
        tool = env.bin / name
        tool.write_text("#!/bin/sh\nexit 1\n")
        tool.chmod(0o755)


def _auths(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    auths: dict[str, object] = doc["auths"]
    return auths


def test_podman_only_writes_podmans_runtime_file_with_docker_io_key(
    env: Env, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runtimes(env, "podman")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "xdg-run"))
    target = env.root / "xdg-run" / "containers" / "auth.json"
    assert CredentialStore().store("docker.io", "alice", SECRET) == str(target)
    assert list(_auths(target)) == ["docker.io"]
    assert not env.docker_config.exists()
    cred = CredentialStore().get("docker.io")
    assert cred is not None and cred.username == "alice"


def test_podman_only_without_xdg_runtime_dir_writes_run_containers_uid(
    env: Env, run_dir: Path
) -> None:
    _runtimes(env, "podman")
    # podman's own path: /run/containers/$UID/auth.json (no "containers" level below it).
    target = run_dir / str(os.getuid()) / "auth.json"
    assert CredentialStore().store("ghcr.io", "alice", SECRET) == str(target)
    assert CredentialStore().read_paths() == [target]


def test_docker_with_a_daemon_writes_dockers_file_with_the_v1_key(
    env: Env, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runtimes(env, "podman", "docker")
    monkeypatch.setattr(credential_runtime, "docker_daemon", lambda timeout=0.0: "28.2.2")
    assert CredentialStore().store("docker.io", "alice", SECRET) == str(env.docker_config)
    assert list(_auths(env.docker_config)) == [DOCKER_HUB_KEY]


def test_no_runtime_writes_dockers_file(env: Env, run_dir: Path) -> None:
    assert CredentialStore().store("ghcr.io", "alice", SECRET) == str(env.docker_config)


def test_the_file_already_holding_the_host_wins(
    env: Env, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runtimes(env, "podman")
    write_json(env.docker_config, {"auths": {"ghcr.io": {"auth": b64("old:pw")}}})
    assert CredentialStore().store("ghcr.io", "alice", SECRET) == str(env.docker_config)
    cred = CredentialStore().get("ghcr.io")
    assert cred is not None and cred.username == "alice"


def test_reading_includes_run_containers_and_xdg_config_home(
    env: Env, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_file = write_json(
        run_dir / str(os.getuid()) / "auth.json",
        {"auths": {"a.example": {"auth": b64("run:1")}}},
    )
    config_file = write_json(
        env.root / "cfg" / "containers" / "auth.json",
        {"auths": {"b.example": {"auth": b64("cfg:2")}}},
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(env.root / "cfg"))
    assert CredentialStore().read_paths() == [run_file, config_file]
    a, b = CredentialStore().get("a.example"), CredentialStore().get("b.example")
    assert a is not None and a.source == str(run_file)
    assert b is not None and b.source == str(config_file)


def test_registry_auth_file_is_read_alone(
    env: Env, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_json(env.docker_config, {"auths": {"ghcr.io": {"auth": b64("docker:1")}}})
    only = write_json(env.root / "only.json", {"auths": {"quay.io": {"auth": b64("only:2")}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(only))
    assert CredentialStore().get("ghcr.io") is None
    assert CredentialStore().read_paths() == [only]
    assert CredentialStore().store("docker.io", "alice", SECRET) == str(only)
    assert "docker.io" in _auths(only)
