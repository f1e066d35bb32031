"""Short-lived registry passwords from the cloud providers' CLIs.

ECR, GCR/Artifact Registry and ACR accept a token the provider's own CLI
mints from the user's cloud login. Each function here runs that CLI (with a
timeout) and returns ``(username, password)`` for an ordinary registry login.
The token arrives on the CLI's stdout; it is never logged and never copied
into an exception: error messages carry only the CLI's (scrubbed) stderr and
what to do about it.
"""

from __future__ import annotations

import json
import logging
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from .._model.errors import AuthenticationError, RegistryKitError
from .._model.registries import determine_registry
from .process import run_tool, scrub

__all__ = [
    "ACR_USERNAME",
    "acr_access_token",
    "cloud_login_password",
    "ecr_login_password",
    "gcloud_access_token",
    "json_key",
]

logger = logging.getLogger(__name__)

#: The username ACR expects with a token from ``az acr login --expose-token``.
ACR_USERNAME = "00000000-0000-0000-0000-000000000000"

# cli → (what to install, where to get it, how to log the CLI in)
_CLIS: dict[str, tuple[str, str, str]] = {
    "aws": ("the AWS CLI", "https://aws.amazon.com/cli/", "aws configure (or aws sso login)"),
    "gcloud": (
        "the Google Cloud CLI",
        "https://cloud.google.com/sdk/docs/install",
        "gcloud auth login",
    ),
    "az": (
        "the Azure CLI",
        "https://learn.microsoft.com/cli/azure/install-azure-cli",
        "az login",
    ),
}


def _run_cli(argv: Sequence[str], timeout: float) -> str:
    """Run a cloud CLI and return its stdout; errors name the CLI and the remedy."""
    cli = argv[0]
    what, url, login = _CLIS[cli]
    command = shlex.join(argv)
    path = shutil.which(cli)
    if path is None:
        raise AuthenticationError(
            f"{what} ({cli}) is not on PATH; install it from {url}, run `{login}`, "
            f"and check that `{command}` works."
        )
    logger.debug("running %s", command)
    try:
        proc = run_tool([path, *argv[1:]], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AuthenticationError(
            f"`{command}` did not finish within {timeout:g} s (it may be waiting for an "
            f"interactive login); run `{login}` in a terminal first."
        ) from None
    except OSError as exc:
        raise AuthenticationError(
            f"`{command}` could not be started ({exc.strerror or type(exc).__name__}); "
            f"reinstall {what} from {url}."
        ) from None
    if proc.returncode != 0:
        # stdout may hold a token even on failure; only stderr is reported, and
        # any stdout text it happens to repeat is removed.
        leaked = [line.strip() for line in (proc.stdout or "").splitlines()]
        detail = scrub(proc.stderr or "", *(s for s in leaked if len(s) >= 8))
        raise AuthenticationError(
            f"`{command}` failed (exit {proc.returncode}): {detail or 'no message'}. "
            f"Check the cloud login with `{login}` and that it may read the registry."
        )
    logger.debug("%s returned a token", command)
    return proc.stdout or ""


def ecr_login_password(
    region: str, *, public: bool = False, timeout: float = 60.0
) -> tuple[str, str]:
    """``(AWS, password)`` from ``aws ecr get-login-password`` (``ecr-public`` if public).

    ECR Public tokens are only issued in us-east-1, whatever ``region`` says.
    """
    if public:
        argv = ["aws", "ecr-public", "get-login-password", "--region", "us-east-1"]
    else:
        argv = ["aws", "ecr", "get-login-password", "--region", region]
    token = _run_cli(argv, timeout).strip()
    if not token:
        raise AuthenticationError(
            f"`{shlex.join(argv)}` printed no password; run `aws configure` and try again."
        )
    return "AWS", token


def gcloud_access_token(*, timeout: float = 60.0) -> tuple[str, str]:
    """``(oauth2accesstoken, token)`` from ``gcloud auth print-access-token``."""
    argv = ["gcloud", "auth", "print-access-token"]
    token = _run_cli(argv, timeout).strip()
    if not token:
        raise AuthenticationError(
            "`gcloud auth print-access-token` printed no token; run `gcloud auth login`."
        )
    return "oauth2accesstoken", token


def json_key(path: str | PathLike[str]) -> tuple[str, str]:
    """``(_json_key, key file content)`` for a Google service-account key file."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthenticationError(
            f"Cannot read the service-account key file {p} ({exc.strerror or exc}); "
            "check the path, or create a key with `gcloud iam service-accounts keys create`."
        ) from None
    try:
        doc = json.loads(text)
    except ValueError:
        # The decoder's message could quote the key; say only where it is.
        raise AuthenticationError(
            f"{p} is not valid JSON, so it is not a service-account key; download the key "
            "again from the Google Cloud console."
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "service_account":
        raise AuthenticationError(
            f'{p} is JSON but not a service-account key (no "type": "service_account"); '
            "use a key created with `gcloud iam service-accounts keys create`."
        )
    return "_json_key", text


def acr_access_token(name: str, *, timeout: float = 60.0) -> tuple[str, str]:
    """``(00000000-…, accessToken)`` from ``az acr login --name NAME --expose-token``."""
    argv = ["az", "acr", "login", "--name", name, "--expose-token", "--output", "json"]
    out = _run_cli(argv, timeout)
    try:
        doc = json.loads(out)
        token = doc["accessToken"]
    except (ValueError, KeyError, TypeError):
        raise AuthenticationError(
            f"`{shlex.join(argv)}` did not print the expected JSON with an accessToken; "
            "update the Azure CLI and run `az login`."
        ) from None
    if not isinstance(token, str) or not token:
        raise AuthenticationError(
            f"`{shlex.join(argv)}` returned an empty accessToken; run `az login` and check "
            f"access to the registry {name}."
        )
    return ACR_USERNAME, token


def cloud_login_password(
    kind: str,
    host: str,
    *,
    region: str | None = None,
    registry_name: str | None = None,
) -> tuple[str, str]:
    """``(username, password)`` for a cloud registry ``host`` of the given ``kind``.

    ``kind`` is ``ecr``, ``gcr``, ``artifact-registry`` or ``acr``. The ECR
    region comes from ``<account>.dkr.ecr.<region>.amazonaws.com`` and the
    ACR name from ``<name>.azurecr.io`` unless given.
    """
    # The region and registry name are spelled in the host; determine_registry reads them.
    info = determine_registry(host)
    if kind == "ecr":
        if info.public:
            return ecr_login_password(region or "us-east-1", public=True)
        region = region or info.region
        if region is None:
            raise RegistryKitError(
                f"Cannot tell the AWS region from {host!r}; pass region= (ECR hosts look "
                "like <account>.dkr.ecr.<region>.amazonaws.com)."
            )
        return ecr_login_password(region)
    if kind in ("gcr", "artifact-registry"):
        return gcloud_access_token()
    if kind == "acr":
        registry_name = registry_name or info.registry_name
        if registry_name is None:
            raise RegistryKitError(
                f"Cannot tell the ACR registry name from {host!r}; pass registry_name= "
                "(ACR hosts look like <name>.azurecr.io)."
            )
        return acr_access_token(registry_name)
    raise RegistryKitError(
        f"No cloud login for registry kind {kind!r}; use one of ecr, gcr, "
        "artifact-registry, acr, or log in with a username and password."
    )
