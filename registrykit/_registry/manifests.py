"""Manifest endpoints: GET (size-bounded, verified, cached by digest), HEAD, PUT, DELETE."""

from __future__ import annotations

import httpx

from .._model import mediatypes as mt
from .._model.digest import compute_digest, verify_digest
from .._model.errors import (
    DigestMismatch,
    NotFound,
    RegistryKitError,
    Unsupported,
)
from .._model.manifest import Descriptor, Index, Manifest, parse_manifest
from .._model.reference import digest_problem
from .session import MAX_MANIFEST_SIZE, RegistrySession, is_digest, log


class ManifestEndpoints(RegistrySession):
    """``/v2/<name>/manifests/<reference>``."""

    def manifest_bytes(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """Raw manifest bytes, media type and verified digest."""
        if is_digest(reference):
            cached = self.cache.get(reference)
            if cached is not None:
                return cached, mt.sniff_media_type(cached), reference
        # Mirrors first, then the registry itself, as podman pulls (PullSourcesFromReference).
        routes = (*self.mirrors(repository, is_digest(reference)), (self.base_url, repository))
        last_error: RegistryKitError | None = None
        for base, name in routes:
            try:
                result = self._get_manifest(base, name, reference)
            except RegistryKitError as exc:
                if base == self.base_url:
                    raise
                log.debug("mirror %s failed for %s: %s", base, repository, exc)
                last_error = exc
                continue
            if base != self.base_url:
                log.debug(
                    "manifest %s/%s:%s from mirror %s", self.host, repository, reference, base
                )
            self.cache.put(result[2], result[0])
            return result
        raise last_error or NotFound(f"manifest {repository}:{reference} not found")

    def _get_manifest(self, base: str, repository: str, reference: str) -> tuple[bytes, str, str]:
        what = f"manifest {self.host}/{repository}{'@' if is_digest(reference) else ':'}{reference}"
        response = self._send(
            "GET",
            self._object_url(repository, "manifests", reference, base),
            headers={"Accept": mt.MANIFEST_ACCEPT},
            what=what,
            limit=MAX_MANIFEST_SIZE,
        )
        raw = response.content
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type in mt.SCHEMA1_TYPES:
            parse_manifest(raw, media_type, "schema1")  # raises Unsupported with the remedy
        if is_digest(reference):
            verify_digest(raw, reference, what)
            return raw, mt.sniff_media_type(raw, media_type), reference
        header_digest = self._header_digest(response, what)
        digest = compute_digest(raw, header_digest.split(":", 1)[0] if header_digest else "sha256")
        if header_digest and header_digest != digest:
            raise DigestMismatch(
                f"{what}: the registry says {header_digest} but the bytes hash to "
                f"{digest}. Something altered the manifest in transit; retry."
            )
        return raw, mt.sniff_media_type(raw, media_type), digest

    def _header_digest(self, response: httpx.Response, what: str) -> str | None:
        """The ``Docker-Content-Digest`` header when it is a digest registrykit accepts.

        An md5 or malformed header is ignored (with a warning): the digest is
        computed from the bytes instead, so the claim is never repeated.
        """
        header: str | None = response.headers.get("docker-content-digest")
        if header is None:
            return None
        problem = digest_problem(header)
        if problem is None:
            return header
        log.warning("%s: ignoring the Docker-Content-Digest header: %s", what, problem)
        return None

    def manifest(self, repository: str, reference: str) -> Manifest | Index:
        raw, media_type, digest = self.manifest_bytes(repository, reference)
        return parse_manifest(raw, media_type, digest)

    def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        """Digest, size and type of a tag or digest; None when it does not exist."""
        what = f"manifest {self.host}/{repository}:{reference}"
        try:
            response = self._head_or_mirror(repository, reference, what)
        except NotFound:
            return None
        digest = self._header_digest(response, what)
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
        size = response.headers.get("content-length", "0")
        return Descriptor(media_type, digest, int(size) if size.isdigit() else 0)

    def _head_or_mirror(self, repository: str, reference: str, what: str) -> httpx.Response:
        """HEAD on the registry; when it cannot be reached, on its mirrors in order."""

        def head(base: str | None, name: str) -> httpx.Response:
            url = self._object_url(name, "manifests", reference, base)
            return self._send("HEAD", url, headers={"Accept": mt.MANIFEST_ACCEPT}, what=what)

        return self._or_mirror(repository, is_digest(reference), head, what)

    def manifest_headers(self, repository: str, reference: str) -> httpx.Headers:
        """The response headers of a manifest HEAD (Docker Hub's rate-limit headers).

        A HEAD costs no pull on Docker Hub; errors raise as for any request.
        """
        response = self._send(
            "HEAD",
            self._object_url(repository, "manifests", reference),
            headers={"Accept": mt.MANIFEST_ACCEPT},
            what=f"manifest {self.host}/{repository}:{reference}",
        )
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
        if is_digest(reference) and reference != digest:
            raise DigestMismatch(f"manifest bytes hash to {digest}, not {reference}")
        what = f"manifest upload to {self.host}/{repository}:{reference}"
        response = self._send(
            "PUT",
            self._object_url(repository, "manifests", reference),
            headers={"Content-Type": media_type},
            content=raw,
            what=what,
        )
        returned = self._header_digest(response, what)
        if returned and returned != digest:
            raise DigestMismatch(
                f"{self.host} stored the manifest as {returned}, expected {digest}"
            )
        self.cache.put(digest, raw)
        return digest

    def delete_manifest(self, repository: str, digest: str) -> None:
        self._send(
            "DELETE",
            self._object_url(repository, "manifests", digest),
            what=f"manifest {self.host}/{repository}@{digest}",
        )
