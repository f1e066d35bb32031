"""``Keychain``: the logins a client uses, looked up by host.

Logins given to one client (``Client(logins=...)``, ``login(store=False)``)
stand in front of the stored ones (config files, credential helpers), as in
go-containerregistry's ``authn.Keychain``. The auth flow gets a keychain
passed down and never calls back up into the client.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._model.hosts import normalize_host
from .helpers import TOKEN_USERNAME
from .process import remember_secret
from .store import CredentialStore

__all__ = ["Keychain", "Login"]


@dataclass(frozen=True)
class Login:
    """What the auth flow needs from a credential. The secret never shows in a repr."""

    username: str
    secret: str = field(repr=False)
    identity_token: bool = False

    def __repr__(self) -> str:
        return f"Login(username={self.username!r}, secret=***)"

    @classmethod
    def of(cls, username: str, secret: str) -> Login:
        """A login as a user types it; a ``<token>`` username means an identity token."""
        return cls(username, secret, identity_token=username == TOKEN_USERNAME)


class Keychain:
    """Client-only logins, then the ``store``'s (when there is one), by registry host.

    Hosts are compared as :func:`normalize_host` spells them, so an API host
    (``registry-1.docker.io``), a registry host and an auth-file key for the
    same registry find the same login.
    """

    def __init__(
        self,
        store: CredentialStore | None = None,
        logins: Mapping[str, Login] | None = None,
    ) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._logins = {normalize_host(h): login for h, login in (logins or {}).items()}

    @classmethod
    def single(cls, host: str, login: Login) -> Keychain:
        """A keychain that knows only ``login``, for ``host`` (to verify it before storing)."""
        return cls(None, {host: login})

    def __repr__(self) -> str:
        return f"Keychain(logins={self.hosts()!r}, store={self.store!r})"

    def hosts(self) -> list[str]:
        """The hosts with a client-only login."""
        with self._lock:
            return sorted(self._logins)

    def add(self, host: str, login: Login) -> None:
        with self._lock:
            self._logins[normalize_host(host)] = login

    def remove(self, host: str) -> None:
        with self._lock:
            self._logins.pop(normalize_host(host), None)

    def resolve(self, host: str, repository: str | None = None) -> Login | None:
        """The login for ``host`` (a registry or API host), or None for anonymous access.

        ``repository`` lets a stored namespaced login (``host/team``) answer for
        ``team/app``; client-only logins hold whole hosts.
        """
        key = normalize_host(host)
        with self._lock:
            found = self._logins.get(key)
        if found is None and self.store is not None:
            stored = self.store.get(key, repository)
            if stored is not None:
                found = Login(stored.username, stored.secret, identity_token=stored.identity_token)
        if found is not None:
            # Whatever may be sent is scrubbed from every message built later.
            remember_secret(found.secret)
            remember_secret(f"{found.username}:{found.secret}")
        return found
