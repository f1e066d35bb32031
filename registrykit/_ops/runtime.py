"""Workflow step 1: which container tools are installed, and what they configure.

registrykit needs no daemon, but people compare what it does with the
``docker``/``podman``/``skopeo`` commands they know. :func:`detect_runtime`
reports their versions, the auth files in effect and the registry settings
(registries.conf, daemon.json) they share with registrykit.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from .._credentials.process import run_tool
from .._credentials.store import CredentialStore
from .._model.render import Summary, Value
from .._transport.settings import RegistrySettings, load_registry_settings

__all__ = ["RuntimeInfo", "detect_runtime"]

logger = logging.getLogger(__name__)

_VERSION_RE = re.compile(r"\bversion\s+v?(\d+(?:\.\d+)*[0-9A-Za-z.+~-]*)", re.IGNORECASE)
_ANY_VERSION_RE = re.compile(r"\b(\d+\.\d+(?:\.\d+)*[0-9A-Za-z.+~-]*)")


def _parse_version(text: str) -> str | None:
    """``Docker version 28.2.2, build e6534b4`` → ``28.2.2``."""
    m = _VERSION_RE.search(text) or _ANY_VERSION_RE.search(text)
    return m.group(1).rstrip(".,") if m else None


def _tool_version(name: str, timeout: float) -> str | None:
    """``NAME --version`` parsed; None when absent, failing, hanging or unparsable."""
    path = shutil.which(name)
    if path is None:
        return None
    try:
        proc = run_tool([path, "--version"], timeout=timeout)
    except subprocess.TimeoutExpired:
        logger.warning("%s --version did not answer within %g s", name, timeout)
        return None
    except OSError as exc:
        logger.warning("cannot run %s --version: %s", name, exc)
        return None
    if proc.returncode != 0:
        logger.info("%s --version exited %d", name, proc.returncode)
        return None
    return _parse_version(proc.stdout or proc.stderr or "")


@dataclass(frozen=True, repr=False)
class RuntimeInfo(Summary):
    """The container tools on PATH, their versions, auth files and registry settings."""

    runtime: str | None
    docker: str | None
    podman: str | None
    skopeo: str | None
    auth_files: tuple[str, ...] = ()
    settings: RegistrySettings = field(default_factory=RegistrySettings)

    @property
    def commands(self) -> dict[str, str]:
        """The commands a person would run to see the same versions."""
        known = {
            "docker": "docker version",
            "podman": "podman version",
            "skopeo": "skopeo --version",
        }
        return {tool: cmd for tool, cmd in known.items() if getattr(self, tool) is not None}

    def _title(self) -> str:
        return "RuntimeInfo"

    def _rows(self) -> list[tuple[str, Value]]:
        s = self.settings
        mirrors = "; ".join(f"{k} -> {', '.join(v)}" for k, v in s.mirrors.items())
        return [
            ("runtime", self.runtime or "none"),
            ("docker", self.docker or "not found"),
            ("podman", self.podman or "not found"),
            ("skopeo", self.skopeo or "not found"),
            ("auth files", ", ".join(self.auth_files) or "none"),
            ("insecure registries", ", ".join(s.insecure) or "none"),
            ("mirrors", mirrors or "none"),
            ("search registries", ", ".join(s.unqualified_search) or "none"),
            ("blocked registries", ", ".join(s.blocked) or "none"),
        ]

    def __repr__(self) -> str:
        return str(self)


def detect_runtime(*, timeout: float = 5.0) -> RuntimeInfo:
    """Find docker, podman and skopeo on PATH and read the registry settings.

    ``runtime`` is ``docker`` when a docker CLI is present, else ``podman``;
    ``CONTAINER_RUNTIME=podman`` (or ``docker``) picks that one when present.
    A missing, failing or hanging tool is reported as None, never raised.
    """
    versions = {name: _tool_version(name, timeout) for name in ("docker", "podman", "skopeo")}
    present = {name for name in ("docker", "podman") if shutil.which(name) is not None}
    preferred = os.environ.get("CONTAINER_RUNTIME", "").strip().lower()
    if preferred in present:
        runtime: str | None = preferred
    elif "docker" in present:
        runtime = "docker"
    elif "podman" in present:
        runtime = "podman"
    else:
        runtime = None
    auth_files = tuple(str(p) for p in CredentialStore().read_paths())
    return RuntimeInfo(
        runtime=runtime,
        docker=versions["docker"],
        podman=versions["podman"],
        skopeo=versions["skopeo"],
        auth_files=auth_files,
        settings=load_registry_settings(),
    )
