"""What container tooling is installed, and the registry settings it configures.

registrykit needs no daemon, but people compare what it does with the
``docker``/``podman``/``skopeo`` commands they know, and those tools' settings
(insecure registries, mirrors, blocked registries, short-name search) should
mean the same thing here. :func:`detect_runtime` reports versions and the auth
files in effect; :func:`load_registry_settings` reads ``registries.conf``
(containers/image, v1 and v2 formats, with drop-ins) and docker's
``daemon.json``.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._credentials.store import CredentialStore, run_tool

__all__ = [
    "RegistrySettings",
    "RuntimeInfo",
    "detect_runtime",
    "load_registry_settings",
]

logger = logging.getLogger(__name__)

# Module-level so tests can point them at a temporary directory.
_SYSTEM_CONTAINERS_DIR = Path("/etc/containers")
_SYSTEM_DOCKER_DIR = Path("/etc/docker")

_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_VERSION_RE = re.compile(r"\bversion\s+v?(\d+(?:\.\d+)*[0-9A-Za-z.+~-]*)", re.IGNORECASE)
_ANY_VERSION_RE = re.compile(r"\b(\d+\.\d+(?:\.\d+)*[0-9A-Za-z.+~-]*)")


# --------------------------------------------------------------------------- settings


def _strip_scheme(value: str) -> str:
    v = value.strip()
    for scheme in ("https://", "http://"):
        if v.lower().startswith(scheme):
            v = v[len(scheme) :]
            break
    return v.rstrip("/")


def _normalize_registry(value: str) -> str:
    """``index.docker.io/library`` → ``docker.io/library``; scheme and trailing slash dropped."""
    v = _strip_scheme(value)
    host, sep, rest = v.partition("/")
    if host.lower() in _DOCKER_HUB_ALIASES:
        host = "docker.io"
    return host + sep + rest


def _split_host_port(host: str) -> tuple[str, str | None]:
    """``myreg:5000`` → (``myreg``, ``5000``); handles ``[::1]:5000`` and bare IPv6."""
    h = host.strip().lower()
    if h.startswith("["):
        end = h.find("]")
        if end != -1:
            rest = h[end + 1 :]
            return h[1:end], rest[1:] if rest.startswith(":") else None
    if h.count(":") == 1:
        name, port = h.split(":")
        return name, port
    return h, None


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
        name, port = _split_host_port(_strip_scheme(host).split("/", 1)[0])
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
            e_name, e_port = _split_host_port(e)
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
        insecure += [_normalize_registry(i) for i in self.v1_insecure]
        insecure += self.docker_insecure
        blocked += [_normalize_registry(b) for b in self.v1_blocked]
        if self.docker_mirrors:
            mirrors.setdefault("docker.io", []).extend(self.docker_mirrors)
        return RegistrySettings(
            insecure=_dedup(insecure),
            mirrors={k: _dedup(v) for k, v in mirrors.items()},
            unqualified_search=_dedup(_normalize_registry(s) for s in self.search or []),
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
        "prefix": _normalize_registry(prefix),
        "location": _normalize_registry(location) if location else "",
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


# --------------------------------------------------------------------------- runtime


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
class RuntimeInfo:
    """The container tools on PATH, their versions, auth files and registry settings."""

    runtime: str | None
    docker: str | None
    podman: str | None
    skopeo: str | None
    auth_files: tuple[str, ...] = ()
    settings: RegistrySettings = field(default_factory=RegistrySettings)

    @property
    def commands(self) -> dict[str, str]:
        """The commands a person would run to see the same versions."""
        known = {
            "docker": "docker version",
            "podman": "podman version",
            "skopeo": "skopeo --version",
        }
        return {tool: cmd for tool, cmd in known.items() if getattr(self, tool) is not None}

    def _rows(self) -> list[tuple[str, str]]:
        s = self.settings
        mirrors = "; ".join(f"{k} -> {', '.join(v)}" for k, v in s.mirrors.items())
        return [
            ("runtime", self.runtime or "none"),
            ("docker", self.docker or "not found"),
            ("podman", self.podman or "not found"),
            ("skopeo", self.skopeo or "not found"),
            ("auth files", ", ".join(self.auth_files) or "none"),
            ("insecure registries", ", ".join(s.insecure) or "none"),
            ("mirrors", mirrors or "none"),
            ("search registries", ", ".join(s.unqualified_search) or "none"),
            ("blocked registries", ", ".join(s.blocked) or "none"),
        ]

    def __repr__(self) -> str:
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        return "RuntimeInfo\n" + "\n".join(f"  {k + ':':<{width + 1}} {v}" for k, v in rows)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return f"<table><caption>RuntimeInfo</caption>{body}</table>"


def detect_runtime(*, timeout: float = 5.0) -> RuntimeInfo:
    """Find docker, podman and skopeo on PATH and read the registry settings.

    ``runtime`` is ``docker`` when a docker CLI is present, else ``podman``;
    ``CONTAINER_RUNTIME=podman`` (or ``docker``) picks that one when present.
    A missing, failing or hanging tool is reported as None, never raised.
    """
    versions = {name: _tool_version(name, timeout) for name in ("docker", "podman", "skopeo")}
    present = {name for name in ("docker", "podman") if shutil.which(name) is not None}
    preferred = os.environ.get("CONTAINER_RUNTIME", "").strip().lower()
    if preferred in present:
        runtime: str | None = preferred
    elif "docker" in present:
        runtime = "docker"
    elif "podman" in present:
        runtime = "podman"
    else:
        runtime = None
    auth_files = tuple(str(p) for p in CredentialStore().read_paths())
    return RuntimeInfo(
        runtime=runtime,
        docker=versions["docker"],
        podman=versions["podman"],
        skopeo=versions["skopeo"],
        auth_files=auth_files,
        settings=load_registry_settings(),
    )
