"""``LoginForm``: log in to a registry the way ``docker login`` does."""

from __future__ import annotations

import ipywidgets as w

from .._client import Client
from .._model.registries import determine_registry
from .._ops.login import login as login_operation
from ._common import ERROR, OK, WIDE, Operation, friendly, set_status, status_line

KNOWN_REGISTRIES = (
    "docker.io",
    "ghcr.io",
    "registry.gitlab.com",
    "quay.io",
    "public.ecr.aws",
    "gcr.io",
    "localhost:5000",
)


class LoginForm(w.VBox):  # type: ignore[misc]
    """Registry, username, password and "remember"; Login verifies, then stores.

    The password lives only in the ``Password`` widget until Login is pressed
    and is cleared right after, whatever the outcome. It is never echoed.
    ``login`` is the operation called (``rk.login`` by default).
    """

    def __init__(
        self, registry: str = "", *, client: Client | None = None, login: Operation | None = None
    ) -> None:
        self.registry = w.Combobox(
            value=registry,
            options=list(KNOWN_REGISTRIES),
            placeholder="registry host, e.g. ghcr.io",
            description="Registry",
            ensure_option=False,
            layout=WIDE,
        )
        self.username = w.Text(description="Username")
        self.password = w.Password(description="Password")
        self.remember = w.Checkbox(
            indent=False, value=True, description="Remember (store like docker/podman)"
        )
        self.button = w.Button(description="Login", button_style="primary", icon="sign-in")
        self.hint = w.HTML()
        self.status = status_line()
        self.client = client
        self._login = login or login_operation
        self.result: object | None = None
        self.button.on_click(lambda _b: self.login())
        self.registry.observe(lambda _c: self._show_hint(), names="value")
        self._show_hint()
        super().__init__(
            [
                self.registry,
                self.hint,
                self.username,
                self.password,
                self.remember,
                self.button,
                self.status,
            ]
        )

    def _show_hint(self) -> None:
        host = self.registry.value.strip()
        if not host:
            self.hint.value = ""
            return
        try:
            info = determine_registry(host)
        except ValueError:
            self.hint.value = ""
            return
        self.hint.value = f"<small>{info.display_name}: <code>{info.login_hint}</code></small>"

    def login(self) -> object | None:
        registry = self.registry.value.strip()
        username = self.username.value.strip()
        password = self.password.value
        self.password.value = ""
        if not registry:
            set_status(self.status, "Enter the registry host first.", ERROR)
            return None
        set_status(self.status, f"Logging in to {registry}…")
        try:
            self.result = self._login(
                registry,
                username or None,
                password or None,
                store=self.remember.value,
                client=self.client,
            )
        except Exception as exc:  # a form shows the message with its remedy, not a traceback
            set_status(self.status, friendly(exc), ERROR)
            return None
        set_status(self.status, str(self.result).replace("\n", " — "), OK)
        return self.result


__all__ = ["LoginForm"]
