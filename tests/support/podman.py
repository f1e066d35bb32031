"""podman as a referee, in a sandbox: its own home, runtime dir, vfs storage and registries.conf.

Every test gets fresh directories under its tmp dir, so nothing touches the
machine's image store or logins. ``docker_stand_in`` puts a ``docker``
script on PATH that implements ``save``/``load``/``image inspect`` over this
podman and answers ``docker version`` as a live daemon would: no docker daemon
runs on these machines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_DOCKER_STAND_IN = """#!/bin/sh
# A stand-in docker CLI over podman: save, load and image inspect, and a
# "daemon" that answers docker version (so registrykit counts it as the runtime).
case "$1" in
  version) echo "24.0.0-stand-in" ;;
  save) shift; exec podman save --format docker-archive "$@" ;;
  load) shift; exec podman load "$@" ;;
  image) shift; exec podman image "$@" ;;
  *) echo "docker stand-in: $1 is not implemented" >&2; exit 2 ;;
esac
"""


@dataclass
class Podman:
    """Runs podman in the sandbox the environment variables point at."""

    root: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["podman", *args], capture_output=True, text=True, timeout=300, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def names(self) -> set[str]:
        """Every NAME:TAG podman holds (``podman images``)."""
        out = self.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
        return set(out.split())

    def inspect(self, name: str) -> dict[str, Any]:
        data = json.loads(self.run("image", "inspect", name).stdout)
        assert isinstance(data, list) and data
        first: dict[str, Any] = data[0]
        return first


def podman_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Podman:
    """podman with HOME, XDG_RUNTIME_DIR, vfs storage and registries.conf under ``tmp_path``."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman)")
    root = tmp_path / "podman"
    for d in ("home", "run", "storage"):
        (root / d).mkdir(parents=True)
    (root / "run").chmod(0o700)
    storage = root / "storage.conf"
    storage.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root}/storage/graph"\n'
        f'runroot = "{root}/storage/run"\n'
    )
    registries = root / "registries.conf"
    registries.write_text("unqualified-search-registries = []\n")
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(root / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "home" / ".config"))
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", str(storage))
    monkeypatch.setenv("CONTAINERS_REGISTRIES_CONF", str(registries))
    for name in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "CONTAINER_RUNTIME"):
        monkeypatch.delenv(name, raising=False)
    return Podman(root)


@contextmanager
def lab_podman(tmp_path: Path, registry_host: str) -> Iterator[Podman]:
    """podman in ``registrykit.lab.podman.PodmanSandbox`` (the library's own isolated
    store), trusting the plain-http registry at ``registry_host``."""
    from registrykit.lab.podman import PodmanSandbox

    with PodmanSandbox(tmp_path / "podman", insecure=[registry_host]) as sandbox:
        yield Podman(sandbox.directory)


def docker_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``docker`` script over podman, first on PATH; returns its directory."""
    bin_dir = tmp_path / "docker-stand-in"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(_DOCKER_STAND_IN)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir
