"""Which runtime is local, where logins go, and namespaced logins (issue 13, items 4 and 6).

No process runs here: the docker daemon's answer is stubbed (``docker_daemon``),
stand-in ``podman``/``docker`` files on PATH are only looked up, and registries
are ``httpx.MockTransport`` handlers.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest
from support.credhelpers import SECRET, Env, b64, write_json
from support.internals import CredentialStore, RegistrySettings, credential_runtime

import registrykit as rk
from registrykit import RuntimeInfo

LocalRuntimes = credential_runtime.LocalRuntimes


def _on_path(env: Env, *names: str) -> None:
    for name in names:
        tool = env.bin / name
        tool.write_text("#!/bin/sh\nexit 1\n")
        tool.chmod(0o755)


def _daemon(monkeypatch: pytest.MonkeyPatch, version: str | None) -> None:
    monkeypatch.setattr(credential_runtime, "docker_daemon", lambda timeout=0.0: version)


# --------------------------------------------------------------------------- the one rule


@pytest.mark.parametrize(
    ("podman", "cli", "daemon", "preferred", "runtime"),
    [
        (True, True, None, "", "podman"),  # docker CLI, no daemon: not the runtime
        (False, True, None, "", None),
        (False, True, None, "docker", None),  # a preference cannot revive a dead daemon
        (True, True, "28.2.2", "", "docker"),
        (True, True, "28.2.2", "podman", "podman"),
        (True, False, None, "docker", "podman"),
        (False, False, None, "", None),
    ],
)
def test_a_docker_cli_counts_only_with_a_daemon(
    monkeypatch: pytest.MonkeyPatch,
    podman: bool,
    cli: bool,
    daemon: str | None,
    preferred: str,
    runtime: str | None,
) -> None:
    monkeypatch.setenv("CONTAINER_RUNTIME", preferred)
    assert LocalRuntimes(podman, cli, daemon).runtime == runtime


def test_probe_asks_the_daemon_only_when_a_docker_cli_exists(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[float] = []

    def daemon(timeout: float = 0.0) -> str | None:
        asked.append(timeout)
        return None

    monkeypatch.setattr(credential_runtime, "docker_daemon", daemon)
    _on_path(env, "podman")
    assert credential_runtime.probe_runtimes() == LocalRuntimes(True, False, None)
    assert asked == []
    _on_path(env, "docker")
    assert credential_runtime.probe_runtimes() == LocalRuntimes(True, True, None)
    assert credential_runtime.local_runtime() == "podman"
    assert len(asked) == 2


def test_the_stores_use_the_same_rule() -> None:
    from support.internals import stores_runtime

    assert stores_runtime.local_runtime is credential_runtime.local_runtime


# --------------------------------------------------------------------------- where logins go


def test_docker_cli_without_daemon_and_podman_writes_podmans_file(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract: podman is the only runtime, so its auth.json (docker's file stays absent)."""
    _on_path(env, "podman", "docker")
    _daemon(monkeypatch, None)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(env.root / "xdg"))
    target = env.root / "xdg" / "containers" / "auth.json"
    assert CredentialStore().store("docker.io", "alice", SECRET) == str(target)
    assert list(json.loads(target.read_text())["auths"]) == ["docker.io"]
    assert not env.docker_config.exists()


def test_docker_cli_without_daemon_alone_writes_dockers_file(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_path(env, "docker")
    _daemon(monkeypatch, None)
    assert CredentialStore().write_path("ghcr.io") == env.docker_config


def test_root_without_xdg_runtime_dir_uses_run_containers_uid(env: Env) -> None:
    from support.internals import store

    _on_path(env, "podman")
    assert CredentialStore().write_path() == store._RUN_CONTAINERS / str(os.getuid()) / "auth.json"


# --------------------------------------------------------------------------- RuntimeInfo


def test_runtime_info_says_no_daemon_where_logins_go_and_what_was_read() -> None:
    settings = RegistrySettings(sources=("/etc/containers/registries.conf", "/etc/docker/d.json"))
    info = RuntimeInfo(
        runtime="podman",
        docker="28.2.2",
        podman="4.3.1",
        skopeo=None,
        settings=settings,
        docker_daemon=None,
        login_file="/run/user/0/containers/auth.json",
    )
    text = str(info)
    assert info.docker_cli_only
    assert "docker CLI, no daemon" in text
    assert "new logins go to: /run/user/0/containers/auth.json" in text
    assert "settings read from: /etc/containers/registries.conf, /etc/docker/d.json" in text
    live = RuntimeInfo("docker", "28.2.2", None, None, docker_daemon="28.2.2")
    assert not live.docker_cli_only and "daemon 28.2.2" in str(live)


def test_detect_runtime_reports_the_daemon_and_login_file(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Empty PATH: no tool runs, so only the settings and login file are found.
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(sandbox / "xdg"))
    info = rk.detect_runtime()
    assert (info.runtime, info.docker_daemon) == (None, None)
    assert info.login_file == str(sandbox / "home" / ".docker" / "config.json")


# --------------------------------------------------------------------------- namespaced logins


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("quay.io/team", "quay.io/team"),
        ("localhost:5000/app/sub", "localhost:5000/app/sub"),
        ("index.docker.io/alice", "docker.io/alice"),
        ("quay.io", None),
        ("alice/app", None),  # a Docker Hub image, logged in by host as before
        ("quay.io/team/app:v1", None),  # podman refuses a tag; it is an image reference
        ("https://quay.io/v2/", None),
    ],
)
def test_login_scope(text: str, scope: str | None) -> None:
    from support.internals import login_scope

    assert login_scope(text) == scope


def _auths_file(env: Env) -> Path:
    return write_json(
        env.root / "auth.json",
        {
            "auths": {
                "reg.example": {"auth": b64("host-user:1")},
                "reg.example/app": {"auth": b64("app-user:2")},
                "reg.example/app/deep": {"auth": b64("deep-user:3")},
            }
        },
    )


@pytest.mark.parametrize(
    ("repository", "user"),
    [
        ("app/x", "app-user"),
        ("app", "app-user"),
        ("app/deep/y", "deep-user"),
        ("application", "host-user"),  # a prefix of path components, not of characters
        ("other", "host-user"),
        (None, "host-user"),
    ],
)
def test_the_most_specific_namespace_answers(env: Env, repository: str | None, user: str) -> None:
    cred = CredentialStore(_auths_file(env)).get("reg.example", repository)
    assert cred is not None and cred.username == user


def test_store_and_erase_a_namespace_leave_the_host_entry(env: Env) -> None:
    path = env.root / "auth.json"
    write_json(path, {"auths": {"reg.example": {"auth": b64("host-user:1")}}, "credsStore": "x"})
    store = CredentialStore(path)
    # A namespace never goes to a helper (containers/image keeps them in the file).
    assert store.store("reg.example/app", "app-user", SECRET) == str(path)
    assert set(json.loads(path.read_text())["auths"]) == {"reg.example", "reg.example/app"}
    assert store.erase("reg.example/app") == [str(path)]
    assert set(json.loads(path.read_text())["auths"]) == {"reg.example"}


def test_a_host_logout_keeps_namespaced_logins(env: Env) -> None:
    path = _auths_file(env)
    assert CredentialStore(path).erase("reg.example") == [str(path)]
    assert set(json.loads(path.read_text())["auths"]) == {"reg.example/app", "reg.example/app/deep"}


def test_the_auth_flow_sends_the_namespaced_login_for_its_repository(env: Env) -> None:
    seen: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization")
        if header is None:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        user = base64.b64decode(header.split()[1]).decode().split(":")[0]
        seen[request.url.path] = user
        return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})

    transport = httpx.MockTransport(handler)
    with rk.Client(_auths_file(env), cache_dir=None, transport=transport) as client:
        registry = client.registry("reg.example")
        for repository in ("app/x", "other"):
            assert registry.head_manifest(repository, "v1") is None
    assert seen == {
        "/v2/app/x/manifests/v1": "app-user",
        "/v2/other/manifests/v1": "host-user",
    }
