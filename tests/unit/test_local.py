"""LocalRegistry checks that start no process: passwords, a missing binary, bad modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from registrykit import RegistryKitError, RegistryUnavailable
from registrykit.lab import local as _local
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(120)


def test_htpasswd_password_generated_per_instance() -> None:
    a = LocalRegistry(auth="htpasswd")
    b = LocalRegistry(auth="htpasswd")
    assert a.password and b.password and a.password != b.password
    assert len(a.password) >= 16
    assert LocalRegistry().password is None


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_local.BINARY_ENV, "/nonexistent/registry")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RegistryUnavailable) as info:
        LocalRegistry().start()
    assert isinstance(info.value, RegistryKitError)
    assert "apt-get install docker-registry" in str(info.value)
    assert "/nonexistent/registry" in str(info.value)


def test_missing_binary_suggests_container_when_docker_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.delenv(_local.BINARY_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_local, "_BINARY_FALLBACKS", ())
    with pytest.raises(RegistryUnavailable) as info:
        LocalRegistry().start()
    text = str(info.value)
    assert "apt-get install docker-registry" in text
    assert "docker run -d -p 5000:5000 registry:2" in text


def test_token_mode_needs_realm_and_bundle() -> None:
    with pytest.raises(ValueError, match="token_realm"):
        LocalRegistry(auth="token")
    with pytest.raises(ValueError, match="auth must be"):
        LocalRegistry(auth="basic")  # type: ignore[arg-type]
