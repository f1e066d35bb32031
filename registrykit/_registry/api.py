"""``RegistryClient``: the ``/v2/`` endpoints of one registry.

Paging, digest checks, size limits and errors live here; nothing above this
layer builds a URL. Every manifest and blob that comes back is checked
against its digest, and manifests fetched by digest are cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from .._model import mediatypes as mt
from .._model.errors import NotFound, RegistryError
from .._model.manifest import Descriptor, Index
from .._transport.errors import raise_for_response, transport_error
from .blobs import BlobEndpoints
from .manifests import ManifestEndpoints
from .session import response_json

__all__ = ["Ping", "RegistryClient"]

_LINK_RE = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")


@dataclass(frozen=True)
class Ping:
    """What ``GET /v2/`` said: reachable, and which auth it asks for."""

    url: str
    status: int
    auth_scheme: str | None
    api_version: str | None


class RegistryClient(ManifestEndpoints, BlobEndpoints):
    """The registry API of one host. Obtain it from ``Client.registry(host)``."""

    # -- endpoints -----------------------------------------------------------

    def ping(self) -> Ping:
        """``GET /v2/`` without credentials: is it a registry, and how does it want auth?"""
        try:
            response = self.http.get(self._url(""), auth=None)
        except httpx.TransportError as exc:
            raise transport_error(exc, self.host) from None
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code not in (200, 401):
            raise_for_response(response, "the API root /v2/", host=self.host)
            raise RegistryError(f"{self.host} answered /v2/ with HTTP {response.status_code}")
        return Ping(
            url=self._url(""),
            status=response.status_code,
            auth_scheme=challenge.split(" ", 1)[0].lower() or None if challenge else None,
            api_version=response.headers.get("docker-distribution-api-version"),
        )

    def check_login(self) -> None:
        """``GET /v2/`` with credentials (through the token flow); raises if refused."""
        response = self._send("GET", self._url(""), what="the API root /v2/")
        response.close()

    def catalog(self, page_size: int = 1000) -> Iterator[str]:
        """Every repository name, following ``Link`` headers page by page."""
        url: str | None = self._url("_catalog")
        params: dict[str, str] | None = {"n": str(page_size)}
        while url:
            response = self._send("GET", url, params=params, what="the catalog")
            body = response_json(response, "catalog")
            yield from body.get("repositories") or ()
            url, params = self._next_page(response), None

    def tags(self, repository: str, page_size: int = 1000) -> list[str]:
        """All tags of ``repository`` (an empty list when it has none)."""
        url: str | None = self._url(f"{repository}/tags/list")
        params: dict[str, str] | None = {"n": str(page_size)}
        out: list[str] = []
        while url:
            response = self._send(
                "GET", url, params=params, what=f"the tag list of {self.host}/{repository}"
            )
            # A repository whose tags were all deleted answers "tags": null.
            out.extend(response_json(response, "tag list").get("tags") or ())
            url, params = self._next_page(response), None
        return out

    def _next_page(self, response: httpx.Response) -> str | None:
        match = _LINK_RE.search(response.headers.get("link", ""))
        if not match:
            return None
        # The Link target is relative to the registry; last= may hold dots and dashes.
        return str(response.request.url.join(match.group(1)))

    # -- referrers -------------------------------------------------------------

    def referrers(
        self, repository: str, digest: str, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """Manifests whose ``subject`` is ``digest`` (signatures, SBOMs, ...).

        Uses the referrers API, or the ``sha256-<hex>`` tag schema when the
        registry does not offer it (distribution 2.x does not).
        """
        params = {"artifactType": artifact_type} if artifact_type else None
        try:
            response = self._send(
                "GET",
                self._url(f"{repository}/referrers/{digest}"),
                params=params,
                headers={"Accept": mt.OCI_INDEX},
                what=f"referrers of {digest[:19]}",
            )
            content_type = response.headers.get("content-type", "")
            if content_type.startswith(mt.OCI_INDEX):
                found = [
                    Descriptor.from_json(d)
                    for d in response_json(response, "referrers").get("manifests") or ()
                ]
                return [d for d in found if artifact_type in (None, d.artifact_type)]
        except NotFound:
            pass
        fallback_tag = digest.replace(":", "-", 1)
        try:
            index = self.manifest(repository, fallback_tag)
        except NotFound:
            return []
        if not isinstance(index, Index):
            return []
        return [d for d in index.manifests if artifact_type in (None, d.artifact_type)]
