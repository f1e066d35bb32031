"""Namespaced logins (``podman login HOST/team``) and where a login goes, with podman and skopeo.

An htpasswd registry has one user, so "two namespaces, two users" is shown
with a right and a wrong password: the file holds the right password under
``HOST/team`` and a wrong one under ``HOST``. What succeeds then proves which
entry was used, for registrykit and for skopeo/podman reading the same file.
podman runs in a sandbox per test (tests/support/podman.py).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from support.internals import credential_records
from support.podman import Podman, podman_sandbox

import registrykit as rk
from registrykit.lab.build import build_image, gzip_layer, tar_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def podman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Podman:
    return podman_sandbox(tmp_path, monkeypatch)


def _auth_file(podman: Podman) -> Path:
    """podman's own login file in the sandbox ($XDG_RUNTIME_DIR/containers/auth.json)."""
    return podman.root / "run" / "containers" / "auth.json"


def _b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _podman_only_with_a_dead_docker(podman: Podman, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH: podman, and a docker CLI whose daemon does not answer (as on these machines)."""
    bin_dir = podman.root / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").symlink_to(shutil.which("podman") or "/usr/bin/podman")
    docker = bin_dir / "docker"
    docker.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && exec echo "Docker version 28.2.2, build e6534b4"\n'
        "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\nexit 1\n"
    )
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")


def _seed(registry: LocalRegistry, tmp_path: Path, *repositories: str) -> None:
    image = build_image([gzip_layer(tar_layer({"ns.txt": b"namespaced"}))])
    layout = write_oci_layout(tmp_path / "seed", [("v1", image)])
    logins = {registry.host: (registry.username or "", registry.password or "")}
    with rk.Client(cache_dir=None, logins=logins) as client:
        for repository in repositories:
            rk.push(layout, f"{registry.host}/{repository}:v1", client=client)


def _skopeo_inspect(auth_file: Path, ref: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    return subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--authfile", str(auth_file), ref],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_namespaced_entry_answers_for_its_repositories_only(
    podman: Podman, htpasswd_registry: LocalRegistry, tmp_path: Path
) -> None:
    host, user = htpasswd_registry.host, htpasswd_registry.username or ""
    team = f"team{uuid.uuid4().hex[:8]}"
    _seed(htpasswd_registry, tmp_path, f"{team}/app", f"other{team}/app")
    # podman writes the namespaced login itself (it verifies the password first).
    podman.run(
        "login", "--tls-verify=false", "-u", user, "-p", htpasswd_registry.password or "",
        f"{host}/{team}",
    )  # fmt: skip
    auth = _auth_file(podman)
    doc = json.loads(auth.read_text())
    assert list(doc["auths"]) == [f"{host}/{team}"]
    # A wrong password for the whole host, next to it.
    doc["auths"][host] = {"auth": _b64(user, "wrong-password")}
    auth.write_text(json.dumps(doc))

    # skopeo (the referee) and registrykit agree on which entry answers which repository.
    assert _skopeo_inspect(auth, f"docker://{host}/{team}/app:v1").returncode == 0
    refused = _skopeo_inspect(auth, f"docker://{host}/other{team}/app:v1")
    assert refused.returncode != 0 and "unauthorized" in refused.stderr.lower()
    with rk.Client(cache_dir=None) as client:
        assert rk.inspect(f"{host}/{team}/app:v1", client=client).digest
        with pytest.raises(rk.AuthenticationError):
            rk.inspect(f"{host}/other{team}/app:v1", client=client)
    # podman pulls through the namespaced login too.
    podman.run("pull", "-q", "--tls-verify=false", f"{host}/{team}/app:v1")


def test_rk_login_writes_a_namespace_that_podman_sees_and_logs_out_of(
    podman: Podman, htpasswd_registry: LocalRegistry, tmp_path: Path
) -> None:
    host, user = htpasswd_registry.host, htpasswd_registry.username or ""
    team = f"team{uuid.uuid4().hex[:8]}"
    auth = _auth_file(podman)
    _auth_file(podman).parent.mkdir(parents=True)
    auth.write_text(json.dumps({"auths": {host: {"auth": _b64(user, "wrong-password")}}}))
    with rk.Client(cache_dir=None) as client:
        result = rk.login(f"{host}/{team}", user, htpasswd_registry.password, client=client)
        assert result.stored_in == str(auth)
        assert set(json.loads(auth.read_text())["auths"]) == {host, f"{host}/{team}"}
        assert podman.run("login", "--get-login", f"{host}/{team}").stdout.strip() == user
        _seed(htpasswd_registry, tmp_path, f"{team}/app")
        assert rk.inspect(f"{host}/{team}/app:v1", client=client).digest
        # registrykit's logout of the namespace leaves the host entry, as podman's does.
        assert rk.logout(f"{host}/{team}", client=client) == [str(auth)]
        assert list(json.loads(auth.read_text())["auths"]) == [host]
        rk.login(f"{host}/{team}", user, htpasswd_registry.password, client=client)
    podman.run("logout", f"{host}/{team}")
    assert [r["registry"] for r in credential_records()] == [host]


def test_with_a_daemonless_docker_cli_logins_go_where_podman_looks(
    podman: Podman, htpasswd_registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 6 with item 3: a docker CLI without a daemon is not the runtime."""
    _podman_only_with_a_dead_docker(podman, monkeypatch)
    info = rk.detect_runtime()
    assert info.runtime == "podman" and info.docker_cli_only
    assert info.login_file == str(_auth_file(podman))
    assert "docker CLI, no daemon" in str(info)
    host, user = htpasswd_registry.host, htpasswd_registry.username or ""
    with rk.Client(cache_dir=None) as client:
        result = rk.login(host, user, htpasswd_registry.password, client=client)
    assert result.stored_in == str(_auth_file(podman))
    assert podman.run("login", "--get-login", host).stdout.strip() == user
    podman.run("logout", host)
    assert credential_records() == []
