"""Cloud logins that run the aws / gcloud / az fakes on PATH; their argv recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cloudclis import TOKEN, calls
from support.internals import (
    ACR_USERNAME,
    acr_access_token,
    cloud_login_password,
    ecr_login_password,
    gcloud_access_token,
)

from registrykit import AuthenticationError


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
