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
from .._model.reference import location_problem
from .shortnames import SHORT_NAME_MODES, longest_prefix, parse_aliases, prefix_match

__all__ = ["RegistrySettings", "load_registry_settings"]

logger = logging.getLogger(__name__)

# Module-level so tests can point them at a temporary directory.
_SYSTEM_CONTAINERS_DIR = Path("/etc/containers")
_SYSTEM_DOCKER_DIR = Path("/etc/docker")
# Where podman records short-name choices for root (rootless: $XDG_CACHE_HOME).
_SYSTEM_CACHE_DIR = Path("/var/cache")
_ALIASES_FILE = Path("containers") / "short-name-aliases.conf"


def _strip_scheme(value: str) -> str:
    return strip_scheme(value).rstrip("/")


def _dedup(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


@dataclass(frozen=True)
class RegistrySettings:
    """Registry settings from ``registries.conf`` and ``daemon.json``.

    ``insecure`` holds hosts, ``host:port`` entries and (from docker) CIDR
    ranges; ``mirrors`` maps a registry prefix (``docker.io`` for Docker Hub,
    or ``host/namespace``) to its mirror locations in order (an ``http://``
    one is plain http); ``blocked`` the prefixes refused; ``prefixes`` every
    ``[[registry]]`` prefix (the longest that matches a name governs it);
    ``pull_from_mirror`` the mirrors limited to ``digest-only`` or
    ``tag-only`` pulls, by (prefix, mirror); ``aliases`` short names and the
    names they stand for; ``origins`` the file behind an entry (keys
    ``"registry PREFIX"``, ``"alias NAME"``, ``"unqualified-search-registries"``);
    ``sources`` lists the files that were read.
    """

    insecure: tuple[str, ...] = ()
    mirrors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unqualified_search: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    pull_from_mirror: dict[tuple[str, str], str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    short_name_mode: str = "permissive"
    origins: dict[str, str] = field(default_factory=dict)

    def _governing(self, name: str) -> tuple[str, int] | None:
        return longest_prefix(name, {*self.prefixes, *self.blocked, *self.mirrors})

    def blocked_by(self, name: str) -> str | None:
        """The blocked prefix that governs ``name`` (``host/repository``), or None.

        As ``FindRegistry``: only the longest matching ``[[registry]]`` counts,
        so an unblocked ``example.com/ok`` inside a blocked ``example.com`` is allowed.
        """
        found = self._governing(name)
        return found[0] if found is not None and found[0] in self.blocked else None

    def has_mirrors(self, host: str) -> bool:
        """Whether some repository of ``host`` has a mirror."""
        return any(
            p == host or p.startswith(f"{host}/") or prefix_match(host, p) != -1
            for p in self.mirrors
        )

    def mirror_names(self, name: str, by_digest: bool | None) -> tuple[str, ...]:
        """Where to read ``name`` from before its registry: ``mirror[/namespace]/rest``.

        As ``PullSourcesFromReference``: the governing prefix is replaced by
        each mirror's location, skipping a mirror whose ``pull-from-mirror``
        excludes this kind of pull (by digest or by tag; None, for a blob
        that is checked against its digest anyway, skips none).
        """
        found = self._governing(name)
        if found is None:
            return ()
        prefix, covered = found
        skip = None if by_digest is None else "tag-only" if by_digest else "digest-only"
        return tuple(
            location + name[covered:]
            for location in self.mirrors.get(prefix, ())
            if skip is None or self.pull_from_mirror.get((prefix, location)) != skip
        )

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
    """Collects settings file by file with containers/image's override rules.

    As ``updateWithConfigurationFrom``: a later file's ``[[registry]]``
    replaces an earlier one with the same prefix (within one file the first
    wins), and its search list, short-name mode and aliases replace earlier
    ones when it sets them; an alias set to ``""`` removes it.
    """

    def __init__(self) -> None:
        self.registries: dict[str, dict[str, Any]] = {}
        self.search: list[str] | None = None
        self.mode = "permissive"  # containers/image's default
        self.aliases: dict[str, str] = {}
        self.cache_aliases: dict[str, str] = {}
        self.origins: dict[str, str] = {}
        self.docker_insecure: list[str] = []
        self.docker_mirrors: list[str] = []
        self.sources: list[str] = []

    def add_registries_conf(self, path: Path, *, drop_in: bool = False) -> None:
        doc = _read_toml(path)
        if doc is None:
            return
        try:
            self._apply_registries_conf(doc, str(path), drop_in)
        except (TypeError, ValueError, AttributeError) as exc:
            logger.warning("skipping %s: unexpected layout (%s)", path, exc)
            return
        self.sources.append(str(path))

    def add_aliases_conf(self, path: Path) -> None:
        """podman's ``short-name-aliases.conf``: its aliases win over registries.conf's."""
        doc = _read_toml(path)
        if doc is None:
            return
        try:
            aliases = parse_aliases(doc.get("aliases", {}))
        except (TypeError, ValueError) as exc:
            logger.warning("skipping %s: unexpected layout (%s)", path, exc)
            return
        for name, value in aliases.items():
            self.cache_aliases[name] = value
            self.origins[f"alias {name}"] = str(path)
        self.sources.append(str(path))

    def _apply_registries_conf(self, doc: dict[str, Any], origin: str, drop_in: bool) -> None:
        # Validate fully before changing anything, so a half-broken file is skipped whole.
        search = doc.get("unqualified-search-registries")
        registries = doc.get("registry", [])
        mode = doc.get("short-name-mode")
        if search is not None and not _is_str_list(search):
            raise ValueError("unqualified-search-registries is not a list of strings")
        if not isinstance(registries, list) or not all(isinstance(r, dict) for r in registries):
            raise ValueError("[[registry]] is not an array of tables")
        if mode is not None and mode not in SHORT_NAME_MODES:
            raise ValueError(
                f"short-name-mode {mode!r} is not one of {', '.join(SHORT_NAME_MODES)}"
            )
        entries = [_registry_entry(r) for r in registries]
        aliases = parse_aliases(doc.get("aliases", {}))
        v1 = _v1_entries(doc.get("registries", {}))
        if v1 is not None:
            # sysregistriesv2 refuses v1 in drop-ins and v1 mixed with v2 in one file.
            if drop_in:
                raise ValueError("a drop-in must use the v2 format, not [registries.*]")
            if entries or aliases or search is not None or mode is not None:
                raise ValueError("mixing the v1 [registries.*] and v2 formats is not supported")
            v1_search, entries = v1
            search = v1_search
        unique: dict[str, dict[str, Any]] = {}
        for entry in entries:
            unique.setdefault(entry["prefix"], entry)
        if search is not None:
            self.search = list(search)
            self.origins["unqualified-search-registries"] = origin
        if mode is not None:
            self.mode = mode
        for prefix, entry in unique.items():
            self.registries[prefix] = entry
            self.origins[f"registry {prefix}"] = origin
        for name, value in aliases.items():
            self.aliases[name] = value
            self.origins[f"alias {name}"] = origin

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
        # docker talks plain http to an http:// mirror: keep that scheme, drop https://.
        try:
            self.docker_mirrors.extend([_mirror_location(m) for m in mirrors])
        except ValueError as exc:
            logger.warning("skipping the registry-mirrors of %s: %s", path, exc)
        self.sources.append(str(path))

    def build(self) -> RegistrySettings:
        insecure: list[str] = []
        blocked: list[str] = []
        mirrors: dict[str, list[str]] = {}
        pull_from: dict[tuple[str, str], str] = {}
        for prefix, entry in self.registries.items():
            if entry["insecure"]:
                insecure.append(entry["location"] or prefix)
            if entry["blocked"]:
                blocked.append(prefix)
            for loc, mirror_insecure, usage in entry["mirrors"]:
                mirrors.setdefault(prefix, []).append(loc)
                if usage != "all":
                    pull_from[(prefix, loc)] = usage
                if mirror_insecure:
                    insecure.append(loc)
        insecure += self.docker_insecure
        if self.docker_mirrors:
            mirrors.setdefault("docker.io", []).extend(self.docker_mirrors)
        aliases = {**self.aliases, **self.cache_aliases}
        return RegistrySettings(
            insecure=_dedup(insecure),
            mirrors={k: _dedup(v) for k, v in mirrors.items()},
            unqualified_search=_dedup(normalize_location(s) for s in self.search or []),
            blocked=_dedup(blocked),
            sources=_dedup(self.sources),
            prefixes=tuple(self.registries),
            pull_from_mirror=pull_from,
            aliases={k: v for k, v in aliases.items() if v},
            short_name_mode=self.mode,
            origins=dict(self.origins),
        )


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        logger.warning("skipping %s: %s", path, exc)
        return None


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _mirror_location(value: str) -> str:
    """A mirror location without a trailing slash; ``http://`` kept, ``https://`` dropped.

    Raises ``ValueError`` for what is not ``host[:port][/namespace]`` (credentials,
    queries, spaces): the location becomes a URL and log text.
    """
    v = value.strip().rstrip("/")
    if "@" in v:  # never echoed: it would print the password
        raise ValueError("a mirror location carries credentials; put them in an auth file")
    problem = location_problem(_strip_scheme(v))
    if problem is not None:
        raise ValueError(f"invalid mirror location: {problem}")
    return v if v.lower().startswith("http://") else _strip_scheme(v)


def _registry_entry(table: dict[str, Any]) -> dict[str, Any]:
    location = table.get("location", "")
    prefix = table.get("prefix", "") or location
    if not isinstance(location, str) or not isinstance(prefix, str) or not prefix:
        raise ValueError("a [[registry]] needs a string location or prefix")
    if prefix.startswith("*.") and any(c in prefix for c in "/@:"):
        raise ValueError(f"a wildcard prefix is *.example.com alone, not {prefix!r}")
    mirrors = table.get("mirror", [])
    if not isinstance(mirrors, list):
        raise ValueError("[[registry.mirror]] is not an array of tables")
    by_digest = bool(table.get("mirror-by-digest-only", False))
    mirror_list: list[tuple[str, bool, str]] = []
    for m in mirrors:
        if not isinstance(m, dict) or not isinstance(m.get("location"), str):
            raise ValueError("a [[registry.mirror]] needs a string location")
        usage = m.get("pull-from-mirror") or ("digest-only" if by_digest else "all")
        if usage not in ("all", "digest-only", "tag-only"):
            raise ValueError(f"pull-from-mirror {usage!r} is not all, digest-only or tag-only")
        _mirror_location(m["location"])  # refuses what is not host[:port][/namespace]
        mirror_list.append((normalize_location(m["location"]), bool(m.get("insecure")), usage))
    return {
        "prefix": normalize_location(prefix),
        "location": normalize_location(location) if location else "",
        "insecure": bool(table.get("insecure", False)),
        "blocked": bool(table.get("blocked", False)),
        "mirrors": mirror_list,
    }


def _v1_entries(v1: Any) -> tuple[list[str] | None, list[dict[str, Any]]] | None:
    """A v1 ``[registries.*]`` table as (search list, registry entries), or None when absent.

    As ``ConvertToV2``: each blocked or insecure location is a registry whose
    prefix is its location.
    """
    if not isinstance(v1, dict):
        raise ValueError("[registries] is not a table")
    lists: dict[str, list[str]] = {}
    for section in ("search", "insecure", "block"):
        table = v1.get(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"[registries.{section}] is not a table")
        values = table.get("registries", [])
        if not _is_str_list(values):
            raise ValueError(f"[registries.{section}] registries is not a list of strings")
        if values:
            lists[section] = list(values)
    if not lists:
        return None
    entries: dict[str, dict[str, Any]] = {}
    for section, flag in (("block", "blocked"), ("insecure", "insecure")):
        for location in lists.get(section, []):
            loc = normalize_location(location)
            entry = entries.setdefault(
                loc,
                {
                    "prefix": loc,
                    "location": loc,
                    "insecure": False,
                    "blocked": False,
                    "mirrors": [],
                },
            )
            entry[flag] = True
    return lists.get("search"), list(entries.values())


def _conf_files(directory: Path) -> list[Path]:
    """``*.conf`` in ``directory``, in name order (what ``dropInConfigs`` walks)."""
    try:
        return sorted((p for p in directory.glob("*.conf") if p.is_file()), key=lambda p: p.name)
    except OSError:
        return []


def _drop_ins(conf: Path) -> list[Path]:
    """``registries.conf.d/*.conf`` beside ``conf``, sorted by name."""
    return _conf_files(conf.with_name(conf.name + ".d"))


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def _default_registries_conf() -> tuple[Path, list[Path]]:
    """The registries.conf file and drop-ins podman reads, in order (``newConfigWrapper``).

    ``CONTAINERS_REGISTRIES_CONF`` (else ``REGISTRIES_CONFIG_PATH``) names the
    main file, and the system and user drop-in directories are still read.
    Otherwise the user's ``~/.config/containers/registries.conf``, when it
    exists, replaces the system file and only the user drop-ins are read;
    without it the system file, the system drop-ins, then the user drop-ins.
    Each directory is read whole, in name order, after the one before.
    """
    user_dir = _home() / ".config" / "containers"
    system_dropins = _conf_files(_SYSTEM_CONTAINERS_DIR / "registries.conf.d")
    user_dropins = _conf_files(user_dir / "registries.conf.d")
    env = os.environ.get("CONTAINERS_REGISTRIES_CONF") or os.environ.get("REGISTRIES_CONFIG_PATH")
    if env:
        return Path(env).expanduser(), system_dropins + user_dropins
    user = user_dir / "registries.conf"
    if user.exists():
        return user, user_dropins
    return _SYSTEM_CONTAINERS_DIR / "registries.conf", system_dropins + user_dropins


def _default_aliases_conf() -> Path:
    """podman's ``short-name-aliases.conf`` (``shortNameAliasesConfPath``)."""
    if os.geteuid() == 0:
        return _SYSTEM_CACHE_DIR / _ALIASES_FILE
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache) if cache else _home() / ".cache") / _ALIASES_FILE


def _default_daemon_json() -> list[Path]:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    rootless = (Path(xdg) if xdg else _home() / ".config") / "docker" / "daemon.json"
    return [_SYSTEM_DOCKER_DIR / "daemon.json", rootless]


def load_registry_settings(
    registries_conf: Sequence[Path] | None = None,
    daemon_json: Sequence[Path] | None = None,
) -> RegistrySettings:
    """Read registries.conf (v1 or v2, with drop-ins) and docker's daemon.json.

    Without arguments the places podman reads are read, and podman's
    ``short-name-aliases.conf``. Given explicitly, each registries.conf path
    is read followed by the ``<name>.d/*.conf`` drop-ins beside it; a
    directory stands for its ``*.conf`` files. A file that is missing is
    ignored; one that cannot be parsed is skipped with a warning.
    """
    builder = _Builder()
    if registries_conf is None:
        main, drop_ins = _default_registries_conf()
        builder.add_registries_conf(main)
        for p in drop_ins:
            builder.add_registries_conf(p, drop_in=True)
        builder.add_aliases_conf(_default_aliases_conf())
    else:
        for p in map(Path, registries_conf):
            if p.is_dir():
                for q in _conf_files(p):
                    builder.add_registries_conf(q)
            else:
                builder.add_registries_conf(p)
                for q in _drop_ins(p):
                    builder.add_registries_conf(q, drop_in=True)
    for p in _default_daemon_json() if daemon_json is None else map(Path, daemon_json):
        builder.add_daemon_json(p)
    return builder.build()
