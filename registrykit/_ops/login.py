"""``login``, ``logout`` and ``credentials``: the authenticate step.

``login`` proves the credentials against ``/v2/`` first (through the token
flow when the registry asks for one) and stores them only then, the way
docker and podman do: the host's credential helper, else the file's
``credsStore``, else the auth file, written 0600 and atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .._client import Client, get_client
from .._credentials.cloud import cloud_login_password
from .._credentials.keychain import Login
from .._credentials.store import login_scope
from .._model.errors import AuthenticationError
from .._model.registries import CLOUD_KINDS, determine_registry
from .._model.render import Summary, Value

__all__ = ["LoginResult", "LogoutResult", "credential_records", "login", "logout"]

_CLIENT_ONLY = "this client only (not stored)"


@dataclass(frozen=True)
class LoginResult(Summary):
    """The outcome of ``rk.login``: where you are logged in, and where it is stored."""

    registry: str
    username: str
    stored_in: str | None
    kind: str
    verified: bool = True

    def _title(self) -> str:
        return f"Login succeeded: {self.username} @ {self.registry}"

    def _rows(self) -> list[tuple[str, Value]]:
        return [("stored in", self.stored_in or _CLIENT_ONLY)]


class LogoutResult(list[str], Summary):
    """Where ``rk.logout`` removed a login from: a list of files and helpers."""

    def __init__(self, registry: str, removed: Iterable[str]) -> None:
        super().__init__(removed)
        self.registry = registry

    def _title(self) -> str:
        return f"Logged out of {self.registry}"

    def _rows(self) -> list[tuple[str, Value]]:
        return [("removed from", list(self) or "nowhere (no login found)")]

    def __repr__(self) -> str:
        return f"LogoutResult({self.registry!r}, {list(self)!r})"


def login(
    registry: str,
    username: str | None = None,
    password: str | None = None,
    *,
    store: bool = True,
    client: Client | None = None,
) -> LoginResult:
    """Log in to ``registry``: verify against ``/v2/``, then store the login.

    For ECR, GCR/Artifact Registry and ACR, leaving out the password asks the
    cloud CLI (``aws``, ``gcloud``, ``az``) for a short-lived token.
    ``store=False`` keeps the login in the client only. ``HOST/NAMESPACE``
    stores a login for that namespace alone, as ``podman login`` does. The client is
    changed only after the registry accepted the login.
    """
    client = get_client(client)
    info = determine_registry(registry)
    if password is None and info.kind in CLOUD_KINDS:
        username, password = cloud_login_password(info.kind, info.host)
    if not username or password is None or password == "":
        raise AuthenticationError(
            f"a username and password (or token) are needed to log in to {info.host}. "
            f"{info.login_hint}"
        )
    try:
        client.verify_login(info.host, Login.of(username, password))
    except AuthenticationError as exc:
        raise AuthenticationError(
            f"{info.host} refused the login for {username!r}: check the username and the "
            f"password or token (and that the token has not expired). {info.login_hint}",
            status=exc.status,
            errors=exc.errors,
        ) from None
    stored_in = None
    if store:
        key = login_scope(registry) or info.credential_key
        stored_in = client.credentials.store(key, username, password)
        client.remove_login(info.host)
    else:
        client.add_login(info.host, username, password)
    return LoginResult(info.host, username, stored_in, info.kind)


def logout(registry: str, *, client: Client | None = None) -> LogoutResult:
    """Forget the login for ``registry`` everywhere it is stored; says where."""
    client = get_client(client)
    info = determine_registry(registry)
    removed = client.credentials.erase(login_scope(registry) or info.credential_key)
    client.remove_login(info.host)
    return LogoutResult(info.host, removed)


def credential_records(*, client: Client | None = None) -> list[dict[str, str]]:
    """Where you are logged in: ``registry, username, source`` rows, never a secret."""
    return get_client(client).credentials.records()
