"""Where an image lives, written as skopeo writes it, and the Store that reads it.

``oci:DIR[:TAG]`` is an OCI image layout directory, ``docker-archive:PATH[:TAG]``
a docker-archive tarball, ``podman:NAME[:TAG]`` and ``docker-daemon:NAME[:TAG]``
an image in podman's or docker's local store, ``docker://REF`` or a plain
reference a registry.
Every operation that reads or writes images resolves its arguments here, so a
copy, a pull and a push are one call over two stores (regclient's ``scheme``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .._client import Client
from .._model.reference import Reference, parse_reference, parse_repository
from .archive import ArchiveReader, ArchiveWriter
from .base import Store
from .layout import LayoutStore
from .registry import RegistryStore
from .runtime import COMMANDS, RuntimeReader, RuntimeWriter, runtime_name

__all__ = ["Location", "names_transport", "open_store", "parse_location"]

Transport = Literal["docker", "oci", "docker-archive", "podman", "docker-daemon"]
# Transports written TRANSPORT:PATH[:TAG] (a registry is written without one).
_PREFIXED: tuple[Transport, ...] = ("oci", "docker-archive", "podman", "docker-daemon")
# A tag after the path: the tag grammar, and nothing that looks like a path.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class Location:
    """A parsed image location: a transport, a path or repository, and a tag or digest."""

    transport: Transport
    path: str = ""
    tag: str | None = None
    reference: Reference | None = None

    @property
    def is_registry(self) -> bool:
        return self.transport == "docker"

    @property
    def one_platform(self) -> bool:
        """A docker-archive, and the runtimes' stores it is loaded into, hold no index."""
        return self.transport in ("docker-archive", "podman", "docker-daemon")

    def __str__(self) -> str:
        if self.reference is not None:
            return str(self.reference)
        return f"{self.transport}:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_location(
    text: str | Reference,
    *,
    repository: bool = False,
    default_tag: str | None = "latest",
    client: Client | None = None,
    write: bool = False,
) -> Location:
    """``oci:DIR[:TAG]``, ``docker-archive:PATH[:TAG]``, ``podman:NAME[:TAG]``,
    ``docker-daemon:NAME[:TAG]``, ``docker://REF`` or ``REF``.

    ``repository=True`` reads a registry reference without a tag (``all_tags``);
    ``default_tag=None`` leaves a reference without a tag untagged (a destination
    that takes the source's tag). With ``client`` a registry reference is
    resolved by ``Client.reference`` (registries.conf short names and blocks;
    ``write`` for a destination).
    """
    if isinstance(text, Reference):
        return Location("docker", reference=text)
    for transport in _PREFIXED:
        prefix = f"{transport}:"
        if text.startswith(prefix):
            path, tag = _split_tag(text[len(prefix) :])
            return Location(transport, path=path, tag=tag)
    ref_text = text.removeprefix("docker://")
    if client is not None:
        resolved = client.reference(
            ref_text, repository=repository, default_tag=default_tag, write=write
        )
        return Location("docker", reference=resolved)
    if repository:
        ref = parse_repository(ref_text)
    else:
        ref = parse_reference(ref_text, default_tag=default_tag)
    return Location("docker", reference=ref)


def names_transport(text: str) -> bool:
    """Whether ``text`` starts with a transport other than a registry's (``podman:…``)."""
    return text.startswith(tuple(f"{transport}:" for transport in _PREFIXED))


def _split_tag(rest: str) -> tuple[str, str | None]:
    path, sep, tail = rest.rpartition(":")
    if sep and path and _TAG.fullmatch(tail):
        return path, tail
    return rest, None


def open_store(
    location: Location, *, client: Client, write: bool = False, image: Reference | None = None
) -> Store:
    """The Store behind ``location``; ``write=True`` creates a layout or starts an archive.

    ``image`` names what a new docker-archive holds (its ``RepoTags``).
    """
    runtime = COMMANDS.get(location.transport)
    if runtime is not None:
        if write:
            # A pull into the runtime keeps the source's name, as podman pull does.
            name = runtime_name(runtime, location.path) if location.path else image
            if name is None:
                raise ValueError(f"name the image: {location.transport}:NAME[:TAG]")
            return RuntimeWriter(runtime, name)
        tag = f":{location.tag}" if location.tag else ""
        return RuntimeReader(runtime, location.path + tag)
    if location.transport == "oci":
        return LayoutStore(location.path, create=write)
    if location.transport == "docker-archive":
        if write:
            return ArchiveWriter(location.path, image=image)
        return ArchiveReader(location.path)
    assert location.reference is not None
    ref = location.reference
    return RegistryStore(client.registry(ref), ref.repository)
