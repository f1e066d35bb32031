"""``LoginForm``: log in to a registry the way ``docker login`` does."""

from __future__ import annotations

import ipywidgets as w

from .._client import Client
from .._model.registries import RegistryInfo, determine_registry
from .._ops.login import login as login_operation
from ._common import (
    ERROR,
    OK,
    WIDE,
    Operation,
    busy,
    clear,
    friendly,
    on_click,
    set_status,
    status_line,
)

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
    An error shows without the registry's login hint: the hint is already
    shown under the registry, and a generic one ("usually no login is needed
    for a local registry") contradicts a registry that just asked for one.
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
        on_click(self.button, self.login)
        self.registry.observe(lambda _c: self._registry_changed(), names="value")
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

    def _registry_changed(self) -> None:
        self.result = None
        clear(self.status)
        self._show_hint()

    def _info(self) -> RegistryInfo | None:
        host = self.registry.value.strip()
        try:
            return determine_registry(host) if host else None
        except ValueError:
            return None

    def _show_hint(self) -> None:
        info = self._info()
        if info is None:
            self.hint.value = ""
            return
        self.hint.value = f"<small>{info.display_name}: <code>{info.login_hint}</code></small>"

    def _error_text(self, exc: BaseException) -> str:
        text = friendly(exc)
        info = self._info()
        if info is not None:
            text = text.replace(info.login_hint, "").strip()
        return text

    def login(self) -> object | None:
        registry = self.registry.value.strip()
        username = self.username.value.strip()
        password = self.password.value
        self.password.value = ""
        if not registry:
            set_status(self.status, "Enter the registry host first.", ERROR)
            return None
        self.result = None
        set_status(self.status, f"Logging in to {registry}…")
        try:
            with busy(self.button):
                self.result = self._login(
                    registry,
                    username or None,
                    password or None,
                    store=self.remember.value,
                    client=self.client,
                )
        except Exception as exc:  # a form shows the message with its remedy, not a traceback
            set_status(self.status, self._error_text(exc), ERROR)
            return None
        set_status(self.status, str(self.result).replace("\n", " — "), OK)
        return self.result


__all__ = ["LoginForm"]
