"""Cloud logins: aws / gcloud / az faked on PATH, their argv recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cloudclis import calls
from support.internals import (
    acr_access_token,
    cloud_login_password,
    ecr_login_password,
    gcloud_access_token,
    json_key,
)

from registrykit import AuthenticationError, RegistryKitError


def test_cloud_login_password_needs_what_it_cannot_derive(clis: Path) -> None:
    with pytest.raises(RegistryKitError, match="region="):
        cloud_login_password("ecr", "registry.example.com")
    with pytest.raises(RegistryKitError, match="registry_name="):
        cloud_login_password("acr", "registry.example.com")
    with pytest.raises(RegistryKitError, match="ecr, gcr"):
        cloud_login_password("dockerhub", "docker.io")
    assert calls(clis) == []


@pytest.mark.parametrize(
    ("call", "cli", "remedy"),
    [
        (lambda: ecr_login_password("eu-west-1"), "aws", "aws configure"),
        (gcloud_access_token, "gcloud", "gcloud auth login"),
        (lambda: acr_access_token("r"), "az", "az login"),
    ],
)
def test_missing_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: Callable[[], tuple[str, str]],
    cli: str,
    remedy: str,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AuthenticationError) as info:
        call()
    message = str(info.value)
    assert f"({cli}) is not on PATH" in message
    assert "install" in message and remedy in message


def test_json_key(tmp_path: Path) -> None:
    key = {"type": "service_account", "project_id": "p", "private_key": "-----BEGIN..."}
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    user, password = json_key(path)
    assert user == "_json_key"
    assert password == path.read_text()
    assert json_key(str(path)) == (user, password)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"private_key": "SECRETKEYMATERIAL", ', "not valid JSON"),
        ('{"type": "authorized_user", "private_key": "SECRETKEYMATERIAL"}', "service_account"),
        ('["SECRETKEYMATERIAL"]', "service_account"),
    ],
)
def test_json_key_rejects_other_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(content)
    with pytest.raises(AuthenticationError, match=match) as info:
        json_key(path)
    assert "SECRETKEYMATERIAL" not in str(info.value)


def test_json_key_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match="Cannot read"):
        json_key(tmp_path / "nope.json")
