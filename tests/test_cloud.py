"""Cloud logins: aws / gcloud / az faked on PATH, their argv recorded."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from registrykit._credentials.cloud import (
    ACR_USERNAME,
    acr_access_token,
    cloud_login_password,
    ecr_login_password,
    gcloud_access_token,
    json_key,
)
from registrykit._model.errors import AuthenticationError, RegistryKitError

TOKEN = "eyJ0b2tlbiI6ICJzZWNyZXQtY2xvdWQtdG9rZW4tOTg3NjUifQ"

FAKE_CLI = """#!{python}
import json, os, sys, time
with open(os.environ["FAKE_CLI_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
mode = os.environ.get("FAKE_CLI_MODE", "ok")
token = os.environ["FAKE_CLI_TOKEN"]
if mode == "hang":
    time.sleep(30)
if mode == "fail":
    print(token)
    sys.stderr.write("An error occurred (ExpiredToken): expired; token was " + token + "\\n")
    sys.exit(255)
if os.path.basename(sys.argv[0]) == "az":
    print(json.dumps({{"accessToken": token, "loginServer": "x.azurecr.io"}}))
else:
    print(token)
"""


@pytest.fixture
def clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("aws", "gcloud", "az"):
        path = bindir / name
        path.write_text(FAKE_CLI.format(python=sys.executable))
        path.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("FAKE_CLI_LOG", str(tmp_path / "argv.log"))
    monkeypatch.setenv("FAKE_CLI_TOKEN", TOKEN)
    monkeypatch.delenv("FAKE_CLI_MODE", raising=False)
    return tmp_path


def calls(root: Path) -> list[list[str]]:
    log = root / "argv.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_ecr(clis: Path) -> None:
    assert ecr_login_password("eu-west-1") == ("AWS", TOKEN)
    assert calls(clis) == [["aws", "ecr", "get-login-password", "--region", "eu-west-1"]]


def test_ecr_public(clis: Path) -> None:
    assert ecr_login_password("eu-west-1", public=True) == ("AWS", TOKEN)
    assert calls(clis) == [["aws", "ecr-public", "get-login-password", "--region", "us-east-1"]]


def test_gcloud(clis: Path) -> None:
    assert gcloud_access_token() == ("oauth2accesstoken", TOKEN)
    assert calls(clis) == [["gcloud", "auth", "print-access-token"]]


def test_acr(clis: Path) -> None:
    assert acr_access_token("myreg") == (ACR_USERNAME, TOKEN)
    assert ACR_USERNAME == "00000000-0000-0000-0000-000000000000"
    assert calls(clis) == [
        ["az", "acr", "login", "--name", "myreg", "--expose-token", "--output", "json"]
    ]


@pytest.mark.parametrize(
    ("kind", "host", "kwargs", "argv", "user"),
    [
        (
            "ecr",
            "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com",
            {},
            ["aws", "ecr", "get-login-password", "--region", "ap-southeast-2"],
            "AWS",
        ),
        (
            "ecr",
            "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com",
            {"region": "us-west-2"},
            ["aws", "ecr", "get-login-password", "--region", "us-west-2"],
            "AWS",
        ),
        (
            "ecr",
            "public.ecr.aws",
            {},
            ["aws", "ecr-public", "get-login-password", "--region", "us-east-1"],
            "AWS",
        ),
        ("gcr", "gcr.io", {}, ["gcloud", "auth", "print-access-token"], "oauth2accesstoken"),
        (
            "artifact-registry",
            "europe-docker.pkg.dev",
            {},
            ["gcloud", "auth", "print-access-token"],
            "oauth2accesstoken",
        ),
        (
            "acr",
            "https://contoso.azurecr.io/",
            {},
            ["az", "acr", "login", "--name", "contoso", "--expose-token", "--output", "json"],
            ACR_USERNAME,
        ),
        (
            "acr",
            "registry.example.com",
            {"registry_name": "other"},
            ["az", "acr", "login", "--name", "other", "--expose-token", "--output", "json"],
            ACR_USERNAME,
        ),
    ],
)
def test_cloud_login_password_dispatch(
    clis: Path,
    kind: str,
    host: str,
    kwargs: dict[str, str],
    argv: list[str],
    user: str,
) -> None:
    assert cloud_login_password(kind, host, **kwargs) == (user, TOKEN)
    assert calls(clis) == [argv]


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


@pytest.mark.parametrize(
    ("call", "remedy"),
    [
        (lambda: ecr_login_password("eu-west-1"), "aws configure"),
        (gcloud_access_token, "gcloud auth login"),
        (lambda: acr_access_token("r"), "az login"),
    ],
)
def test_failing_cli_error_has_stderr_but_never_the_token(
    clis: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    call: Callable[[], tuple[str, str]],
    remedy: str,
) -> None:
    monkeypatch.setenv("FAKE_CLI_MODE", "fail")
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as info:
        call()
    message = str(info.value)
    assert "ExpiredToken" in message and "exit 255" in message and remedy in message
    assert TOKEN not in message
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert TOKEN not in caplog.text


def test_successful_login_never_logs_the_token(
    clis: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        ecr_login_password("eu-west-1")
        gcloud_access_token()
        acr_access_token("r")
    assert "aws ecr get-login-password" in caplog.text
    assert TOKEN not in caplog.text


def test_hanging_cli_times_out(clis: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_CLI_MODE", "hang")
    with pytest.raises(AuthenticationError, match="did not finish"):
        gcloud_access_token(timeout=0.5)


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
