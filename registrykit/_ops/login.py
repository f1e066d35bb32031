"""``login``, ``logout`` and ``credentials``: the authenticate step.

``login`` proves the credentials against ``/v2/`` first (through the token
flow when the registry asks for one) and stores them only then, the way
docker and podman do: the host's credential helper, else the file's
``credsStore``, else the auth file, written 0600 and atomically.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .._client import Client, get_client
from .._credentials.cloud import cloud_login_password
from .._model.errors import AuthenticationError
from .._model.registries import RegistryInfo, determine_registry

_CLOUD_KINDS = ("ecr", "gcr", "artifact-registry", "acr")


@dataclass(frozen=True)
class LoginResult:
    """The outcome of ``rk.login``: where you are logged in, and where it is stored."""

    registry: str
    username: str
    stored_in: str | None
    kind: str
    verified: bool = True
    _info: RegistryInfo | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        where = self.stored_in or "this client only (not stored)"
        return f"Login succeeded: {self.username} @ {self.registry}\n  stored in: {where}"

    def _repr_html_(self) -> str:
        where = html.escape(self.stored_in or "this client only (not stored)")
        return (
            f"<b>&#10003; Logged in</b> as <code>{html.escape(self.username)}</code> to "
            f"<code>{html.escape(self.registry)}</code><br>stored in: <code>{where}</code>"
        )


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
    ``store=False`` keeps the login in the client only.
    """
    client = get_client(client)
    info = determine_registry(registry)
    if password is None and info.kind in _CLOUD_KINDS:
        username, password = cloud_login_password(
            info.kind, info.host, region=info.region, registry_name=info.registry_name
        )
    if not username or password is None or password == "":
        raise AuthenticationError(
            f"a username and password (or token) are needed to log in to {info.host}. "
            f"{info.login_hint}"
        )
    probe = Client(
        settings=client.settings,
        insecure=client.insecure,
        ca_bundle=client.ca_bundle,
        cache_dir=None,
        transport=client._transport,
        logins={info.host: (username, password)},
        auth_file=client.auth_file,
    )
    with probe:
        try:
            probe.registry(info.host).check_login()
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"{info.host} refused the login for {username!r}: check the username and the "
                f"password or token (and that the token has not expired). {info.login_hint}",
                status=exc.status,
                errors=exc.errors,
            ) from None
    stored_in = None
    if store:
        stored_in = client.credentials.store(info.credential_key, username, password)
        client.remove_login(info.host)
    else:
        client.add_login(info.host, username, password)
    client.auth.forget(info.api_host)
    return LoginResult(info.host, username, stored_in, info.kind, _info=info)


def logout(registry: str, *, client: Client | None = None) -> list[str]:
    """Forget the login for ``registry`` everywhere it is stored; returns where."""
    client = get_client(client)
    info = determine_registry(registry)
    removed = client.credentials.erase(info.credential_key)
    client.remove_login(info.host)
    return removed


def credential_records(*, client: Client | None = None) -> list[dict[str, str]]:
    """Where you are logged in: ``registry, username, source`` rows, never a secret."""
    return get_client(client).credentials.records()
