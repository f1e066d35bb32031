"""The host vocabulary: the one place that spells registry hosts.

Docker Hub has four names (``docker.io`` and its aliases), serves its API
from a fifth host and keeps logins under a v1 URL; every other registry is
just ``host[:port]``. References, credentials files, registries.conf and
the transport all meet here, so a spelling fixed once is fixed everywhere.
"""

from __future__ import annotations

import ipaddress

__all__ = [
    "DOCKER_HUB",
    "HUB_ALIASES",
    "HUB_API_HOST",
    "HUB_AUTH_KEY",
    "api_host",
    "auth_key",
    "canonical_host",
    "is_docker_hub",
    "is_loopback",
    "normalize_host",
    "normalize_location",
    "split_host",
    "strip_scheme",
]

DOCKER_HUB = "docker.io"
"""The registry a reference without a domain names, as docker normalises it."""

HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
"""Every host name that means Docker Hub."""

HUB_API_HOST = "registry-1.docker.io"
"""Where Docker Hub's ``/v2/`` API answers."""

HUB_AUTH_KEY = "https://index.docker.io/v1/"
"""The key docker writes Docker Hub logins under (a v1 URL, for history's sake)."""


def strip_scheme(value: str) -> str:
    """``https://myreg.io/v2/`` → ``myreg.io/v2/``; surrounding whitespace dropped."""
    v = value.strip()
    for scheme in ("https://", "http://"):
        if v.lower().startswith(scheme):
            return v[len(scheme) :]
    return v


def split_host(host: str) -> tuple[str, str | None]:
    """Split ``host[:port]`` into the bare host and the port (None when absent).

    ``[::1]:5000`` → (``::1``, ``5000``); a bare IPv6 address has no port.
    """
    if host.startswith("["):
        end = host.find("]")
        if end == -1:
            return host, None
        rest = host[end + 1 :]
        return host[1:end], (rest[1:] if rest.startswith(":") else None)
    if host.count(":") > 1:
        return host, None
    name, sep, port = host.partition(":")
    return name, (port if sep else None)


def is_loopback(host: str) -> bool:
    """Whether ``host[:port]`` is this machine, where plain HTTP is acceptable.

    Accepts ``localhost``, 127.0.0.0/8 and ``::1`` (bracketed, or bare without
    a port), with or without a port. Anything unparsable is not loopback: the
    transport relaxes TLS only for hosts this says yes to, so it must not
    guess.
    """
    if not isinstance(host, str) or not host:
        return False
    name, _port = split_host(host)
    if name.lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def is_docker_hub(host: str) -> bool:
    """Whether ``host[:port]`` is one of Docker Hub's names (any case)."""
    return split_host(host.strip())[0].lower() in HUB_ALIASES


def canonical_host(domain: str) -> str:
    """Docker Hub's aliases become ``docker.io``; any other host is kept as written."""
    return DOCKER_HUB if domain.lower() in HUB_ALIASES else domain


def normalize_host(host: str) -> str:
    """The registry host a login key or user input refers to, lowercased.

    Like docker's ``ConvertToHostname``: ``https://myreg.io/v1/`` → ``myreg.io``.
    Every Docker Hub spelling becomes ``docker.io``.
    """
    return canonical_host(strip_scheme(host).split("/", 1)[0].lower())


def normalize_location(value: str) -> str:
    """A registries.conf location: ``index.docker.io/library/`` → ``docker.io/library``."""
    host, sep, rest = strip_scheme(value).rstrip("/").partition("/")
    return canonical_host(host) + sep + rest


def api_host(host: str) -> str:
    """Where ``host``'s ``/v2/`` API answers: Docker Hub's API host, else the host itself."""
    return HUB_API_HOST if is_docker_hub(host) else host


def auth_key(host: str) -> str:
    """The key a login for ``host`` is written under (Docker Hub's v1 URL, else the host)."""
    h = normalize_host(host)
    return HUB_AUTH_KEY if h == DOCKER_HUB else h
