"""Where an image lives, as a form asks for it: a transport choice and a name or path.

The choices are the transports ``rk.copy`` reads (``_stores/open.py``); text
typed with a transport prefix (``podman:myapp:latest``, ``docker://…``)
selects that transport, so pasting a skopeo location works too.
"""

from __future__ import annotations

from typing import get_args

import ipywidgets as w

from .._stores.open import Transport, names_transport

REGISTRY = "docker"
# What each transport's text holds; a runtime destination may be left empty.
_PLACEHOLDERS = {
    REGISTRY: "registry/repository:tag",
    "oci": "DIR[:TAG]: an OCI layout directory",
    "docker-archive": "PATH[:TAG]: a docker save tarball",
    "podman": "NAME[:TAG] in podman's store",
    "docker-daemon": "NAME[:TAG] in docker's store",
}
_INTO = ", or empty: the source's name (a pull)"
_NARROW = w.Layout(width="16em")


def transport_choice(description: str) -> w.Dropdown:
    """A dropdown of the transports, the registry first."""
    options = [("registry", REGISTRY)] + [
        (f"{name}:", name) for name in get_args(Transport) if name != REGISTRY
    ]
    return w.Dropdown(options=options, value=REGISTRY, description=description, layout=_NARROW)


def is_runtime(transport: str) -> bool:
    return transport in ("podman", "docker-daemon")


def placeholder(transport: str, *, destination: bool = False) -> str:
    text = _PLACEHOLDERS[transport]
    return text + (_INTO if destination and is_runtime(transport) else "")


def location(transport: str, text: str) -> str:
    """The location ``rk.copy`` reads: ``TRANSPORT:TEXT``, or the text for a registry."""
    return text if transport == REGISTRY else f"{transport}:{text}"


def split_prefix(text: str) -> tuple[str, str] | None:
    """``(transport, rest)`` when ``text`` starts with a transport, else None."""
    if text.startswith("docker://"):
        return REGISTRY, text.removeprefix("docker://")
    if names_transport(text):
        transport, _, rest = text.partition(":")
        return transport, rest
    return None
