"""A sandbox for runtime detection: empty PATH, home and system config dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.internals import settings as _runtime


def runtime_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH dir, home and system dirs, so nothing real leaks in."""
    for d in ("bin", "home", "etc-containers", "etc-docker"):
        (tmp_path / d).mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in (
        "CONTAINER_RUNTIME",
        "CONTAINERS_REGISTRIES_CONF",
        "XDG_CONFIG_HOME",
        "XDG_RUNTIME_DIR",
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(_runtime, "_SYSTEM_CONTAINERS_DIR", tmp_path / "etc-containers")
    monkeypatch.setattr(_runtime, "_SYSTEM_DOCKER_DIR", tmp_path / "etc-docker")
    monkeypatch.setattr(_runtime, "_SYSTEM_CACHE_DIR", tmp_path / "var-cache")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
