"""Manifest endpoints: GET (size-bounded, verified, cached by digest), HEAD, PUT, DELETE."""

from __future__ import annotations

import httpx

from .._model import mediatypes as mt
from .._model.digest import compute_digest, verify_digest
from .._model.errors import DigestMismatch, NotFound, RegistryKitError, Unsupported
from .._model.manifest import Descriptor, Index, Manifest, parse_manifest
from .._transport.errors import transport_error
from .session import MAX_MANIFEST_SIZE, RegistrySession, is_digest, log


class ManifestEndpoints(RegistrySession):
    """``/v2/<name>/manifests/<reference>``."""

    def manifest_bytes(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """Raw manifest bytes, media type and verified digest."""
        if is_digest(reference):
            cached = self.cache.get(reference)
            if cached is not None:
                return cached, mt.sniff_media_type(cached), reference
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
        what = f"manifest {self.host}/{repository}{'@' if is_digest(reference) else ':'}{reference}"
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
        if is_digest(reference):
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
        return raw, mt.sniff_media_type(raw, media_type), digest

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
        if is_digest(reference) and reference != digest:
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
