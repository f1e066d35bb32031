"""``lab.podman.PodmanSandbox``: podman's store and config in one directory, undone on close.

podman is the referee: ``podman info`` names the store it uses, and a pull
from the plain-http lab registry works because the sandbox's registries.conf
says it may.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import registrykit as rk
from registrykit.lab.podman import PodmanSandbox

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
]

VARIABLES = (
    "CONTAINERS_STORAGE_CONF",
    "CONTAINERS_REGISTRIES_CONF",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "CONTAINER_RUNTIME",
)


def podman(*args: str) -> str:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_environment_is_set_while_open_and_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "/somewhere/else")
    monkeypatch.setenv("CONTAINER_RUNTIME", "docker")
    monkeypatch.delenv("CONTAINERS_STORAGE_CONF", raising=False)
    before = {name: os.environ.get(name) for name in VARIABLES}
    sandbox = PodmanSandbox(tmp_path / "box")
    with pytest.raises(rk.RegistryKitError, match="start"):
        _ = sandbox.directory
    with sandbox:
        root = sandbox.directory
        assert os.environ["CONTAINERS_STORAGE_CONF"] == str(root / "storage.conf")
        assert os.environ["XDG_RUNTIME_DIR"].startswith(str(root))
        assert os.environ["CONTAINER_RUNTIME"] == "podman"
        assert sandbox.start() is sandbox  # starting twice changes nothing
    assert {name: os.environ.get(name) for name in VARIABLES} == before
    assert root.is_dir()  # a directory the caller named is theirs to keep
    sandbox.close()  # closing twice is harmless


def test_podman_uses_the_sandbox_store(tmp_path: Path) -> None:
    with PodmanSandbox() as sandbox:
        root = sandbox.directory
        info = json.loads(podman("info", "--format", "json"))
        assert info["store"]["graphRoot"] == str(root / "storage" / "graph")
        assert info["store"]["graphDriverName"] == "vfs"
        assert podman("images", "-q").strip() == ""  # the machine's images are not here
        assert str(root) in repr(sandbox)
    assert not root.exists()  # a temporary sandbox leaves nothing behind


def test_podman_pulls_from_the_lab_registry_it_names_insecure(
    registry: rk.LocalRegistry, tmp_path: Path
) -> None:
    source = f"{registry.host}/lab-podman/hello:1"
    with rk.Client(cache_dir=None) as client:
        rk.samples.push(registry, [rk.samples.hello()], client=client)
        rk.copy(f"{registry.host}/samples/hello:latest", source, client=client)
    with PodmanSandbox(tmp_path / "box", insecure=[registry.host]):
        podman("pull", "-q", source)
        assert source in podman("images", "--format", "{{.Repository}}:{{.Tag}}").split()
        # rk.push takes a name from podman's store: the sandbox made podman the runtime.
        with rk.Client(cache_dir=None) as client:
            pushed = rk.push(source, f"{registry.host}/lab-podman/hello:2", client=client)
        assert pushed.digest is not None
