"""The plumbing every ``/v2/`` endpoint shares: one request, its errors, its URL.

``RegistryClient`` (``api``) is this session plus the manifest (``manifests``)
and blob (``blobs``) endpoints; each concern lives in its own module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import httpx

from .._model.digest import is_digest
from .._model.errors import RegistryError
from .._transport.auth import SCOPES_EXTENSION
from .._transport.errors import raise_for_response, transport_error
from .cache import ContentCache

__all__ = ["MAX_MANIFEST_SIZE", "RegistrySession", "absolute_url", "is_digest", "response_json"]

log = logging.getLogger(__name__)

MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # what distribution and containerd accept


class RegistrySession:
    """One registry host: its HTTP client, base URL, mirrors and content cache."""

    def __init__(
        self,
        http: httpx.Client,
        host: str,
        base_url: str,
        cache: ContentCache,
        *,
        mirrors: tuple[str, ...] = (),
    ) -> None:
        self.http = http
        self.host = host
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self.mirrors = tuple(m.rstrip("/") for m in mirrors)
        # digest -> a repository seen holding it: a later upload of the same
        # blob to another repository mounts it from there (docker does the same).
        self.blob_homes: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"RegistryClient({self.host!r}, base_url={self.base_url!r})"

    # -- plumbing -------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        scopes: tuple[str, ...] = (),
        stream: bool = False,
    ) -> httpx.Response:
        request = self.http.build_request(
            method,
            url,
            headers=headers,
            params=params,
            content=content,
            extensions={SCOPES_EXTENSION: scopes} if scopes else None,
        )
        try:
            response = self.http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise transport_error(exc, self.host) from None
        if response.status_code >= 400:
            try:
                raise_for_response(response, what, host=self.host)
            finally:
                response.close()
        return response

    def _url(self, path: str, base: str | None = None) -> str:
        return f"{base or self.base_url}/v2/{path}"

    def _read_bases(self) -> tuple[str, ...]:
        return (*self.mirrors, self.base_url)


def response_json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise RegistryError(f"the registry's {what} is not JSON") from exc
    if not isinstance(body, dict):
        raise RegistryError(f"the registry's {what} is not a JSON object")
    return body


def absolute_url(response: httpx.Response, location: str) -> str:
    return str(response.request.url.join(location))
