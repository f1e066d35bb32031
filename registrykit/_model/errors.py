"""The errors registrykit raises.

Every error is a ``RegistryKitError``; catch that to handle them all::

    RegistryKitError
    ├── InvalidReference      a malformed image reference (also a ValueError)
    ├── AuthenticationError   401: missing, wrong or expired credentials
    ├── PermissionDenied      403 / DENIED: the credentials lack the scope
    ├── NotFound              NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, 404
    ├── Unsupported           405 / UNSUPPORTED, or a format registrykit refuses
    ├── RateLimited           429 TOOMANYREQUESTS, with ``.reset`` when known
    ├── TLSError              certificate or handshake failure
    ├── DigestMismatch        content does not match its digest
    ├── RegistryUnavailable   connection refused, DNS failure, timeouts, 5xx
    └── RegistryError         any other registry error; keeps ``.status``
                              and the registry's ``errors[]`` codes

Messages say what happened and the usual remedy. They never contain a secret.
``retryable`` says whether the same request may succeed later (a rate limit,
an overloaded or unreachable registry), like go-containerregistry's
``Temporary()``.

In Jupyter an error shows as its message and remedy, not as a traceback
through the library; ``import traceback; traceback.print_last()`` in the
next cell prints the full traceback.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = [
    "AuthenticationError",
    "DigestMismatch",
    "InvalidReference",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RegistryError",
    "RegistryKitError",
    "RegistryUnavailable",
    "TLSError",
    "Unsupported",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
"""HTTP statuses that mean "try again later": rate limited, bad gateway, overloaded,
gateway timeout. Every retry (requests and streamed uploads) uses this set."""


FULL_TRACEBACK_HINT = "(full traceback: import traceback; traceback.print_last())"


class RegistryKitError(Exception):
    """Root of every error registrykit raises.

    ``status`` is the HTTP status when a response caused the error, ``errors``
    the registry's ``errors[]`` list (dicts with ``code``, ``message``,
    ``detail``) and ``codes`` just their codes.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = list(errors or [])
        self.url = url

    @property
    def retryable(self) -> bool:
        """Whether trying the same thing again later may succeed."""
        return False

    @property
    def codes(self) -> list[str]:
        return [str(e.get("code", "")) for e in self.errors if isinstance(e, dict)]

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of the traceback: the message and its remedy."""
        return [f"{type(self).__name__}: {self.message}", FULL_TRACEBACK_HINT]


class InvalidReference(RegistryKitError, ValueError):
    """An image reference that does not follow the distribution grammar."""


class AuthenticationError(RegistryKitError):
    """The registry refused the credentials, or none were found (401)."""


class PermissionDenied(RegistryKitError):
    """Authenticated, but not allowed to do this (403 / DENIED)."""


class NotFound(RegistryKitError):
    """The repository, manifest or blob does not exist."""


class Unsupported(RegistryKitError):
    """The registry or registrykit does not support the operation (405)."""


class RateLimited(RegistryKitError):
    """Too many requests (429). ``reset`` is when to try again, if known."""

    def __init__(self, message: str, *, reset: _dt.datetime | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reset = reset

    @property
    def retryable(self) -> bool:
        return True


class TLSError(RegistryKitError):
    """The TLS handshake or certificate verification failed."""


class DigestMismatch(RegistryKitError):
    """Downloaded content does not match the digest it was asked for."""


class RegistryUnavailable(RegistryKitError):
    """The registry could not be reached (refused, DNS, timeout) or failed (5xx).

    Retryable unless the server answered a 5xx that waiting does not fix
    (500 Internal Server Error, 501 Not Implemented, ...).
    """

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES


class RegistryError(RegistryKitError):
    """Any other error response; ``status`` and ``codes`` say which."""
