"""``RegistryClient``: the ``/v2/`` endpoints of one registry.

Paging, digest checks, size limits and errors live here; nothing above this
layer builds a URL. Every manifest and blob that comes back is checked
against its digest, and manifests fetched by digest are cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from .._model import mediatypes as mt
from .._model.errors import (
    DigestMismatch,
    NotFound,
    RegistryError,
    RegistryKitError,
    Unsupported,
)
from .._model.manifest import (
    Descriptor,
    Index,
    Manifest,
    compute_digest,
    parse_manifest,
    verify_digest,
)
from .._transport.auth import SCOPES_EXTENSION
from .._transport.errors import raise_for_response, transport_error
from .cache import ContentCache

log = logging.getLogger(__name__)

MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # what distribution and containerd accept
CHUNK_SIZE = 1024 * 1024
_LINK_RE = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")

BlobSource = bytes | Callable[[], AbstractContextManager[Iterable[bytes]]]


@dataclass(frozen=True)
class Ping:
    """What ``GET /v2/`` said: reachable, and which auth it asks for."""

    url: str
    status: int
    auth_scheme: str | None
    api_version: str | None


def _is_digest(ref: str) -> bool:
    return ":" in ref and not ref.startswith(":")


class RegistryClient:
    """The registry API of one host. Obtain it from ``Client.registry(host)``."""

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
            body = _json(response, "catalog")
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
            out.extend(_json(response, "tag list").get("tags") or ())
            url, params = self._next_page(response), None
        return out

    def _next_page(self, response: httpx.Response) -> str | None:
        match = _LINK_RE.search(response.headers.get("link", ""))
        if not match:
            return None
        # The Link target is relative to the registry; last= may hold dots and dashes.
        return str(response.request.url.join(match.group(1)))

    def manifest_bytes(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """Raw manifest bytes, media type and verified digest."""
        if _is_digest(reference):
            cached = self.cache.get(reference)
            if cached is not None:
                return cached, _declared_type(cached), reference
        last_error: RegistryKitError | None = None
        for base in self._read_bases():
            try:
                result = self._get_manifest(base, repository, reference)
            except RegistryKitError as exc:
                if base == self.base_url:
                    raise
                log.debug("mirror %s failed for %s: %s", base, repository, exc)
                last_error = exc
                continue
            self.cache.put(result[2], result[0])
            return result
        raise last_error or NotFound(f"manifest {repository}:{reference} not found")

    def _get_manifest(self, base: str, repository: str, reference: str) -> tuple[bytes, str, str]:
        what = (
            f"manifest {self.host}/{repository}{'@' if _is_digest(reference) else ':'}{reference}"
        )
        response = self._send(
            "GET",
            self._url(f"{repository}/manifests/{reference}", base),
            headers={"Accept": mt.MANIFEST_ACCEPT},
            what=what,
            stream=True,
        )
        try:
            length = int(response.headers.get("content-length") or 0)
            if length > MAX_MANIFEST_SIZE:
                raise Unsupported(
                    f"{what} is {length} bytes, over the 4 MiB limit for manifests; refusing it"
                )
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > MAX_MANIFEST_SIZE:
                    raise Unsupported(f"{what} is over the 4 MiB limit for manifests")
                chunks.append(chunk)
        except httpx.TransportError as exc:
            raise transport_error(exc, self.host) from None
        finally:
            response.close()
        raw = b"".join(chunks)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type in mt.SCHEMA1_TYPES:
            parse_manifest(raw, media_type, "schema1")  # raises Unsupported with the remedy
        header_digest = response.headers.get("docker-content-digest")
        if _is_digest(reference):
            verify_digest(raw, reference, what)
            digest = reference
        else:
            algorithm = header_digest.split(":", 1)[0] if header_digest else "sha256"
            digest = compute_digest(raw, algorithm)
            if header_digest and header_digest != digest:
                raise DigestMismatch(
                    f"{what}: the registry says {header_digest} but the bytes hash to "
                    f"{digest}. Something altered the manifest in transit; retry."
                )
        return raw, _declared_type(raw, media_type), digest

    def manifest(self, repository: str, reference: str) -> Manifest | Index:
        raw, media_type, digest = self.manifest_bytes(repository, reference)
        return parse_manifest(raw, media_type, digest)

    def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        """Digest, size and type of a tag or digest; None when it does not exist."""
        try:
            response = self._send(
                "HEAD",
                self._url(f"{repository}/manifests/{reference}"),
                headers={"Accept": mt.MANIFEST_ACCEPT},
                what=f"manifest {self.host}/{repository}:{reference}",
            )
        except NotFound:
            return None
        digest = response.headers.get("docker-content-digest")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type in mt.SCHEMA1_TYPES:
            raise Unsupported(
                f"{self.host}/{repository}:{reference} is a Docker schema 1 manifest, which "
                "registrykit does not support; re-push it with a current client."
            )
        if not digest:
            # Some registries omit the header on HEAD; the GET computes it.
            raw, media_type, digest = self.manifest_bytes(repository, reference)
            return Descriptor(media_type, digest, len(raw))
        return Descriptor(media_type, digest, int(response.headers.get("content-length") or 0))

    def manifest_headers(self, repository: str, reference: str) -> httpx.Headers:
        """The response headers of a manifest HEAD (Docker Hub's rate-limit headers).

        A HEAD costs no pull on Docker Hub; errors raise as for any request.
        """
        response = self._send(
            "HEAD",
            self._url(f"{repository}/manifests/{reference}"),
            headers={"Accept": mt.MANIFEST_ACCEPT},
            what=f"manifest {self.host}/{repository}:{reference}",
        )
        response.close()
        return response.headers

    def resolve(self, repository: str, reference: str) -> Descriptor:
        found = self.head_manifest(repository, reference)
        if found is None:
            raise NotFound(
                f"{self.host}/{repository}:{reference} not found. Check the tag "
                f"(rk.tags('{self.host}/{repository}') lists them) and that the image was pushed."
            )
        return found

    def put_manifest(self, repository: str, reference: str, raw: bytes, media_type: str) -> str:
        """Upload manifest bytes under a tag or digest; returns the digest."""
        digest = compute_digest(raw)
        if _is_digest(reference) and reference != digest:
            raise DigestMismatch(f"manifest bytes hash to {digest}, not {reference}")
        response = self._send(
            "PUT",
            self._url(f"{repository}/manifests/{reference}"),
            headers={"Content-Type": media_type},
            content=raw,
            what=f"manifest upload to {self.host}/{repository}:{reference}",
        )
        response.close()
        returned = response.headers.get("docker-content-digest")
        if returned and returned != digest:
            raise DigestMismatch(
                f"{self.host} stored the manifest as {returned}, expected {digest}"
            )
        self.cache.put(digest, raw)
        return digest

    def delete_manifest(self, repository: str, digest: str) -> None:
        response = self._send(
            "DELETE",
            self._url(f"{repository}/manifests/{digest}"),
            what=f"manifest {self.host}/{repository}@{digest}",
        )
        response.close()

    def blob_size(self, repository: str, digest: str) -> int | None:
        """The size of a blob in ``repository``, or None when it is not there."""
        try:
            response = self._send(
                "HEAD",
                self._url(f"{repository}/blobs/{digest}"),
                what=f"blob {digest[:19]} in {self.host}/{repository}",
            )
        except NotFound:
            return None
        return int(response.headers.get("content-length") or 0)

    def blob(self, repository: str, digest: str) -> bytes:
        """A small blob (a config, up to 4 MiB), verified and cached.

        Read in one piece rather than through ``open_blob``'s chunk
        iterator: listings fetch hundreds of configs, and the per-chunk
        machinery was a third of their client-side cost.
        """
        cached = self.cache.get(digest)
        if cached is not None:
            return cached
        what = f"blob {digest[:19]}… of {self.host}/{repository}"
        response = self._get_blob(repository, digest, what)
        try:
            if int(response.headers.get("content-length") or 0) > MAX_MANIFEST_SIZE:
                raise Unsupported(f"{what} is over 4 MiB; stream it with open_blob() instead")
            data = response.read()
        except httpx.TransportError as exc:
            raise transport_error(exc, self.host) from None
        finally:
            response.close()
        verify_digest(data, digest, what)
        self.cache.put(digest, data)
        return data

    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[Iterator[bytes]]:
        """Stream a blob; the digest is checked as the last chunk arrives.

        A mismatch raises ``DigestMismatch`` from the iterator, before the
        caller can treat the data as complete.
        """
        what = f"blob {digest[:19]}… of {self.host}/{repository}"
        response = self._get_blob(repository, digest, what)
        try:
            yield _verified(response, digest, what, self.host)
        finally:
            response.close()

    def _get_blob(self, repository: str, digest: str, what: str) -> httpx.Response:
        """The streamed GET of a blob, from a mirror first when one is configured."""
        path = f"{repository}/blobs/{digest}"
        for base in self.mirrors:
            try:
                return self._send("GET", self._url(path, base), what=what, stream=True)
            except RegistryKitError as exc:
                log.debug("mirror %s failed for %s: %s", base, what, exc)
        return self._send("GET", self._url(path), what=what, stream=True)

    # -- uploads ---------------------------------------------------------------

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Cross-repository mount; True when the registry mounted it."""
        location = self._start_upload(repository, digest, from_repository)
        if location is None:
            return True
        self._cancel_upload(location)
        return False

    def upload_blob(
        self,
        repository: str,
        digest: str,
        size: int,
        source: BlobSource,
        *,
        mount_from: str | None = None,
    ) -> str:
        """Upload a blob: ``"mounted"`` or ``"uploaded"``.

        ``source`` is the bytes or a callable that opens a stream of chunks;
        with a callable a failed monolithic PUT can be retried in chunks.
        """
        location = self._start_upload(repository, digest, mount_from)
        if location is None:
            return "mounted"
        what = f"blob upload {digest[:19]}… to {self.host}/{repository}"
        url = httpx.URL(location).copy_merge_params({"digest": digest})
        try:
            if isinstance(source, bytes):
                response = self._send(
                    "PUT",
                    url,
                    content=source,
                    what=what,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(len(source)),
                    },
                )
            else:
                with source() as chunks:
                    response = self._send(
                        "PUT",
                        url,
                        content=chunks,
                        what=what,
                        headers={
                            "Content-Type": "application/octet-stream",
                            "Content-Length": str(size),
                        },
                    )
        except RegistryError as exc:
            if exc.status not in (400, 404, 405, 416) or isinstance(source, bytes):
                raise
            log.debug("monolithic upload refused (%s); uploading in chunks", exc.status)
            return self._chunked_upload(repository, digest, source)
        response.close()
        return "uploaded"

    def _chunked_upload(
        self,
        repository: str,
        digest: str,
        source: Callable[[], AbstractContextManager[Iterable[bytes]]],
    ) -> str:
        location = self._start_upload(repository, digest, None)
        assert location is not None
        what = f"chunked blob upload {digest[:19]}… to {self.host}/{repository}"
        offset = 0
        with source() as chunks:
            for chunk in _rechunk(chunks, CHUNK_SIZE):
                response = self._send(
                    "PATCH",
                    location,
                    content=chunk,
                    what=what,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                        "Content-Length": str(len(chunk)),
                    },
                )
                response.close()
                offset += len(chunk)
                location = _absolute(response, response.headers.get("location") or location)
        response = self._send(
            "PUT", httpx.URL(location).copy_merge_params({"digest": digest}), what=what
        )
        response.close()
        return "uploaded"

    def _start_upload(self, repository: str, digest: str, mount_from: str | None) -> str | None:
        """POST an upload session; None when the POST mounted the blob instead."""
        params = {"mount": digest, "from": mount_from} if mount_from else None
        scopes = (f"repository:{mount_from}:pull",) if mount_from else ()
        response = self._send(
            "POST",
            self._url(f"{repository}/blobs/uploads/"),
            params=params,
            scopes=scopes,
            what=f"upload to {self.host}/{repository}",
        )
        response.close()
        if response.status_code == 201 and mount_from:
            return None
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{self.host} started an upload without a Location header")
        return _absolute(response, location)

    def _cancel_upload(self, location: str) -> None:
        # A failed cancel is harmless: the registry purges abandoned uploads itself.
        with contextlib.suppress(RegistryKitError):
            self._send("DELETE", location, what="upload cancel").close()

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
                    for d in _json(response, "referrers").get("manifests") or ()
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


def _declared_type(raw: bytes, fallback: str = "") -> str:
    try:
        import json

        obj = json.loads(raw)
    except ValueError:
        return fallback or mt.OCI_MANIFEST
    if isinstance(obj, dict) and obj.get("mediaType"):
        return str(obj["mediaType"])
    if fallback in mt.MANIFEST_TYPES:
        return fallback
    return mt.OCI_INDEX if isinstance(obj, dict) and "manifests" in obj else mt.OCI_MANIFEST


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise RegistryError(f"the registry's {what} is not JSON") from exc
    if not isinstance(body, dict):
        raise RegistryError(f"the registry's {what} is not a JSON object")
    return body


def _absolute(response: httpx.Response, location: str) -> str:
    return str(response.request.url.join(location))


def _verified(response: httpx.Response, digest: str, what: str, host: str) -> Iterator[bytes]:
    algorithm = digest.split(":", 1)[0]
    hasher = hashlib.new(algorithm)
    try:
        for chunk in response.iter_bytes(CHUNK_SIZE):
            hasher.update(chunk)
            yield chunk
    except httpx.TransportError as exc:
        raise transport_error(exc, host) from None
    actual = f"{algorithm}:{hasher.hexdigest()}"
    if actual != digest:
        raise DigestMismatch(
            f"{what} does not match its digest (got {actual}); the data was discarded. "
            "Retry; if it persists the registry's storage may be damaged."
        )


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
