"""A real registry on 127.0.0.1, started and stopped from Python.

``LocalRegistry`` runs the CNCF distribution registry binary (``registry``,
packaged by Debian and Ubuntu as ``docker-registry``) with its own storage,
port, config and log, so notebooks, tests and demos get a genuine OCI
Distribution endpoint without a container runtime::

    with LocalRegistry(auth="htpasswd") as reg:
        print(reg.url, reg.username)   # the password is reg.password

Nothing outside its own work directory is touched, and ``stop()`` ends only
the process it started.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import httpx

from .._model.errors import RegistryKitError, RegistryUnavailable
from .tls import TLSFiles, make_self_signed

__all__ = ["LocalRegistry", "find_registry_binary"]

log = logging.getLogger(__name__)

BINARY_ENV = "REGISTRYKIT_REGISTRY_BIN"
_BINARY_NAMES = ("registry", "docker-registry")
# Debian installs the binary here; check it even when /usr/bin is not on
# PATH (minimal service environments, tests that empty PATH on purpose).
_BINARY_FALLBACKS = (Path("/usr/bin/docker-registry"),)

AuthMode = Literal["htpasswd", "token"]
_AUTH_MODES = (None, "htpasswd", "token")
_LOG_LEVELS = ("error", "warn", "info", "debug")

# bcrypt cost for the htpasswd file. The registry checks the hash on every
# authenticated request, so the default cost (12, ~250 ms) would make a test
# suite crawl; these are throwaway loopback credentials, and `htpasswd -B`
# itself defaults to 5.
_BCRYPT_ROUNDS = 5
# How many fresh ports to try when another process grabs the free port
# between our probe and the registry's bind.
_PORT_ATTEMPTS = 3
_LOG_TAIL_LINES = 30


def _install_hint() -> str:
    hint = (
        "registrykit.LocalRegistry needs the CNCF distribution registry binary. "
        "Install it with `sudo apt-get install docker-registry` (Debian/Ubuntu; "
        "other systems: https://github.com/distribution/distribution/releases), "
        f"or point {BINARY_ENV} at the `registry` executable."
    )
    runtime = shutil.which("docker") or shutil.which("podman")
    if runtime:
        tool = Path(runtime).name
        hint += (
            f" Alternatively run one with {tool}: `{tool} run -d -p 5000:5000 registry:2` "
            "and use localhost:5000."
        )
    return hint


def find_registry_binary() -> Path:
    """Locate the registry executable or raise ``RegistryUnavailable``.

    ``REGISTRYKIT_REGISTRY_BIN`` wins when set: a user who names a binary
    wants that one, so a wrong path is an error rather than a silent fallback.
    """
    configured = os.environ.get(BINARY_ENV)
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise RegistryUnavailable(
            f"{BINARY_ENV}={configured!r} is not an executable file. " + _install_hint()
        )
    for name in _BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    for candidate in _BINARY_FALLBACKS:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RegistryUnavailable("No registry binary found on PATH. " + _install_hint())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _yaml(value: Any, indent: int = 0) -> str:
    """Render nested dicts of scalars as block YAML.

    Scalars are written as JSON, which YAML reads as the same values; this
    avoids a PyYAML dependency for a config file this small.
    """
    lines: list[str] = []
    pad = "  " * indent
    for key, item in value.items():
        if isinstance(item, Mapping):
            lines.append(f"{pad}{key}:")
            lines.append(_yaml(item, indent + 1))
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return "\n".join(lines)


def _bcrypt_hash(password: str) -> str:
    try:
        import bcrypt
    except ImportError:
        pass
    else:
        hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=_BCRYPT_ROUNDS))
        return hashed.decode()
    tool = shutil.which("htpasswd")
    if tool:
        # -i reads the password from stdin, so it never shows up in `ps`.
        out = subprocess.run(
            [tool, "-niB", "-C", str(_BCRYPT_ROUNDS), "user"],
            input=password,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.strip().split(":", 1)[1]
    raise RegistryKitError(
        "htpasswd auth needs bcrypt hashes (the registry accepts nothing else): "
        "`pip install bcrypt`, or install the `htpasswd` tool (apache2-utils)."
    )


def _child_env() -> dict[str, str]:
    # The registry reads every REGISTRY_* variable as a config override
    # (REGISTRY_HTTP_ADDR, ...), and unrelated ones such as skopeo's
    # REGISTRY_AUTH_FILE make it refuse to start, so none may reach it.
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}


class LocalRegistry:
    """A distribution registry process on ``127.0.0.1`` with private storage.

    ``auth`` is ``None`` (open), ``"htpasswd"`` (basic auth for ``username``
    and ``users``; a random password is generated when none is given) or
    ``"token"`` (bearer tokens from ``token_realm``, signed by a key whose
    certificate is in ``token_rootcertbundle``). ``tls=True`` serves https
    with a fresh CA, found at ``ca_file``. ``data_dir`` keeps the storage
    across restarts; without it storage is a temp dir removed by ``stop()``.
    """

    def __init__(
        self,
        *,
        auth: AuthMode | None = None,
        username: str = "registrykit",
        password: str | None = None,
        users: Mapping[str, str] | None = None,
        tls: bool = False,
        token_realm: str | None = None,
        token_service: str = "registrykit-local",
        token_issuer: str = "registrykit-token-issuer",
        token_rootcertbundle: str | Path | None = None,
        data_dir: str | Path | None = None,
        port: int | None = None,
        log_level: str = "warn",
        startup_timeout: float = 15.0,
    ) -> None:
        if auth not in _AUTH_MODES:
            raise ValueError(f"auth must be None, 'htpasswd' or 'token', not {auth!r}")
        if log_level not in _LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(_LOG_LEVELS)}")
        if auth == "token" and (not token_realm or token_rootcertbundle is None):
            raise ValueError("auth='token' needs token_realm and token_rootcertbundle")
        if ":" in username:
            raise ValueError("htpasswd user names cannot contain ':'")
        # Fixed for the registry's life: plain attributes.
        self.auth = auth
        self._username = username
        if password is None and auth == "htpasswd":
            # Hex: never starts with "-", which `registrykit login -p` would take for an option.
            password = secrets.token_hex(16)
        self._password = password
        self._users = dict(users or {})
        self.tls = tls
        self._token_realm = token_realm
        self.token_service = token_service
        self._token_issuer = token_issuer
        self._token_rootcertbundle = (
            Path(token_rootcertbundle).resolve() if token_rootcertbundle is not None else None
        )
        self._persistent_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._requested_port = port
        self._log_level = log_level
        self._startup_timeout = startup_timeout

        self._port: int | None = None
        self._last_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None
        self._workdir: Path | None = None
        self._data_dir: Path | None = None
        self._ca_file: Path | None = None
        self._tls_files: TLSFiles | None = None
        self._log_file: Path | None = None

    # -- properties -------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RegistryUnavailable("LocalRegistry is not started; call start() first")
        return self._port

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as references name it; after ``stop()`` still the last address."""
        return f"127.0.0.1:{self.port if self._port or not self._last_port else self._last_port}"

    @property
    def url(self) -> str:
        """Where to reach it: http, or https with ``tls=True``."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}"

    @property
    def username(self) -> str | None:
        """The htpasswd user, or None when the registry does not use htpasswd."""
        return self._username if self.auth == "htpasswd" else None

    @property
    def password(self) -> str | None:
        return self._password if self.auth == "htpasswd" else None

    @property
    def users(self) -> dict[str, str]:
        """Every htpasswd user and password, ``username`` included."""
        if self.auth != "htpasswd":
            return {}
        assert self._password is not None
        return {**self._users, self._username: self._password}

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate that verifies this registry (tls=True), else None."""
        return self._ca_file

    @property
    def data_dir(self) -> Path | None:
        """Storage root: the persistent ``data_dir`` or, while running, the temp one."""
        return self._persistent_dir or self._data_dir

    @property
    def workdir(self) -> Path | None:
        """The running registry's temp dir (config, certificates, log); None when stopped."""
        return self._workdir

    @property
    def log_file(self) -> Path | None:
        """The registry's log, the first place to look when it misbehaves."""
        return self._log_file

    @property
    def config_file(self) -> Path | None:
        return self._workdir / "config.yml" if self._workdir else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __repr__(self) -> str:
        # Never the password: reprs end up in notebooks and logs.
        state = f"url={self.url!r}" if self._last_port is not None else "not started"
        parts = [state, f"auth={self.auth!r}"]
        if self.auth == "htpasswd":
            parts.append(f"username={self._username!r}")
        if self._persistent_dir is not None:
            parts.append(f"data_dir={str(self._persistent_dir)!r}")
        parts.append(f"running={self.running}")
        return f"LocalRegistry({', '.join(parts)})"

    # -- lifecycle ----------------------------------------------------------

    def __enter__(self) -> LocalRegistry:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalRegistry:
        """Start the registry and wait until ``/v2/`` answers; returns self."""
        if self.running:
            return self
        binary = find_registry_binary()
        self._workdir = Path(tempfile.mkdtemp(prefix="registrykit-registry-"))
        try:
            self._prepare_files()
            attempts = 1 if self._requested_port is not None else _PORT_ATTEMPTS
            for attempt in range(1, attempts + 1):
                self._port = self._requested_port or _free_port()
                self._write_config()
                self._spawn(binary)
                try:
                    self._wait_ready()
                except RegistryUnavailable:
                    port_taken = "address already in use" in self._log_tail()
                    if port_taken and attempt < attempts:
                        log.debug("port %s was taken before the registry bound it", self._port)
                        self._terminate()
                        continue
                    raise
                break
        except BaseException:
            self.stop()
            raise
        self._last_port = self._port
        atexit.register(self.stop)
        log.info("local registry %s running (pid %s)", self.url, self.pid)
        return self

    def stop(self) -> None:
        """Stop the process and remove temp files; safe to call repeatedly."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        self._terminate()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None
        self._data_dir = None
        self._ca_file = None
        self._tls_files = None
        self._log_file = None
        self._port = None

    # -- internals ------------------------------------------------------------

    def _prepare_files(self) -> None:
        assert self._workdir is not None
        self._log_file = self._workdir / "registry.log"
        if self._persistent_dir is not None:
            self._persistent_dir.mkdir(parents=True, exist_ok=True)
            self._data_dir = self._persistent_dir
        else:
            self._data_dir = self._workdir / "data"
            self._data_dir.mkdir()
        if self.tls:
            self._tls_files = make_self_signed(self._workdir / "tls")
            self._ca_file = self._tls_files.ca_file
        if self.auth == "htpasswd":
            lines = [f"{user}:{_bcrypt_hash(pw)}" for user, pw in self.users.items()]
            htpasswd = self._workdir / "htpasswd"
            htpasswd.write_text("\n".join(lines) + "\n")
            htpasswd.chmod(0o600)

    def _write_config(self) -> None:
        assert self._workdir is not None and self._data_dir is not None
        http: dict[str, Any] = {
            "addr": f"127.0.0.1:{self._port}",
            # A fixed secret keeps upload-session state valid across this
            # process's lifetime; random so no two registries share one.
            "secret": secrets.token_hex(16),
        }
        if self._tls_files is not None:
            http["tls"] = {
                "certificate": str(self._tls_files.cert_file),
                "key": str(self._tls_files.key_file),
            }
        config: dict[str, Any] = {
            "version": "0.1",
            "log": {"level": self._log_level, "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self._data_dir)},
                "delete": {"enabled": True},
                # As Debian's packaged config does: blob lookups served from
                # memory instead of a filesystem walk per HEAD/GET.
                "cache": {"blobdescriptor": "inmemory"},
                # The purge goroutine only deletes stale uploads; a short-lived
                # registry does not need it.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
        }
        if self.auth == "htpasswd":
            config["auth"] = {
                "htpasswd": {"realm": "registrykit-local", "path": str(self._workdir / "htpasswd")}
            }
        elif self.auth == "token":
            config["auth"] = {
                "token": {
                    "realm": self._token_realm,
                    "service": self.token_service,
                    "issuer": self._token_issuer,
                    "rootcertbundle": str(self._token_rootcertbundle),
                }
            }
        (self._workdir / "config.yml").write_text(_yaml(config) + "\n")

    def _spawn(self, binary: Path) -> None:
        assert self._workdir is not None and self._log_file is not None
        if self._log_handle is not None:
            self._log_handle.close()
        self._log_handle = self._log_file.open("ab")
        cmd = [str(binary), "serve", str(self._workdir / "config.yml")]
        log.debug("starting %s", " ".join(cmd))
        self._proc = subprocess.Popen(
            cmd,
            cwd=self._workdir,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )

    def _ssl_context(self) -> ssl.SSLContext | bool:
        if self._ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self._ca_file))

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._startup_timeout
        url = f"{self.url}/v2/"
        with httpx.Client(verify=self._ssl_context(), timeout=2.0, trust_env=False) as client:
            while True:
                code = self._proc.poll()
                if code is not None:
                    raise RegistryUnavailable(
                        f"the registry exited with status {code} during startup; "
                        f"its log ends with:\n{self._log_tail()}"
                    )
                try:
                    status = client.get(url).status_code
                except httpx.TransportError:
                    status = None
                if status in (200, 401):
                    return
                if time.monotonic() > deadline:
                    raise RegistryUnavailable(
                        f"the registry did not answer {url} within {self._startup_timeout:g} s"
                        f" (last status {status}); its log ends with:\n{self._log_tail()}"
                    )
                time.sleep(0.05)

    def _log_tail(self) -> str:
        if self._log_file is None or not self._log_file.exists():
            return "(no log)"
        if self._log_handle is not None:
            self._log_handle.flush()
        lines = self._log_file.read_text(errors="replace").splitlines()
        return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(empty log)"

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # Only ever this Popen's own PID: other registries (other tests,
            # the user's own) may be running on the same machine.
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("registry pid %s ignored SIGTERM; killing it", proc.pid)
                proc.kill()
                proc.wait(timeout=5)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
