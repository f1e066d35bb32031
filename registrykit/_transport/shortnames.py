"""Which ``registries.conf`` entry an image name falls under, and what a short name means.

The rules are containers/image's (``pkg/sysregistriesv2`` and
``pkg/shortnames``, v5.23 as podman 4.3 vendors it), so a name resolves here
to what ``podman pull`` would try, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._model.errors import InvalidReference, PermissionDenied
from .._model.hosts import DOCKER_HUB
from .._model.reference import parse_reference

if TYPE_CHECKING:
    from .settings import RegistrySettings

__all__ = [
    "SHORT_NAME_MODES",
    "ShortNameResolution",
    "is_short_name",
    "longest_prefix",
    "parse_aliases",
    "prefix_match",
    "refuse_blocked",
    "resolve_short_name",
]

SHORT_NAME_MODES = ("enforcing", "permissive", "disabled")


def prefix_match(name: str, prefix: str) -> int:
    """The length of ``name`` that ``prefix`` covers, or -1 (sysregistriesv2 ``refMatchingPrefix``).

    ``example.com/ns`` covers ``example.com/ns`` and ``example.com/ns/app``
    but not ``example.com/nsx``; ``*.example.com`` covers any subdomain's
    names (not ``example.com`` itself), and the match ends after the domain.
    """
    if prefix.startswith("*."):
        index = name.find(prefix[1:])
        if index == -1 or "/" in name[:index]:
            return -1
        index += len(prefix) - 1
        return index if index == len(name) or name[index] in ":/@" else -1
    if name == prefix:
        return len(prefix)
    if name.startswith(prefix) and name[len(prefix)] in ":/@":
        return len(prefix)
    return -1


def longest_prefix(name: str, prefixes: Iterable[str]) -> tuple[str, int] | None:
    """The prefix that governs ``name`` (the longest that matches, as ``FindRegistry`` picks)."""
    best: tuple[str, int] | None = None
    for prefix in prefixes:
        matched = prefix_match(name, prefix)
        if matched != -1 and (best is None or len(prefix) > len(best[0])):
            best = (prefix, matched)
    return best


def refuse_blocked(settings: RegistrySettings, name: str, what: str) -> None:
    """Raise ``PermissionDenied`` when registries.conf blocks ``name`` (``host/repository``)."""
    prefix = settings.blocked_by(name)
    if prefix is None:
        return
    origin = settings.origins.get(f"registry {prefix}", "registries.conf")
    raise PermissionDenied(
        f"{what} {name}: registry {prefix!r} is blocked in {origin} "
        f'([[registry]] prefix = "{prefix}", blocked = true), as podman refuses it; '
        "remove that entry to allow it."
    )


def parse_aliases(table: Any) -> dict[str, str]:
    """``[aliases]``, checked as ``newShortNameAliasCache`` checks it; ``""`` resets an alias."""
    if not isinstance(table, dict):
        raise ValueError("[aliases] is not a table")
    aliases: dict[str, str] = {}
    for name, value in table.items():
        if not isinstance(value, str):
            raise ValueError(f"alias {name!r} is not a string")
        if not is_short_name(name) or "@" in name or ":" in name:
            raise ValueError(f"alias {name!r} must be a short name without tag or digest")
        if value and is_short_name(value):
            raise ValueError(f"alias {name!r} = {value!r} must name a registry")
        try:
            ref = parse_reference(value, default_tag=None) if value else None
        except InvalidReference as exc:
            raise ValueError(str(exc)) from None
        if ref is not None and (ref.tag or ref.digest):
            raise ValueError(f"alias {name!r} = {value!r} must not carry a tag or digest")
        # docker.io/alpine is docker.io/library/alpine, as parseShortNameValue normalises it.
        aliases[name] = ref.name if ref is not None else ""
    return aliases


def is_short_name(text: str) -> bool:
    """Whether ``text`` names no registry (``myapp``, ``team/app:1``): ``IsShortName``.

    The first component names a registry when it holds ``.`` or ``:`` or is
    ``localhost``; otherwise the whole text is a path on a registry to find.
    """
    first, slash, _ = text.partition("/")
    if not slash:
        return True
    return not ("." in first or ":" in first or first == "localhost" or first.startswith("["))


@dataclass(frozen=True)
class ShortNameResolution:
    """The fully qualified names a short name stands for, in the order to try them.

    ``rationale`` is ``"alias"``, ``"search"`` (unqualified-search
    registries) or ``"docker-hub"`` (nothing configured); ``origin`` the file
    that decided it.
    """

    name: str
    candidates: tuple[str, ...]
    rationale: str
    origin: str = ""

    def describe(self) -> str:
        """What podman prints before it pulls (``Resolved "x" as an alias (file)``)."""
        if self.rationale == "alias":
            return f"resolved {self.name!r} as an alias ({self.origin})"
        if self.rationale == "search":
            return f"resolved {self.name!r} with unqualified-search registries ({self.origin})"
        return f"resolved {self.name!r} to Docker Hub (no unqualified-search registries)"


def _split_name(text: str) -> tuple[str, str]:
    """``team/app:1@sha256:…`` → (``team/app``, ``:1@sha256:…``)."""
    name, at, digest = text.partition("@")
    colon = name.rfind(":")
    suffix = at + digest
    if colon > name.rfind("/"):
        name, suffix = name[:colon], name[colon:] + suffix
    return name, suffix


def resolve_short_name(text: str, settings: RegistrySettings) -> ShortNameResolution:
    """Resolve the short name ``text`` as ``shortnames.Resolve`` does without a terminal.

    An alias wins (its tag or digest is the one given). Otherwise each
    unqualified-search registry is a candidate, in order; with several, the
    ``short-name-mode`` decides: ``enforcing`` refuses (podman cannot prompt
    without a TTY), ``permissive`` and ``disabled`` try them in order. With
    neither, the name is on Docker Hub, as docker reads it (podman refuses;
    design.md keeps docker's meaning there).
    """
    name, suffix = _split_name(text)
    alias = settings.aliases.get(name)
    if alias:
        origin = settings.origins.get(f"alias {name}", "registries.conf")
        return ShortNameResolution(name, (alias + suffix,), "alias", origin)
    search = settings.unqualified_search
    if not search:
        return ShortNameResolution(name, (f"{DOCKER_HUB}/{text}",), "docker-hub")
    origin = settings.origins.get("unqualified-search-registries", "registries.conf")
    candidates = tuple(f"{registry}/{text}" for registry in search)
    if len(candidates) > 1 and settings.short_name_mode == "enforcing":
        raise InvalidReference(
            f"short name {text!r} is ambiguous: short-name-mode is enforcing in {origin} and "
            f"it could be any of {', '.join(candidates)}; write the full name, or add an "
            f'alias ([aliases] "{name}" = "REGISTRY/{name}") to registries.conf.'
        )
    return ShortNameResolution(name, candidates, "search", origin)
