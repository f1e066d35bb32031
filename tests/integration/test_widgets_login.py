"""LoginForm driven from Python (set values, click) against a real registry."""

from __future__ import annotations

import json
import logging

from support.podman import docker_stand_in

import registrykit as rk
from registrykit.widgets import LoginForm


def test_login_form_logs_in_stores_and_clears_the_password(
    htpasswd_registry, isolated_home, caplog, tmp_path, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    docker_stand_in(tmp_path, monkeypatch)  # docker (with a daemon) is the runtime: its file
    with rk.Client(cache_dir=None) as client:
        form = LoginForm(client=client)
        form.registry.value = htpasswd_registry.host
        assert "docker login" in form.hint.value
        form.username.value = htpasswd_registry.username
        form.password.value = htpasswd_registry.password
        form.button.click()
        assert form.password.value == ""
        assert "Login succeeded" in form.status.value
        config = json.loads((isolated_home / ".docker" / "config.json").read_text())
        assert htpasswd_registry.host in config["auths"]
        assert htpasswd_registry.password not in form.status.value
        assert htpasswd_registry.password not in caplog.text
        assert isinstance(list(client.registry(htpasswd_registry.host).catalog()), list)


def test_login_form_shows_the_error_with_its_remedy(htpasswd_registry, isolated_home):
    with rk.Client(cache_dir=None) as client:
        form = LoginForm(htpasswd_registry.host, client=client)
        form.username.value = htpasswd_registry.username
        form.password.value = "wrong-password-123"
        form.button.click()
    assert form.password.value == ""
    assert "refused the login" in form.status.value
    assert "wrong-password-123" not in form.status.value
    assert "Traceback" not in form.status.value
    assert not (isolated_home / ".docker" / "config.json").exists()


def test_login_form_remember_off_keeps_the_login_in_the_client(htpasswd_registry, isolated_home):
    with rk.Client(cache_dir=None) as client:
        form = LoginForm(htpasswd_registry.host, client=client)
        form.remember.value = False
        form.username.value = htpasswd_registry.username
        form.password.value = htpasswd_registry.password
        form.login()
        assert "not stored" in form.status.value
        assert not (isolated_home / ".docker" / "config.json").exists()
        assert isinstance(list(client.registry(htpasswd_registry.host).catalog()), list)
