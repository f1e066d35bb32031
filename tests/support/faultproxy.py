"""A fault-injecting HTTP proxy in front of a real registry, for tests.

``FaultProxy(upstream)`` listens on a free port of 127.0.0.1 and forwards
every request to ``upstream`` (``host:port`` of a plain-http registry),
keeping the ``Host`` header so upload ``Location`` URLs point back at the
proxy. Faults are armed with a count and disarm themselves after firing:

* ``drop_response(after_bytes, times=1, skip=0)``: cut the connection after
  that many bytes of a blob GET response body (letting ``skip`` blob
  responses through untouched first);
* ``drop_request(after_bytes, times=1)``: cut the connection after receiving
  that many bytes of an upload (PUT/PATCH) body;
* ``throttle(status=429|503, first=K, retry_after=1, method=None)``: answer
  the next K requests (of ``method`` only, when given) with the status and a
  ``Retry-After`` header;
* ``corrupt(times=1)``: flip one byte in the middle of a blob GET response.

``upload_bytes`` counts blob bytes clients sent through the proxy, and
``requests`` every request (method, path). The server is bounded: it stops
itself after ``lifetime`` seconds or ``max_requests`` requests, and on
``close()`` / leaving the ``with`` block.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_BLOB_GET = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
_UPLOAD = re.compile(r"^/v2/.+/blobs/uploads/")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
_CHUNK = 64 * 1024


class FaultProxy:
    def __init__(self, upstream: str, *, lifetime: float = 300.0, max_requests: int = 20_000):
        self.upstream = upstream
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.upload_bytes = 0
        self.faults_fired: list[str] = []
        self._drop_response: tuple[int, int] | None = None  # (after_bytes, times)
        self._drop_skip = 0
        self._drop_request: tuple[int, int] | None = None
        self._throttle: tuple[int, int, int] | None = None  # (status, remaining, retry_after)
        self._throttle_method: str | None = None
        self._corrupt = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="faultproxy", daemon=True
        )
        self._timer = threading.Timer(lifetime, self.close)
        self._timer.daemon = True
        self._closed = False

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._timer.start()
        return self

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- arming faults ------------------------------------------------------------

    def drop_response(self, after_bytes: int, times: int = 1, skip: int = 0) -> None:
        with self.lock:
            self._drop_response = (after_bytes, times)
            self._drop_skip = skip

    def drop_request(self, after_bytes: int, times: int = 1) -> None:
        with self.lock:
            self._drop_request = (after_bytes, times)

    def throttle(
        self, status: int = 429, first: int = 1, retry_after: int = 1, method: str | None = None
    ) -> None:
        with self.lock:
            self._throttle = (status, first, retry_after)
            self._throttle_method = method

    def corrupt(self, times: int = 1) -> None:
        with self.lock:
            self._corrupt = times

    # -- decisions (called from handler threads) --------------------------------

    def _take_throttle(self, method: str) -> tuple[int, int] | None:
        with self.lock:
            if self._throttle is None or self._throttle_method not in (None, method):
                return None
            status, remaining, retry_after = self._throttle
            self._throttle = (status, remaining - 1, retry_after) if remaining > 1 else None
            self.faults_fired.append(f"throttle {status}")
            return status, retry_after

    def _take(self, name: str) -> int | None:
        with self.lock:
            armed = getattr(self, f"_{name}")
            if armed is None:
                return None
            if name == "drop_response" and self._drop_skip > 0:
                self._drop_skip -= 1
                return None
            after, times = armed
            setattr(self, f"_{name}", (after, times - 1) if times > 1 else None)
            self.faults_fired.append(name)
            return int(after)

    def _take_corrupt(self) -> bool:
        with self.lock:
            if self._corrupt <= 0:
                return False
            self._corrupt -= 1
            self.faults_fired.append("corrupt")
            return True


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _handle(self) -> None:
            with proxy.lock:
                proxy.requests.append((self.command, self.path))
                over = len(proxy.requests) > proxy.max_requests
            if over:
                self._abort()
                threading.Thread(target=proxy.close, daemon=True).start()
                return
            throttled = proxy._take_throttle(self.command)
            if throttled is not None:
                self._discard_body()
                status, retry_after = throttled
                body = json.dumps(
                    {"errors": [{"code": "TOOMANYREQUESTS", "message": "fault injected"}]}
                ).encode()
                self.send_response(status)
                self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            upstream = http.client.HTTPConnection(proxy.upstream, timeout=120)
            try:
                if not self._forward_request(upstream):
                    return
                self._forward_response(upstream.getresponse())
            finally:
                upstream.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        def _abort(self) -> None:
            """Drop the client connection without an answer (RST where possible)."""
            self.close_connection = True
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _discard_body(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            while length > 0:
                got = self.rfile.read(min(_CHUNK, length))
                if not got:
                    break
                length -= len(got)

        def _body_chunks(self) -> Any:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return
                    yield self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            while length > 0:
                got = self.rfile.read(min(_CHUNK, length))
                if not got:
                    return
                length -= len(got)
                yield got

        def _forward_request(self, upstream: http.client.HTTPConnection) -> bool:
            is_upload = self.command in ("PUT", "PATCH") and bool(_UPLOAD.match(self.path))
            cut = proxy._take("drop_request") if is_upload else None
            chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for key, value in self.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    upstream.putheader(key, value)
            if chunked:
                upstream.putheader("Transfer-Encoding", "chunked")
            upstream.endheaders()
            sent = 0
            for chunk in self._body_chunks():
                if cut is not None and sent + len(chunk) > cut:
                    self._abort()
                    return False
                sent += len(chunk)
                if is_upload:
                    with proxy.lock:
                        proxy.upload_bytes += len(chunk)
                upstream.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                upstream.send(b"0\r\n\r\n")
            return True

        def _forward_response(self, response: http.client.HTTPResponse) -> None:
            is_blob = self.command == "GET" and bool(_BLOB_GET.match(self.path.split("?")[0]))
            is_blob = is_blob and response.status == 200
            cut = proxy._take("drop_response") if is_blob else None
            corrupt = is_blob and proxy._take_corrupt()
            length = response.getheader("Content-Length")
            body: bytes | None = None
            if length is None and self.command != "HEAD":
                body = response.read()  # re-framed with a length below
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            total = len(body) if body is not None else int(length or 0)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            if self.command == "HEAD":
                return
            if body is not None:
                self.wfile.write(body)
                return
            middle = total // 2
            sent = 0
            while chunk := response.read(_CHUNK):
                if corrupt and sent <= middle < sent + len(chunk):
                    flipped = bytearray(chunk)
                    flipped[middle - sent] ^= 0xFF
                    chunk = bytes(flipped)
                if cut is not None and sent + len(chunk) > cut:
                    self.wfile.write(chunk[: max(cut - sent, 0)])
                    self.wfile.flush()
                    self._abort()
                    return
                self.wfile.write(chunk)
                sent += len(chunk)

    return Handler
