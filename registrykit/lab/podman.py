"""A throwaway podman image store for notebooks and demos: ``PodmanSandbox``.

For teaching only. registrykit reads and writes the store your own podman
uses (``podman:NAME``, ``rk.push("myapp:latest", ...)``,
``rk.pull(..., into="podman")``) and needs none of this. A notebook that
loads sample images into podman should not fill the reader's real store, so
the sandbox writes a vfs ``storage.conf`` (the driver that works without
privileges or kernel modules) and a ``registries.conf`` under one
directory, and points this process and its children (``podman``, ``skopeo``,
``!podman images`` in a notebook) at them::

    with PodmanSandbox(insecure=[lab.host]) as sandbox:
        rk.copy("docker-archive:hello.tar", "podman:hello:latest")

It sets ``CONTAINERS_STORAGE_CONF``, ``CONTAINERS_REGISTRIES_CONF``,
``XDG_RUNTIME_DIR`` and ``XDG_CONFIG_HOME`` (so podman's logins and
containers.conf are the sandbox's too) and ``CONTAINER_RUNTIME=podman``;
``close()`` puts every variable back as it was and deletes the directory
when the sandbox made it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from .._model.errors import RegistryKitError

__all__ = ["PodmanSandbox"]

# What the sandbox sets; close() restores each one.
_VARIABLES = (
    "CONTAINERS_STORAGE_CONF",
    "CONTAINERS_REGISTRIES_CONF",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "CONTAINER_RUNTIME",
)


class PodmanSandbox:
    """podman's configuration and image store under ``directory`` while open.

    ``directory`` defaults to a new temporary directory, removed on close.
    ``insecure`` lists registries (``127.0.0.1:5000``) podman may reach over
    plain http, as a local lab registry needs.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, insecure: Iterable[str] = ()
    ) -> None:
        self._given = directory
        self.insecure = list(insecure)
        self._root: Path | None = None
        self._saved: dict[str, str | None] | None = None

    @property
    def directory(self) -> Path:
        if self._root is None:
            raise RegistryKitError("the podman sandbox is not open: call start() first")
        return self._root

    def __repr__(self) -> str:
        state = str(self._root) if self._root is not None else "not started"
        return f"PodmanSandbox({state})"

    def start(self) -> PodmanSandbox:
        """Write the configuration and point this process's environment at it."""
        if self._saved is not None:
            return self
        if shutil.which("podman") is None:
            raise RegistryKitError(
                "podman is not installed: `sudo apt-get install podman` (Debian/Ubuntu)"
            )
        if self._given is None:
            root = Path(tempfile.mkdtemp(prefix="registrykit-podman-"))
        else:
            root = Path(self._given).resolve()
            root.mkdir(parents=True, exist_ok=True)
        try:
            values = self._write(root)
        except BaseException:
            if self._given is None:  # a half-written temporary store is not left behind
                shutil.rmtree(root, ignore_errors=True)
            raise
        self._root = root
        self._saved = {name: os.environ.get(name) for name in _VARIABLES}
        os.environ.update(values)
        return self

    def _write(self, root: Path) -> dict[str, str]:
        """The configuration files, and the variables that point at them."""
        run, config = root / "run", root / "config"
        for path in (run, config, root / "storage"):
            path.mkdir(exist_ok=True)
        run.chmod(0o700)  # podman refuses a runtime dir others can read
        storage = root / "storage.conf"
        # json.dumps writes a TOML basic string: the paths may hold any character.
        storage.write_text(
            "[storage]\n"
            'driver = "vfs"\n'
            f"graphroot = {json.dumps(str(root / 'storage' / 'graph'))}\n"
            f"runroot = {json.dumps(str(root / 'storage' / 'run'))}\n"
        )
        registries = root / "registries.conf"
        lines = ["unqualified-search-registries = []"]
        for host in self.insecure:
            lines += ["", "[[registry]]", f"location = {json.dumps(host)}", "insecure = true"]
        registries.write_text("\n".join(lines) + "\n")
        return {
            "CONTAINERS_STORAGE_CONF": str(storage),
            "CONTAINERS_REGISTRIES_CONF": str(registries),
            "XDG_RUNTIME_DIR": str(run),
            "XDG_CONFIG_HOME": str(config),
            "CONTAINER_RUNTIME": "podman",
        }

    def close(self) -> None:
        """Restore the environment; delete the directory when the sandbox created it."""
        if self._saved is None:
            return
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = None
        if self._given is None and self._root is not None:
            # vfs keeps a full copy of every layer: a sandbox leaves nothing behind.
            shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> PodmanSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
