"""Blob endpoints: HEAD, small verified GETs, streamed verified GETs, uploads and mounts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx

from .._model.digest import CHUNK_SIZE, sized_chunks, verified_chunks, verify_digest
from .._model.errors import NotFound, RegistryError, RegistryKitError, RegistryUnavailable
from .._transport.errors import transport_error
from .session import MAX_CONFIG_SIZE, RegistrySession, absolute_url, log

BlobSource = bytes | Callable[[], AbstractContextManager[Iterable[bytes]]]

# Below this a blob download counts as stalled, even if bytes keep trickling in.
MIN_BLOB_RATE = 4 * 1024  # bytes per second


class BlobEndpoints(RegistrySession):
    """``/v2/<name>/blobs/<digest>`` and ``/v2/<name>/blobs/uploads/``."""

    def blob_size(self, repository: str, digest: str) -> int | None:
        """The size of a blob in ``repository``, or None when it is not there."""
        try:
            response = self._send(
                "HEAD",
                self._object_url(repository, "blobs", digest),
                what=f"blob {digest[:19]} in {self.host}/{repository}",
            )
        except NotFound:
            return None
        self.blob_homes[digest] = repository
        size = response.headers.get("content-length", "0")
        return int(size) if size.isdigit() else 0

    def blob(self, repository: str, digest: str) -> bytes:
        """A small blob (a config, up to 8 MiB), verified and cached.

        Read in one piece rather than through ``open_blob``'s chunk
        iterator: listings fetch hundreds of configs, and the per-chunk
        machinery was a third of their client-side cost.
        """
        cached = self.cache.get(digest)
        if cached is not None:
            return cached
        what = f"blob {digest[:19]}… of {self.host}/{repository}"
        response = self._get_blob(repository, digest, what)
        data = self.read_body(response, MAX_CONFIG_SIZE, what)
        verify_digest(data, digest, what)
        self.cache.put(digest, data)
        return data

    @contextmanager
    def open_blob(
        self, repository: str, digest: str, size: int | None = None
    ) -> Iterator[Iterator[bytes]]:
        """Stream a blob; the digest is checked as the last chunk arrives.

        A mismatch raises ``DigestMismatch`` from the iterator, before the
        caller can treat the data as complete. With ``size`` (the declared
        size) the stream stops there: a longer blob raises instead of
        growing without end.
        """
        what = f"blob {digest[:19]}… of {self.host}/{repository}"
        response = self._get_blob(repository, digest, what)
        try:
            chunks = _rechunk(self._chunks(response), CHUNK_SIZE)
            if size is not None:
                chunks = sized_chunks(chunks, size, what)
            yield verified_chunks(
                chunks, digest, what, "Retry; if it persists the registry's storage may be damaged."
            )
        finally:
            response.close()

    def _chunks(self, response: httpx.Response) -> Iterator[bytes]:
        """The body as it arrives, held to the minimum throughput.

        The read timeout alone lets a registry drip a byte per interval for
        ever. Only time spent waiting for the network counts (a slow consumer,
        such as an upload to a slow destination, is not the source's fault),
        and the rule starts after the small-body deadline.
        """
        grace = self._deadline_seconds()
        arriving = response.iter_bytes()
        waited = 0.0
        received = 0
        try:
            while True:
                asked = time.monotonic()
                chunk = next(arriving, None)
                waited += time.monotonic() - asked
                if chunk is None:
                    return
                received += len(chunk)
                if grace is not None and waited > grace and received < waited * MIN_BLOB_RATE:
                    raise RegistryUnavailable(
                        f"{self.host} sends a blob at {received / waited:.0f} bytes/s, below "
                        f"the {MIN_BLOB_RATE // 1024} KiB/s minimum; check the network and retry."
                    )
                yield chunk
        except httpx.TransportError as exc:
            raise transport_error(exc, self.host) from None

    def _get_blob(self, repository: str, digest: str, what: str) -> httpx.Response:
        """The streamed GET of a blob, from a mirror first when one is configured."""
        for base, name in self.mirrors(repository, None):
            try:
                url = self._object_url(name, "blobs", digest, base)
                return self._send("GET", url, what=what, stream=True)
            except RegistryKitError as exc:
                log.debug("mirror %s failed for %s: %s", base, what, exc)
        url = self._object_url(repository, "blobs", digest)
        return self._send("GET", url, what=what, stream=True)

    # -- uploads ---------------------------------------------------------------

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Cross-repository mount; True when the registry mounted it."""
        location = self._start_upload(repository, digest, from_repository)
        if location is None:
            self.blob_homes[digest] = repository
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
            self.blob_homes[digest] = repository
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
        self.blob_homes[digest] = repository
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
                location = absolute_url(response, response.headers.get("location") or location)
        response = self._send(
            "PUT", httpx.URL(location).copy_merge_params({"digest": digest}), what=what
        )
        response.close()
        self.blob_homes[digest] = repository
        return "uploaded"

    def _start_upload(self, repository: str, digest: str, mount_from: str | None) -> str | None:
        """POST an upload session; None when the POST mounted the blob instead."""
        params = {"mount": digest, "from": mount_from} if mount_from else None
        scopes = (f"repository:{mount_from}:pull",) if mount_from else ()
        response = self._send(
            "POST",
            self._object_url(repository, "blobs/uploads"),
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
        return absolute_url(response, location)

    def _cancel_upload(self, location: str) -> None:
        # A failed cancel is harmless: the registry purges abandoned uploads itself.
        with contextlib.suppress(RegistryKitError):
            self._send("DELETE", location, what="upload cancel").close()


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
