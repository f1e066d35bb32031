"""A registry that misbehaves on purpose, for the hostile-input tests.

A threaded HTTP server on 127.0.0.1 whose answers each test switches: a route
is a method and a path (exact, or a regex) mapped to a function that writes
the answer through the handler. Helpers cover what hostile registries do:
endless or huge bodies, bodies that drip, wrong-typed JSON, Link chains that
never end, redirects, challenges. Every endless stream stops after a bound
of its own (``LIMIT``) or when the client hangs up, so a failing test cannot
hang the suite.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Handler", "HostileRegistry", "LIMIT", "digest_of"]

# The most any endless stream sends before giving up: far past every bound
# registrykit sets (a few MiB), small enough to finish quickly if unbounded.
LIMIT = 512 * 1024 * 1024

Handler = Callable[["_RequestHandler"], None]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.owner.record(self)
        handler = self.server.owner.find(self.command, self.path)
        try:
            if handler is None:
                self.send_json({"errors": [{"code": "NAME_UNKNOWN", "message": "no route"}]}, 404)
            else:
                handler(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: what a bounded client should do

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _dispatch

    # -- answers --------------------------------------------------------------

    def send_bytes(
        self, data: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        hdrs = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        hdrs.update(headers or {})
        for key, value in hdrs.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(json.dumps(doc).encode(), status, headers)

    def send_stream(
        self,
        chunks: Iterator[bytes],
        status: int = 200,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        """Chunked (or ``length``-declared) body from ``chunks``, stopped at LIMIT."""
        self.send_response(status)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        if length is None:
            hdrs["Transfer-Encoding"] = "chunked"
        else:
            hdrs["Content-Length"] = str(length)
        for key, value in hdrs.items():
            self.send_header(key, value)
        self.end_headers()
        sent = 0
        for chunk in chunks:
            if length is None:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            else:
                self.wfile.write(chunk)
            sent += len(chunk)
            if sent >= LIMIT:
                break
        if length is None:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True


def endless(prefix: bytes = b"", filler: bytes = b" " * 65536) -> Iterator[bytes]:
    """``prefix`` then ``filler`` until the stream's bound."""
    if prefix:
        yield prefix
    while True:
        yield filler


def drip(data: bytes, every: float) -> Iterator[bytes]:
    """One byte of ``data`` every ``every`` seconds."""
    for i in range(len(data)):
        time.sleep(every)
        yield data[i : i + 1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileRegistry


class HostileRegistry:
    """``with HostileRegistry() as reg:`` then ``reg.route("GET", "/v2/x/tags/list", fn)``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        # Every registry answers the version check; tests override it to test auth.
        self.route("GET", "/v2/", lambda h: h.send_json({}))

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` (exact path, or a regex when it starts with ``^``)."""
        pattern = re.compile(path if path.startswith("^") else re.escape(path) + r"(\?.*)?$")
        with self._lock:
            self._routes.insert(0, (method, pattern, handler))

    def find(self, method: str, path: str) -> Handler | None:
        with self._lock:
            for m, pattern, handler in self._routes:
                if (m == method or (m == "GET" and method == "HEAD")) and pattern.match(path):
                    return handler
        return None

    def record(self, request: _RequestHandler) -> None:
        with self._lock:
            self.requests.append(
                (request.command, request.path, dict(request.headers.items()), request.body)
            )

    def count(self, method: str, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for m, p, _, _ in self.requests if m == method and p.startswith(prefix))

    def __enter__(self) -> HostileRegistry:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
