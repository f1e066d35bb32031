"""Workflow step 1: which container tools are installed, and what they configure.

registrykit needs no daemon, but people compare what it does with the
``docker``/``podman``/``skopeo`` commands they know. :func:`detect_runtime`
reports their versions, which one holds local images (a docker CLI whose
daemon does not answer does not count), the auth files in effect, where a new
login would be written, and the registry settings (registries.conf,
daemon.json) they share with registrykit, with the files they came from.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from .._credentials.process import run_tool
from .._credentials.runtime import probe_runtimes
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
    """The container tools on PATH, their versions, auth files and registry settings.

    ``runtime`` is the one whose store holds local images (``podman:``/
    ``docker-daemon:``); ``docker_daemon`` is the daemon's version, None when a
    docker CLI is present but its daemon does not answer. ``login_file`` is
    where ``rk.login`` would write a new login (design.md, "Logins where the
    runtime looks").
    """

    runtime: str | None
    docker: str | None
    podman: str | None
    skopeo: str | None
    auth_files: tuple[str, ...] = ()
    settings: RegistrySettings = field(default_factory=RegistrySettings)
    docker_daemon: str | None = None
    login_file: str | None = None

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

    @property
    def docker_cli_only(self) -> bool:
        """A docker CLI is installed but its daemon does not answer."""
        return self.docker is not None and self.docker_daemon is None

    def _docker_row(self) -> str:
        if self.docker is None:
            return "not found"
        if self.docker_cli_only:
            return f"{self.docker} (docker CLI, no daemon: not used as the runtime)"
        return f"{self.docker} (daemon {self.docker_daemon})"

    def _rows(self) -> list[tuple[str, Value]]:
        s = self.settings
        mirrors = "; ".join(f"{k} -> {', '.join(v)}" for k, v in s.mirrors.items())
        return [
            ("runtime", self.runtime or "none"),
            ("docker", self._docker_row()),
            ("podman", self.podman or "not found"),
            ("skopeo", self.skopeo or "not found"),
            ("auth files", ", ".join(self.auth_files) or "none"),
            ("new logins go to", self.login_file or "unknown"),
            ("settings read from", ", ".join(s.sources) or "none"),
            ("insecure registries", ", ".join(s.insecure) or "none"),
            ("mirrors", mirrors or "none"),
            ("search registries", ", ".join(s.unqualified_search) or "none"),
            ("blocked registries", ", ".join(s.blocked) or "none"),
        ]

    def __repr__(self) -> str:
        return str(self)


def detect_runtime(*, timeout: float = 5.0) -> RuntimeInfo:
    """Find docker, podman and skopeo on PATH and read the registry settings.

    ``runtime`` is docker when its daemon answers, else podman when installed;
    ``CONTAINER_RUNTIME=podman`` (or ``docker``) picks that one when it is
    available. A docker CLI without a daemon is reported, not used. A missing,
    failing or hanging tool is reported as None, never raised.
    """
    versions = {name: _tool_version(name, timeout) for name in ("docker", "podman", "skopeo")}
    local = probe_runtimes(timeout)
    store = CredentialStore()
    return RuntimeInfo(
        runtime=local.runtime,
        docker=versions["docker"],
        podman=versions["podman"],
        skopeo=versions["skopeo"],
        auth_files=tuple(str(p) for p in store.read_paths()),
        settings=load_registry_settings(),
        docker_daemon=local.docker_daemon,
        login_file=str(store.write_path(runtime=local.runtime)),
    )
