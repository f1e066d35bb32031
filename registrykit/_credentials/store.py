"""Stored registry logins, found and written the way docker and podman do.

Docker keeps logins in ``config.json`` (``$DOCKER_CONFIG`` or ``~/.docker``);
podman, buildah and skopeo keep them in ``auth.json`` (``REGISTRY_AUTH_FILE``
alone when set, else ``$XDG_RUNTIME_DIR/containers`` or, without it,
``/run/containers/$UID``, then ``$XDG_CONFIG_HOME/containers``). Both formats
are the same JSON document::

    {"auths": {"ghcr.io": {"auth": "<base64 user:pass>"}},
     "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
     "credsStore": "desktop"}

A ``credHelpers`` or ``credsStore`` entry names a ``docker-credential-<name>``
program that keeps the secret in a keychain instead of the file.
:class:`CredentialStore` reads all of them in the documented order, and writes
back atomically with mode 0600 without disturbing entries it did not touch.
A new login goes where the runtime looks (design.md, "Logins where the
runtime looks"): the first file that already holds the host; else podman's
``auth.json`` when podman is the local runtime (a docker CLI without a daemon
does not count); else docker's file. Docker Hub's key is ``docker.io`` in
podman's files, docker's v1 URL in docker's.

A key may name a namespace (``podman login quay.io/team`` writes
``quay.io/team``). As containers/image does, the most specific key that is a
prefix of the repository answers for it (``quay.io/team/app`` uses
``quay.io/team``, ``quay.io/other`` uses ``quay.io``); credential helpers
hold whole hosts only.

Secrets only ever travel through stdin/stdout of helper programs and the
``secret`` field of :class:`Credential`; they are never put in argv, logs,
reprs or exception messages.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from .._model.errors import RegistryKitError
from .._model.hosts import auth_key, normalize_host
from .helpers import TOKEN_USERNAME, Credential, Helper
from .keys import file_key, login_scope, lookup_keys, normal_key
from .runtime import Runtime, local_runtime

__all__ = ["Credential", "CredentialStore", "login_scope"]

logger = logging.getLogger(__name__)

# Where podman keeps logins when XDG_RUNTIME_DIR is unset (root shells): <here>/<uid>/.
_RUN_CONTAINERS = Path("/run/containers")


def _read_json(path: Path) -> dict[str, Any] | None:
    """The config document at ``path``; None (with a warning) if unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # JSONDecodeError's text names a position, never the content.
        logger.warning("skipping the credentials file %s: %s", path, exc)
        return None
    if not isinstance(data, dict):
        logger.warning("skipping the credentials file %s: not a JSON object", path)
        return None
    return data


def _decode_entry(entry: Any) -> tuple[str, str, bool] | None:
    """(username, secret, identity_token) from an ``auths`` entry, or None if empty."""
    if not isinstance(entry, dict):
        return None
    username = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    raw = entry.get("auth")
    if isinstance(raw, str) and raw:
        try:
            decoded = base64.b64decode(raw, validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" in decoded:
            # Split on the first colon only: passwords may contain colons.
            username, password = decoded.split(":", 1)
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return (username or TOKEN_USERNAME, token, True)
    if password:
        return (username, password, False)
    return None


class CredentialStore:
    """Find, store and erase registry logins the way docker and podman do.

    The environment (``HOME``, ``DOCKER_CONFIG``, ``REGISTRY_AUTH_FILE``,
    ``XDG_RUNTIME_DIR``) is read at each call, not at construction, so the
    store follows changes to it.
    """

    def __init__(
        self,
        auth_file: str | os.PathLike[str] | None = None,
        *,
        helper_timeout: float = 30.0,
    ) -> None:
        self.auth_file = Path(auth_file).expanduser() if auth_file is not None else None
        self.helper_timeout = helper_timeout

    def __repr__(self) -> str:
        return (
            f"CredentialStore(auth_file={self.auth_file!r}, helper_timeout={self.helper_timeout!r})"
        )

    # ----------------------------------------------------------------- paths

    @staticmethod
    def _home() -> Path:
        return Path(os.environ.get("HOME") or Path.home())

    def _docker_config(self) -> Path | None:
        d = os.environ.get("DOCKER_CONFIG")
        return Path(d).expanduser() / "config.json" if d else None

    def _podman_files(self) -> list[Path]:
        """podman's own ``auth.json`` files, in its read order (the first is where it writes)."""
        runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
        # containers/image: $XDG_RUNTIME_DIR/containers/, else /run/containers/$UID/ itself.
        uid_dir = _RUN_CONTAINERS / str(os.getuid())
        run = Path(runtime_dir) / "containers" if runtime_dir else uid_dir
        config = os.environ.get("XDG_CONFIG_HOME") or str(self._home() / ".config")
        return [run / "auth.json", Path(config) / "containers" / "auth.json"]

    def _candidates(self) -> list[Path]:
        paths: list[Path | None] = [self.auth_file]
        env_file = os.environ.get("REGISTRY_AUTH_FILE")
        if env_file:
            # As podman and skopeo: that file alone (and the helpers it names).
            paths.append(Path(env_file).expanduser())
        else:
            paths += self._podman_files()
            paths.append(self._docker_config())
            paths.append(self._home() / ".docker" / "config.json")
        seen: set[Path] = set()
        out: list[Path] = []
        for p in paths:
            if p is not None and p not in seen:
                seen.add(p)
                out.append(p)
        return out

    def read_paths(self) -> list[Path]:
        """The existing credentials files, in the order they are searched."""
        return [p for p in self._candidates() if p.is_file()]

    def write_path(
        self, host: str | None = None, *, runtime: Runtime | Literal["probe"] | None = "probe"
    ) -> Path:
        """The file a new plain-text login for ``host`` goes to (it may not exist yet).

        An explicit ``auth_file`` or ``REGISTRY_AUTH_FILE`` wins; else the first
        file already holding ``host`` (or ``host/namespace``); else podman's
        ``auth.json`` when podman is the local runtime; else docker's file.
        ``runtime`` passes a runtime already probed (asking docker's daemon
        takes a process, and up to its timeout when the daemon hangs).
        """
        if self.auth_file is not None:
            return self.auth_file
        env_file = os.environ.get("REGISTRY_AUTH_FILE")
        if env_file:
            return Path(env_file).expanduser()
        if host is not None:
            holding = self._holding(normal_key(host))
            if holding is not None:
                return holding
        if (local_runtime() if runtime == "probe" else runtime) == "podman":
            return self._podman_files()[0]
        return self._docker_config() or self._home() / ".docker" / "config.json"

    def _holding(self, target: str) -> Path | None:
        """The first file with an ``auths`` or ``credHelpers`` entry for ``target``."""
        for path, doc in self._docs():
            auths = doc.get("auths")
            keys = list(auths) if isinstance(auths, dict) else []
            if self._cred_helper_for(doc, target) or any(
                normal_key(str(k)) == target for k in keys
            ):
                return path
        return None

    def _docs(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        for path in self.read_paths():
            doc = _read_json(path)
            if doc is not None:
                yield path, doc

    def _helper(self, name: str, kind: str, config: Path) -> Helper:
        return Helper(name, kind, config, self.helper_timeout)

    def _cred_helper_for(self, doc: dict[str, Any], host: str) -> str | None:
        helpers = doc.get("credHelpers")
        if not isinstance(helpers, dict):
            return None
        for key, name in helpers.items():
            if isinstance(name, str) and name and normal_key(str(key)) == host:
                return name
        return None

    @staticmethod
    def _creds_store(doc: dict[str, Any], target: str | None = None) -> str | None:
        """The file's ``credsStore``; none for a namespace, which helpers cannot hold."""
        name = doc.get("credsStore")
        scoped = target is not None and "/" in target
        return name if isinstance(name, str) and name and not scoped else None

    # ----------------------------------------------------------------- get

    def get(self, host: str, repository: str | None = None) -> Credential | None:
        """The first login found for ``host`` (files in order, helpers included).

        With ``repository``, a file's namespaced entry for the longest matching
        prefix (``host/team`` for ``team/app``) comes before its host entry.
        """
        h = normalize_host(host)
        server = auth_key(h)
        for path, doc in self._docs():
            helper_name = self._cred_helper_for(doc, h)
            if helper_name:
                cred = self._helper(helper_name, "credHelper", path).get(server)
                if cred is not None:
                    logger.debug("login for %s found in %s", h, cred.source)
                    return cred
            found = self._from_auths(doc, lookup_keys(h, repository), path)
            if found is not None:
                return found
            store_name = self._creds_store(doc)
            if store_name:
                cred = self._helper(store_name, "credsStore", path).get(server)
                if cred is not None:
                    logger.debug("login for %s found in %s", h, cred.source)
                    return cred
        logger.debug("no stored login for %s", h)
        return None

    @staticmethod
    def _from_auths(doc: dict[str, Any], targets: list[str], path: Path) -> Credential | None:
        """The ``auths`` entry for the first of ``targets`` that ``doc`` holds."""
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return None
        for target in targets:
            for key, entry in auths.items():
                decoded = _decode_entry(entry) if normal_key(str(key)) == target else None
                if decoded is not None:
                    logger.debug("login for %s found in %s", target, path)
                    username, secret, is_token = decoded
                    return Credential(username, secret, is_token, str(path))
        return None

    # ----------------------------------------------------------------- store

    def store(self, host: str, username: str, secret: str) -> str:
        """Store a login; returns where: ``credHelper:NAME``, ``credsStore:NAME`` or a path.

        A ``username`` of ``<token>`` stores ``secret`` as an identity token.
        ``host`` may name a namespace (``quay.io/team``, see :func:`login_scope`);
        such a login is kept in the file, as podman keeps it.
        """
        h = normal_key(host)
        path = self.write_path(h)
        key = file_key(h, path)
        doc = self._load_for_update(path)
        helper_name = self._cred_helper_for(doc, h)
        store_name = self._creds_store(doc, h)
        if helper_name or store_name:
            kind = "credHelper" if helper_name else "credsStore"
            helper = self._helper(helper_name or store_name or "", kind, path)
            helper.store(auth_key(h), username, secret)
            # Drop a stale plain-text copy so it cannot shadow the helper's entry.
            if self._remove_auths(doc, h):
                self._write(path, doc)
            logger.info("stored the login for %s in %s", h, helper.source)
            return helper.source
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            auths = {}
            doc["auths"] = auths
        # Replace any other spelling of the same host so only one entry remains.
        for other in [k for k in auths if normal_key(str(k)) == h and k != key]:
            del auths[other]
        if username == TOKEN_USERNAME:
            auths[key] = {"identitytoken": secret}
        else:
            raw = f"{username}:{secret}".encode()
            auths[key] = {"auth": base64.b64encode(raw).decode("ascii")}
        self._write(path, doc)
        logger.info("stored the login for %s in %s", h, path)
        return str(path)

    @staticmethod
    def _load_for_update(path: Path) -> dict[str, Any]:
        """The document to update; refuses to overwrite a file it cannot parse."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise RegistryKitError(
                f"Cannot read the credentials file {path} ({exc.strerror}); check its "
                "permissions or pass another auth_file=."
            ) from None
        try:
            doc = json.loads(text or "{}")
        except json.JSONDecodeError as exc:
            raise RegistryKitError(
                f"The credentials file {path} is not valid JSON ({exc.msg} at line "
                f"{exc.lineno}); fix or remove it, then log in again. It was left unchanged."
            ) from None
        if not isinstance(doc, dict):
            raise RegistryKitError(
                f"The credentials file {path} does not hold a JSON object; fix or remove "
                "it, then log in again. It was left unchanged."
            )
        return doc

    @staticmethod
    def _write(path: Path, doc: dict[str, Any]) -> None:
        """Write ``doc`` atomically with mode 0600: a crash leaves the old file whole."""
        # Write through a symlink (as docker does) instead of replacing the link.
        target = path.resolve() if path.is_symlink() else path
        parent = target.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file 0600, so the secret is never readable by others.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent="\t")
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # fsync the directory so the rename itself survives a crash.
        with contextlib.suppress(OSError):
            dir_fd = os.open(parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # ----------------------------------------------------------------- erase

    @staticmethod
    def _remove_auths(doc: dict[str, Any], target: str) -> bool:
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return False
        keys = [k for k in auths if normal_key(str(k)) == target]
        for k in keys:
            del auths[k]
        return bool(keys)

    def erase(self, host: str) -> list[str]:
        """Remove ``host``'s login from every file and helper holding it; returns where.

        A namespace (``quay.io/team``) removes that entry only, as ``podman logout`` does.
        """
        h = normal_key(host)
        server = auth_key(h)
        removed: list[str] = []
        asked: set[str] = set()
        for path, doc in self._docs():
            names = [
                (n, kind)
                for n, kind in (
                    (self._cred_helper_for(doc, h), "credHelper"),
                    (self._creds_store(doc, h), "credsStore"),
                )
                if n
            ]
            for name, kind in names:
                helper = self._helper(name, kind, path)
                if name in asked:
                    continue
                asked.add(name)
                if helper.erase(server):
                    removed.append(helper.source)
            if self._remove_auths(doc, h):
                self._write(path, doc)
                removed.append(str(path))
        logger.info("erased the login for %s from %s", h, removed or "nowhere")
        return removed

    # ----------------------------------------------------------------- list

    def records(self) -> list[dict[str, str]]:
        """One row ``{registry, username, source}`` per stored login; never a secret.

        A helper that cannot be listed is skipped with a warning: one broken
        keychain should not hide every other login.
        """
        rows: list[dict[str, str]] = []
        seen: set[tuple[str, str]] = set()

        def add(key: str, username: str, source: str) -> None:
            registry = normal_key(key)
            if (registry, source) not in seen:
                seen.add((registry, source))
                rows.append({"registry": registry, "username": username, "source": source})

        for path, doc in self._docs():
            auths = doc.get("auths")
            if isinstance(auths, dict):
                for key, entry in auths.items():
                    decoded = _decode_entry(entry)
                    if decoded is not None:
                        add(str(key), decoded[0], str(path))
            helpers = doc.get("credHelpers")
            by_helper: dict[str, set[str]] = {}
            if isinstance(helpers, dict):
                for key, name in helpers.items():
                    if isinstance(name, str) and name:
                        by_helper.setdefault(name, set()).add(normalize_host(str(key)))
            for name, hosts in by_helper.items():
                for url, user in self._safe_list(self._helper(name, "credHelper", path)):
                    # A helper's keychain may hold other hosts; show only those routed to it.
                    if normalize_host(url) in hosts:
                        add(url, user, f"credHelper:{name}")
            store_name = self._creds_store(doc)
            if store_name:
                for url, user in self._safe_list(self._helper(store_name, "credsStore", path)):
                    add(url, user, f"credsStore:{store_name}")
        return rows

    @staticmethod
    def _safe_list(helper: Helper) -> list[tuple[str, str]]:
        try:
            return list(helper.list().items())
        except RegistryKitError as exc:
            logger.warning("cannot list the logins in %s: %s", helper.source, exc)
            return []
