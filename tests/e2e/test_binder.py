"""The Binder spec (what repo2docker reads) installs what the notebooks need."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[<>=!\[ ;]", line, maxsplit=1)[0].lower())
    return names


def test_apt_txt_has_the_registry_and_skopeo():
    packages = set((BINDER / "apt.txt").read_text().split())
    assert {"docker-registry", "skopeo"} <= packages


def test_requirements_cover_the_package_and_its_presentation_extras():
    names = _requirement_names(BINDER / "requirements.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[<>=!\[ ;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    wanted |= {"pandas", "matplotlib", "ipywidgets", "jupyterlab"}
    assert wanted <= names, wanted - names


def test_post_build_installs_registrykit_and_is_executable():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK)
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash")
    assert re.search(r"pip install .*-e \.", text)


def test_runtime_is_a_supported_python():
    version = (BINDER / "runtime.txt").read_text().strip()
    major, minor = map(int, version.removeprefix("python-").split("."))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (major, minor) >= (3, 11) and project["requires-python"] == ">=3.11"
