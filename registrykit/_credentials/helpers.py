"""The ``docker-credential-<name>`` protocol: ``get``, ``store``, ``erase``, ``list``.

A ``credHelpers`` or ``credsStore`` entry in a docker or podman config names
such a program; it keeps the secret in a keychain instead of the file.
Secrets only ever travel over the program's stdin and stdout, never in argv.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from .._model.errors import RegistryKitError
from .process import run_tool, scrub

__all__ = ["TOKEN_USERNAME", "Credential", "Helper"]

logger = logging.getLogger(__name__)

#: Helpers answer ``get`` for an unknown server with this text and a non-zero exit.
_NOT_FOUND = "credentials not found"
#: Docker's convention: a helper ``Username`` of ``<token>`` means the secret
#: is an identity (refresh) token, not a password.
TOKEN_USERNAME = "<token>"
# A "Secret" field in a helper's output, however it is spaced.
_SECRET_FIELD_RE = re.compile(r'"Secret"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True, repr=False)
class Credential:
    """A stored login. ``secret`` is a password, token or identity token.

    ``source`` says where it came from: a file path, ``credHelper:NAME`` or
    ``credsStore:NAME``. The repr and str never show the secret.
    """

    username: str
    secret: str = field(repr=False)
    identity_token: bool = False
    source: str = ""

    def __repr__(self) -> str:
        return (
            f"Credential(username={self.username!r}, secret='***', "
            f"identity_token={self.identity_token!r}, source={self.source!r})"
        )

    __str__ = __repr__


class Helper:
    """One ``docker-credential-<name>`` program and its four verbs."""

    def __init__(self, name: str, kind: str, config: Path, timeout: float) -> None:
        self.name = name
        self.kind = kind  # "credHelper" or "credsStore": where the file named it
        self.config = config
        self.timeout = timeout
        self.program = f"docker-credential-{name}"
        self.source = f"{kind}:{name}"  # what Credential.source and records() show

    def _remedy(self) -> str:
        key = "credsStore" if self.kind == "credsStore" else "its credHelpers entry"
        return (
            f"install {self.program} and make sure it is on PATH, or remove {key} "
            f"from {self.config}"
        )

    def _run(self, verb: str, payload: str) -> subprocess.CompletedProcess[str]:
        path = shutil.which(self.program)
        if path is None:
            raise RegistryKitError(
                f"{self.config} names the credential helper {self.program!r} "
                f"({self.source}), but it is not on PATH; {self._remedy()}."
            )
        try:
            # Only the verb goes in argv; the server URL and secrets go over stdin.
            return run_tool([path, verb], timeout=self.timeout, input=payload, errors="strict")
        except subprocess.TimeoutExpired:
            raise RegistryKitError(
                f"The credential helper {self.program} did not answer {verb!r} within "
                f"{self.timeout:g} s (it may be waiting for a keychain prompt); unlock the "
                f"keychain or {self._remedy()}."
            ) from None
        except UnicodeDecodeError:
            # Never echo the output back: it may hold the secret.
            raise RegistryKitError(
                f"The credential helper {self.program} answered {verb!r} with text that "
                f"is not UTF-8; fix the helper or {self._remedy()}."
            ) from None
        except OSError as exc:
            raise RegistryKitError(
                f"The credential helper {self.program} could not be started "
                f"({exc.strerror or type(exc).__name__}); {self._remedy()}."
            ) from None

    def _failed(self, verb: str, proc: subprocess.CompletedProcess[str], *secrets: str) -> NoReturn:
        # Helpers from docker-credential-helpers print their error on stdout; a
        # helper that failed after printing its JSON must not leak its Secret.
        output = (proc.stderr or "") + " " + (proc.stdout or "")
        printed = [m.group(1) for m in _SECRET_FIELD_RE.finditer(output)]
        detail = scrub(_SECRET_FIELD_RE.sub('"Secret": "***"', output), *secrets, *printed)
        raise RegistryKitError(
            f"The credential helper {self.program} failed on {verb!r} (exit "
            f"{proc.returncode}): {detail or 'no message'}; fix the helper or "
            f"{self._remedy()}."
        )

    @staticmethod
    def _not_found(proc: subprocess.CompletedProcess[str]) -> bool:
        return _NOT_FOUND in ((proc.stdout or "") + (proc.stderr or "")).lower()

    def get(self, server: str) -> Credential | None:
        logger.debug("asking %s for %s", self.program, server)
        proc = self._run("get", server)
        if proc.returncode != 0:
            if self._not_found(proc):
                return None
            self._failed("get", proc)
        try:
            data = json.loads(proc.stdout)
            username = str(data.get("Username") or "")
            secret = str(data.get("Secret") or "")
        except (ValueError, AttributeError):
            # Never echo the output back: it is supposed to hold the secret.
            raise RegistryKitError(
                f"The credential helper {self.program} answered 'get' with something "
                f"that is not the expected JSON; {self._remedy()}."
            ) from None
        if not secret:
            return None
        return Credential(
            username=username,
            secret=secret,
            identity_token=username == TOKEN_USERNAME,
            source=self.source,
        )

    def store(self, server: str, username: str, secret: str) -> None:
        logger.debug("storing the login for %s with %s", server, self.program)
        payload = json.dumps({"ServerURL": server, "Username": username, "Secret": secret})
        proc = self._run("store", payload)
        if proc.returncode != 0:
            self._failed("store", proc, secret)

    def erase(self, server: str) -> bool:
        """Erase ``server``'s login; False when the helper had none."""
        logger.debug("erasing the login for %s from %s", server, self.program)
        proc = self._run("erase", server)
        if proc.returncode != 0:
            if self._not_found(proc):
                return False
            self._failed("erase", proc)
        return True

    def list(self) -> dict[str, str]:
        proc = self._run("list", "")
        if proc.returncode != 0:
            self._failed("list", proc)
        try:
            data = json.loads(proc.stdout or "{}")
        except ValueError:
            raise RegistryKitError(
                f"The credential helper {self.program} answered 'list' with something "
                f"that is not JSON; {self._remedy()}."
            ) from None
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items()}
