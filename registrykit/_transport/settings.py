"""The registry settings container tools configure, read the way they read them.

People compare what registrykit does with the ``docker``/``podman``/``skopeo``
commands they know, and those tools' settings (insecure registries, mirrors,
blocked registries, short-name search) should mean the same thing here.
:func:`load_registry_settings` reads ``registries.conf`` (containers/image,
v1 and v2 formats, with drop-ins) and docker's ``daemon.json``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._model.hosts import normalize_location, split_host, strip_scheme

__all__ = ["RegistrySettings", "load_registry_settings"]

logger = logging.getLogger(__name__)

# Module-level so tests can point them at a temporary directory.
_SYSTEM_CONTAINERS_DIR = Path("/etc/containers")
_SYSTEM_DOCKER_DIR = Path("/etc/docker")


def _strip_scheme(value: str) -> str:
    return strip_scheme(value).rstrip("/")


def _dedup(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


@dataclass(frozen=True)
class RegistrySettings:
    """Registry settings from ``registries.conf`` and ``daemon.json``.

    ``insecure`` holds hosts, ``host:port`` entries and (from docker) CIDR
    ranges; ``mirrors`` maps a registry (``docker.io`` for Docker Hub) to its
    mirror locations in order; ``sources`` lists the files that were read.
    """

    insecure: tuple[str, ...] = ()
    mirrors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unqualified_search: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def is_insecure(self, host: str) -> bool:
        """Whether ``host`` (``name``, ``name:port`` or an IP) is named insecure.

        An entry without a port covers every port of that host (as a
        registries.conf location does); one with a port covers only that
        port; a CIDR entry covers IP hosts in its range; ``*.example.com``
        covers subdomains.
        """
        name, port = split_host(_strip_scheme(host).split("/", 1)[0].lower())
        try:
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(name)
        except ValueError:
            ip = None
        for entry in self.insecure:
            e = _strip_scheme(entry).lower()
            if "/" in e:
                try:
                    net = ipaddress.ip_network(e, strict=False)
                except ValueError:
                    # A registries.conf location with a namespace: TLS is per host.
                    e = e.split("/", 1)[0]
                else:
                    if ip is not None and ip.version == net.version and ip in net:
                        return True
                    continue
            e_name, e_port = split_host(e)
            # "*.example.com" covers subdomains, as a registries.conf prefix does.
            wildcard = e_name.startswith("*.")
            matched = name.endswith(e_name[1:]) if wildcard else e_name == name
            if matched and (e_port is None or e_port == port):
                return True
        return False


class _Builder:
    """Collects settings file by file with containers/image's override rules."""

    def __init__(self) -> None:
        # prefix → entry; a later file's entry for the same prefix replaces it.
        self.registries: dict[str, dict[str, Any]] = {}
        self.search: list[str] | None = None
        self.v1_insecure: list[str] = []
        self.v1_blocked: list[str] = []
        self.docker_insecure: list[str] = []
        self.docker_mirrors: list[str] = []
        self.sources: list[str] = []

    def add_registries_conf(self, path: Path) -> None:
        try:
            with path.open("rb") as fh:
                doc = tomllib.load(fh)
        except FileNotFoundError:
            return
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            return
        try:
            self._apply_registries_conf(doc)
        except (TypeError, ValueError, AttributeError) as exc:
            logger.warning("skipping %s: unexpected layout (%s)", path, exc)
            return
        self.sources.append(str(path))

    def _apply_registries_conf(self, doc: dict[str, Any]) -> None:
        # Validate fully before changing anything, so a half-broken file is skipped whole.
        search = doc.get("unqualified-search-registries")
        registries = doc.get("registry", [])
        v1 = doc.get("registries", {})
        if search is not None and not _is_str_list(search):
            raise ValueError("unqualified-search-registries is not a list of strings")
        if not isinstance(registries, list) or not all(isinstance(r, dict) for r in registries):
            raise ValueError("[[registry]] is not an array of tables")
        if not isinstance(v1, dict):
            raise ValueError("[registries] is not a table")
        entries = [_registry_entry(r) for r in registries]
        v1_lists: dict[str, list[str]] = {}
        for section in ("search", "insecure", "block"):
            table = v1.get(section, {})
            if not isinstance(table, dict):
                raise ValueError(f"[registries.{section}] is not a table")
            if "registries" in table:
                values = table["registries"]
                if not _is_str_list(values):
                    raise ValueError(f"[registries.{section}] registries is not a list of strings")
                v1_lists[section] = list(values)

        if search is not None:
            self.search = list(search)
        for entry in entries:
            self.registries[entry["prefix"]] = entry
        if "search" in v1_lists:
            self.search = v1_lists["search"]
        self.v1_insecure.extend(v1_lists.get("insecure", []))
        self.v1_blocked.extend(v1_lists.get("block", []))

    def add_daemon_json(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            return
        if not isinstance(doc, dict):
            logger.warning("skipping %s: not a JSON object", path)
            return
        insecure = doc.get("insecure-registries", [])
        mirrors = doc.get("registry-mirrors", [])
        if not _is_str_list(insecure) or not _is_str_list(mirrors):
            logger.warning("skipping %s: registry settings are not lists of strings", path)
            return
        self.docker_insecure.extend(_strip_scheme(i) for i in insecure)
        self.docker_mirrors.extend(_strip_scheme(m) for m in mirrors)
        self.sources.append(str(path))

    def build(self) -> RegistrySettings:
        insecure: list[str] = []
        blocked: list[str] = []
        mirrors: dict[str, list[str]] = {}
        for prefix, entry in self.registries.items():
            if entry["insecure"]:
                insecure.append(entry["location"] or prefix)
            if entry["blocked"]:
                blocked.append(prefix)
            for loc, mirror_insecure in entry["mirrors"]:
                mirrors.setdefault(prefix, []).append(loc)
                if mirror_insecure:
                    insecure.append(loc)
        insecure += [normalize_location(i) for i in self.v1_insecure]
        insecure += self.docker_insecure
        blocked += [normalize_location(b) for b in self.v1_blocked]
        if self.docker_mirrors:
            mirrors.setdefault("docker.io", []).extend(self.docker_mirrors)
        return RegistrySettings(
            insecure=_dedup(insecure),
            mirrors={k: _dedup(v) for k, v in mirrors.items()},
            unqualified_search=_dedup(normalize_location(s) for s in self.search or []),
            blocked=_dedup(blocked),
            sources=_dedup(self.sources),
        )


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _registry_entry(table: dict[str, Any]) -> dict[str, Any]:
    location = table.get("location", "")
    prefix = table.get("prefix", "") or location
    if not isinstance(location, str) or not isinstance(prefix, str) or not prefix:
        raise ValueError("a [[registry]] needs a string location or prefix")
    mirrors = table.get("mirror", [])
    if not isinstance(mirrors, list):
        raise ValueError("[[registry.mirror]] is not an array of tables")
    mirror_list: list[tuple[str, bool]] = []
    for m in mirrors:
        if not isinstance(m, dict) or not isinstance(m.get("location"), str):
            raise ValueError("a [[registry.mirror]] needs a string location")
        mirror_list.append((_strip_scheme(m["location"]), bool(m.get("insecure", False))))
    return {
        "prefix": normalize_location(prefix),
        "location": normalize_location(location) if location else "",
        "insecure": bool(table.get("insecure", False)),
        "blocked": bool(table.get("blocked", False)),
        "mirrors": mirror_list,
    }


def _drop_ins(conf: Path) -> list[Path]:
    """``registries.conf.d/*.conf`` beside ``conf``, sorted by name."""
    d = conf.with_name(conf.name + ".d")
    try:
        return sorted((p for p in d.glob("*.conf") if p.is_file()), key=lambda p: p.name)
    except OSError:
        return []


def _default_registries_conf() -> list[Path]:
    """The registries.conf files containers/image would read, in order.

    The user's file replaces the system file (it is not merged with it); the
    drop-in directories of both are read, a user drop-in replacing a system
    one of the same name, all in name order.
    """
    env = os.environ.get("CONTAINERS_REGISTRIES_CONF")
    if env:
        main = Path(env).expanduser()
        return [main, *_drop_ins(main)]
    home = Path(os.environ.get("HOME") or Path.home())
    user = home / ".config" / "containers" / "registries.conf"
    system = _SYSTEM_CONTAINERS_DIR / "registries.conf"
    main = user if user.is_file() else system
    by_name = {p.name: p for p in _drop_ins(system)}
    by_name.update({p.name: p for p in _drop_ins(user)})
    return [main, *(by_name[n] for n in sorted(by_name))]


def _default_daemon_json() -> list[Path]:
    home = Path(os.environ.get("HOME") or Path.home())
    xdg = os.environ.get("XDG_CONFIG_HOME")
    rootless = (Path(xdg) if xdg else home / ".config") / "docker" / "daemon.json"
    return [_SYSTEM_DOCKER_DIR / "daemon.json", rootless]


def load_registry_settings(
    registries_conf: Sequence[Path] | None = None,
    daemon_json: Sequence[Path] | None = None,
) -> RegistrySettings:
    """Read registries.conf (v1 or v2, with drop-ins) and docker's daemon.json.

    Without arguments the standard places are read. Given explicitly, each
    registries.conf path is read followed by the ``<name>.d/*.conf`` drop-ins
    beside it; a directory stands for its ``*.conf`` files. A file that is
    missing is ignored; one that cannot be parsed is skipped with a warning.
    """
    builder = _Builder()
    if registries_conf is None:
        conf_paths = _default_registries_conf()
    else:
        conf_paths = []
        for p in map(Path, registries_conf):
            if p.is_dir():
                conf_paths += sorted(p.glob("*.conf"), key=lambda q: q.name)
            else:
                conf_paths += [p, *_drop_ins(p)]
    for p in conf_paths:
        builder.add_registries_conf(p)
    for p in _default_daemon_json() if daemon_json is None else map(Path, daemon_json):
        builder.add_daemon_json(p)
    return builder.build()
