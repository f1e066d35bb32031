"""The images podman and docker hold, as Stores: ``podman:NAME``, ``docker-daemon:NAME``.

Reading runs ``podman save --format docker-archive`` (or ``docker save``) into
a temporary file and reads it with the docker-archive reader; writing builds
a docker-archive and hands it to ``podman load`` (``docker load``). The file
is on disk, never in memory: the archive reader needs to seek (a tar from a
pipe would have to be held whole to find ``manifest.json``), and ``load``
reads a file, so the temporary file is the one copy the bridge makes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from .._credentials.process import run_tool
from .._credentials.runtime import Runtime, local_runtime
from .._model.errors import NotFound, RegistryKitError
from .._model.reference import Reference, parse_reference
from .archive import ArchiveReader, ArchiveWriter

__all__ = [
    "COMMANDS",
    "TRANSPORTS",
    "Runtime",
    "RuntimeReader",
    "RuntimeWriter",
    "local_runtime",
    "runtime_name",
]

# local_runtime is the one rule for which runtime a plain name means; it lives in
# _credentials because the credential store needs it too (where logins go).
# The command behind each transport, and the transport of each runtime.
COMMANDS: dict[str, Runtime] = {"podman": "podman", "docker-daemon": "docker"}
TRANSPORTS: dict[Runtime, Literal["podman", "docker-daemon"]] = {
    "podman": "podman",
    "docker": "docker-daemon",
}
# save and load move whole images: minutes are normal, an hour is not.
_TIMEOUT = 3600.0


def runtime_name(runtime: Runtime, name: str) -> Reference:
    """The name an image gets in the runtime's store.

    podman keeps a name without a registry under ``localhost/`` (as
    ``podman tag`` and ``podman build`` do); docker keeps it on Docker Hub.
    """
    first = name.split("/", 1)[0]
    qualified = "/" in name and ("." in first or ":" in first or first == "localhost")
    if runtime == "podman" and not qualified:
        name = f"localhost/{name}"
    return parse_reference(name, default_tag=None).repository_only()


def _run(runtime: Runtime, args: list[str], what: str) -> None:
    try:
        proc = run_tool([runtime, *args], timeout=_TIMEOUT)
    except FileNotFoundError:
        raise NotFound(f"{runtime} is not installed, so {what} is not possible") from None
    except subprocess.TimeoutExpired:
        raise RegistryKitError(f"{runtime} {args[0]} did not finish in {_TIMEOUT:g} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        message = detail[-1] if detail else f"exit status {proc.returncode}"
        if "image not known" in message or "No such image" in message:
            raise NotFound(f"{what}: {message}")
        raise RegistryKitError(f"{what} failed: {runtime} {args[0]}: {message}")


class RuntimeReader(ArchiveReader):
    """One image of podman's or docker's store, saved to a temporary docker-archive."""

    def __init__(self, runtime: Runtime, image: str) -> None:
        self.runtime = runtime
        self.image = image
        self._dir = Path(tempfile.mkdtemp(prefix="registrykit-save-"))
        try:
            archive = self._dir / "image.tar"
            args = ["save", "-o", str(archive)]
            if runtime == "podman":
                args += ["--format", "docker-archive"]
            _run(runtime, [*args, image], f"reading {image} from {runtime}")
            super().__init__(archive)
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    def __repr__(self) -> str:
        return f"RuntimeReader({self.runtime!r}, {self.image!r})"

    def describe(self, ref: str | None = None) -> str:
        return f"{self.runtime}:{self.image}"

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)


class RuntimeWriter(ArchiveWriter):
    """A docker-archive built in a temporary directory and loaded into the runtime on close."""

    def __init__(self, runtime: Runtime, image: Reference) -> None:
        self.runtime = runtime
        self._dir = Path(tempfile.mkdtemp(prefix="registrykit-load-"))
        super().__init__(self._dir / "image.tar", image=image)

    def __repr__(self) -> str:
        return f"RuntimeWriter({self.runtime!r}, {str(self.image)!r})"

    def describe(self, ref: str | None = None) -> str:
        name = self.image.familiar if self.image is not None else ""
        return f"{self.runtime}:{name}" + (f":{ref}" if ref else "")

    def close(self) -> None:
        """Finish the archive, then ``load`` it into the runtime's store."""
        if self._closed:
            return
        try:
            super().close()
            _run(self.runtime, ["load", "-i", str(self.path)], f"loading into {self.runtime}")
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def abort(self) -> None:
        try:
            super().abort()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
