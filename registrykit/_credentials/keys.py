"""The keys of an auth file's ``auths``: hosts, docker's URL keys and podman's namespaces.

docker keys a login by host (Docker Hub by its v1 URL); podman also by
``host/namespace`` (``podman login quay.io/team``), and containers/image uses
the most specific key that is a prefix of the repository. These functions
spell and compare keys the same way everywhere the store reads or writes one.
"""

from __future__ import annotations

from pathlib import Path

from .._model.errors import InvalidReference
from .._model.hosts import DOCKER_HUB, auth_key, canonical_host, normalize_host
from .._model.reference import parse_reference

__all__ = ["file_key", "is_docker_file", "login_scope", "lookup_keys", "normal_key"]


def is_docker_file(path: Path) -> bool:
    """docker's ``config.json`` rather than a podman/skopeo ``auth.json``."""
    return path.name == "config.json"


def file_key(target: str, path: Path) -> str:
    """The ``auths`` key for ``target`` in ``path``: podman writes Docker Hub as docker.io."""
    if "/" in target:
        return target  # a namespace is written as podman writes it, in either file
    return target if target == DOCKER_HUB and not is_docker_file(path) else auth_key(target)


def normal_key(key: str) -> str:
    """What an ``auths`` key stands for: ``host``, or ``host/namespace`` for a scoped login.

    Keys with a scheme are docker's legacy URLs; their path is meaningless
    (``https://index.docker.io/v1/``). A key without a scheme but with a path
    (``quay.io/team``) is podman's per-namespace login and must not answer for
    the whole host.
    """
    k = key.strip()
    if "://" in k:
        return normalize_host(k)
    host, _, path = k.rstrip("/").partition("/")
    return f"{normalize_host(host)}/{path}" if path else normalize_host(host)


def lookup_keys(host: str, repository: str | None) -> list[str]:
    """``host/a/b`` → [``host/a/b``, ``host/a``, ``host``]: most specific first."""
    keys = [host]
    parts = (repository or "").strip("/").split("/") if repository else []
    for i in range(1, len(parts) + 1):
        keys.insert(0, "/".join([host, *parts[:i]]))
    return keys


def login_scope(registry: str) -> str | None:
    """The namespace a login names (``HOST/team`` → ``host/team``); None for a whole host.

    As ``podman login HOST/NAMESPACE``: no scheme, an explicit registry host
    first, a path, and no tag or digest (an image reference with one logs in to
    its host, as before).
    """
    if "://" in registry or "/" not in registry:
        return None
    try:
        ref = parse_reference(registry, default_tag=None)
    except InvalidReference:
        return None
    first, _, path = registry.rstrip("/").partition("/")
    if ref.tag is not None or ref.digest is not None:
        return None
    if canonical_host(first.lower()) != ref.registry.lower():
        return None  # "alice/app" is a Docker Hub image, not a host
    return f"{ref.registry.lower()}/{path}"
