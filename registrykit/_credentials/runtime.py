"""Which container runtime holds local images and logins: the one rule.

It lives this low because the credential store needs it (a new login goes
where the runtime looks) as much as the ``podman:``/``docker-daemon:`` stores
and ``detect_runtime`` do. A docker CLI counts only when its daemon answers:
without one, ``docker login``, ``save`` and ``load`` all fail, so such a
machine is a podman machine (when podman is installed) or has no runtime.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from .process import run_tool

__all__ = ["LocalRuntimes", "Runtime", "docker_daemon", "local_runtime", "probe_runtimes"]

logger = logging.getLogger(__name__)

Runtime = Literal["podman", "docker"]

# A live daemon answers in well under a second; a hung socket must not stall a login.
DAEMON_TIMEOUT = 5.0


def docker_daemon(timeout: float = DAEMON_TIMEOUT) -> str | None:
    """The docker daemon's version (``docker version``'s Server); None when it does not answer."""
    path = shutil.which("docker")
    if path is None:
        return None
    try:
        proc = run_tool([path, "version", "--format", "{{.Server.Version}}"], timeout=timeout)
    except subprocess.TimeoutExpired:
        logger.warning("the docker daemon did not answer within %g s", timeout)
        return None
    except OSError as exc:
        logger.warning("cannot run docker version: %s", exc)
        return None
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version:
        logger.info("docker CLI without a daemon (docker version exited %d)", proc.returncode)
        return None
    return version


@dataclass(frozen=True)
class LocalRuntimes:
    """What is installed: podman, a docker CLI, and whether docker's daemon answers."""

    podman: bool
    docker_cli: bool
    docker_daemon: str | None

    @property
    def available(self) -> tuple[Runtime, ...]:
        """The runtimes that can hold images: docker only with a daemon."""
        found: list[Runtime] = []
        if self.docker_daemon is not None:
            found.append("docker")
        if self.podman:
            found.append("podman")
        return tuple(found)

    @property
    def runtime(self) -> Runtime | None:
        """``CONTAINER_RUNTIME`` when that one is available; else docker, else podman."""
        preferred = os.environ.get("CONTAINER_RUNTIME", "").strip().lower()
        for name in (preferred, *self.available):
            if name in self.available:
                return "docker" if name == "docker" else "podman"
        return None


def probe_runtimes(timeout: float = DAEMON_TIMEOUT) -> LocalRuntimes:
    """Look at PATH, and ask docker's daemon whether it answers."""
    docker_cli = shutil.which("docker") is not None
    return LocalRuntimes(
        podman=shutil.which("podman") is not None,
        docker_cli=docker_cli,
        docker_daemon=docker_daemon(timeout) if docker_cli else None,
    )


def local_runtime(timeout: float = DAEMON_TIMEOUT) -> Runtime | None:
    """The runtime whose store holds local images and whose file gets new logins."""
    return probe_runtimes(timeout).runtime
