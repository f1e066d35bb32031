"""detect_runtime against fake docker / podman / skopeo programs on PATH."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.runtime import write

from registrykit import detect_runtime


def fake_tool(bindir: Path, name: str, body: str) -> Path:
    path = bindir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_detects_fake_tools(sandbox: Path) -> None:
    bindir = sandbox / "bin"
    fake_tool(bindir, "docker", 'echo "Docker version 28.2.2, build e6534b4"')
    fake_tool(bindir, "podman", 'echo "podman version 4.9.3"')
    fake_tool(bindir, "skopeo", 'echo "skopeo version 1.9.3"')
    info = detect_runtime()
    assert (info.runtime, info.docker, info.podman, info.skopeo) == (
        "docker",
        "28.2.2",
        "4.9.3",
        "1.9.3",
    )
    assert info.commands == {
        "docker": "docker version",
        "podman": "podman version",
        "skopeo": "skopeo --version",
    }


def test_container_runtime_env_prefers_podman_when_present(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = sandbox / "bin"
    fake_tool(bindir, "docker", 'echo "Docker version 28.2.2, build e6534b4"')
    fake_tool(bindir, "podman", 'echo "podman version 4.9.3"')
    monkeypatch.setenv("CONTAINER_RUNTIME", "podman")
    assert detect_runtime().runtime == "podman"
    (bindir / "podman").unlink()
    assert detect_runtime().runtime == "docker"


def test_podman_only(sandbox: Path) -> None:
    fake_tool(sandbox / "bin", "podman", 'echo "podman version 5.2.1"')
    info = detect_runtime()
    assert (info.runtime, info.docker, info.podman, info.skopeo) == (
        "podman",
        None,
        "5.2.1",
        None,
    )
    assert info.commands == {"podman": "podman version"}


def test_failing_tool_gives_none(sandbox: Path) -> None:
    fake_tool(sandbox / "bin", "docker", 'echo "permission denied" >&2; exit 1')
    info = detect_runtime()
    # The CLI is present but answers nothing: its version is unknown, and without
    # a daemon it is not the runtime (contract v2: "docker CLI, no daemon").
    assert (info.runtime, info.docker, info.docker_daemon) == (None, None, None)


def test_hanging_tool_is_cut_off_by_the_timeout(sandbox: Path) -> None:
    fake_tool(sandbox / "bin", "skopeo", "/bin/sleep 30")
    fake_tool(sandbox / "bin", "podman", 'echo "podman version 4.9.3"')
    start = time.monotonic()
    info = detect_runtime(timeout=0.5)
    assert time.monotonic() - start < 5
    assert info.skopeo is None
    assert info.podman == "4.9.3"


def test_repr_html_and_str(sandbox: Path) -> None:
    fake_tool(sandbox / "bin", "docker", 'echo "Docker version 28.2.2, build e6534b4"')
    write(
        sandbox / "etc-docker" / "daemon.json",
        json.dumps({"insecure-registries": ["<b>reg:5000</b>"]}),
    )
    info = detect_runtime()
    text = repr(info)
    assert text == str(info)
    assert text.startswith("RuntimeInfo\n")
    assert "docker" in text and "28.2.2" in text and "not found" in text
    assert "<b>reg:5000</b>" in text
    page = info._repr_html_()
    assert "<table>" in page and "RuntimeInfo" in page and "28.2.2" in page
    assert "&lt;b&gt;reg:5000&lt;/b&gt;" in page and "<b>reg" not in page
