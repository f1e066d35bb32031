"""A small token server for the distribution registry's ``auth: token`` mode.

It speaks both flows clients use against Docker-style token auth:

* ``GET /token?service=..&scope=..`` with optional Basic auth (docker's
  classic flow; skopeo and most clients);
* ``POST /token`` with a form (``grant_type=password`` or
  ``grant_type=refresh_token``): the OAuth2 flow docker uses with identity
  tokens, which returns a per-user ``refresh_token``.

Valid users get every action they ask for (and the catalog); anonymous
callers get ``pull`` on ``public_repositories`` only. Tokens are JWTs signed
with a key from ``registrykit.lab.tls.make_signing_cert`` and carry the ``x5c``
header the registry verifies against its ``rootcertbundle``.

Every request is recorded in ``requests`` so tests can assert on the flow.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from registrykit.lab.tls import make_signing_cert

__all__ = ["RecordedRequest", "TokenServer"]

TokenKeys = Literal["both", "token", "access_token"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, list[str]]
    basic_auth: bool
    username: str | None
    status: int = 0
    granted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scopes(self) -> list[str]:
        return self.params.get("scope", [])


def _parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    # "repository:name/with/slashes:pull,push" -- the name itself may contain
    # a registry host with a port, so split the type off the left and the
    # actions off the right.
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


class TokenServer:
    """Threaded token server on ``127.0.0.1``; use as a context manager."""

    def __init__(
        self,
        directory: Path | str,
        *,
        users: Mapping[str, str] | None = None,
        public_repositories: Iterable[str] = (),
        service: str = "registrykit-local",
        issuer: str = "registrykit-token-issuer",
        expires_in: int = 300,
        token_keys: TokenKeys = "both",
        algorithm: str = "RS256",
    ) -> None:
        self.users = dict(users or {})
        self.public_repositories = set(public_repositories)
        self.service = service
        self.issuer = issuer
        self.expires_in = expires_in
        self.token_keys: TokenKeys = token_keys
        self.algorithm = algorithm
        self.requests: list[RecordedRequest] = []
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user
        self._lock = threading.Lock()
        self.key_file, self.cert_file = make_signing_cert(directory, algorithm=algorithm)
        self._key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "token server not started"
        return int(self._httpd.server_address[1])

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def rootcertbundle(self) -> Path:
        return self.cert_file

    def start(self) -> TokenServer:
        server = self

        class Handler(_Handler):
            token_server = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="tokenserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- tokens -------------------------------------------------------------------

    def grant(self, user: str | None, scopes: Iterable[str]) -> list[dict[str, Any]]:
        """The access list a user (None: anonymous) gets for *scopes*."""
        access: list[dict[str, Any]] = []
        for scope in scopes:
            for one in scope.split(" "):  # some clients join scopes with spaces
                parsed = _parse_scope(one)
                if parsed is None:
                    continue
                kind, name, actions = parsed
                if user is not None:
                    allowed = actions
                elif kind == "repository" and name in self.public_repositories:
                    allowed = [a for a in actions if a == "pull"]
                else:
                    allowed = []
                if allowed:
                    access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def issue(
        self,
        user: str | None,
        access: list[dict[str, Any]],
        *,
        service: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            # The registry (2.8) wants aud as a plain string.
            "aud": service or self.service,
            "exp": now + (self.expires_in if expires_in is None else expires_in),
            # Backdated so a registry whose clock is a second behind accepts it.
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return jwt.encode(
            claims,
            self._key,  # type: ignore[arg-type]
            algorithm=self.algorithm,
            headers={"x5c": [self._x5c]},
        )

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)


class _Handler(BaseHTTPRequestHandler):
    token_server: TokenServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: tests read ``requests``, and stderr noise hides failures.
        pass

    def _send_json(
        self, status: int, body: dict[str, Any], headers: Mapping[str, str] = {}
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _basic(self) -> tuple[bool, str | None, str | None]:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return False, None, None
        try:
            user, _, pw = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return True, None, None
        return True, user, pw

    def _unauthorized(self, rec: RecordedRequest, message: str) -> None:
        rec.status = 401
        self.token_server._record(rec)
        self._send_json(
            401,
            {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
            {"WWW-Authenticate": 'Basic realm="registrykit-token"'},
        )

    def do_GET(self) -> None:
        ts = self.token_server
        parts = urlsplit(self.path)
        params = parse_qs(parts.query)
        sent, user, pw = self._basic()
        rec = RecordedRequest("GET", parts.path, params, sent, user)
        if parts.path != "/token":
            rec.status = 404
            ts._record(rec)
            self._send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        if sent and (user is None or ts.users.get(user) != pw):
            self._unauthorized(rec, "invalid username or password")
            return
        access = ts.grant(user if sent else None, params.get("scope", []))
        service = params.get("service", [ts.service])[0]
        token = ts.issue(user if sent else None, access, service=service)
        body: dict[str, Any] = {}
        if ts.token_keys in ("both", "token"):
            body["token"] = token
        if ts.token_keys in ("both", "access_token"):
            body["access_token"] = token
        body["expires_in"] = ts.expires_in
        body["issued_at"] = _dt.datetime.now(_dt.UTC).isoformat().replace("+00:00", "Z")
        rec.status, rec.granted = 200, access
        ts._record(rec)
        self._send_json(200, body)

    def do_POST(self) -> None:
        ts = self.token_server
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        sent, basic_user, _ = self._basic()
        rec = RecordedRequest("POST", parts.path, form, sent, basic_user)
        if parts.path != "/token":
            rec.status = 404
            ts._record(rec)
            self._send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return

        def one(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        grant_type = one("grant_type")
        user: str | None
        if grant_type == "password":
            user, pw = one("username"), one("password")
            if user is None or ts.users.get(user) != pw:
                self._unauthorized(rec, "invalid username or password")
                return
            refresh = secrets.token_urlsafe(24)
            with ts._lock:
                ts.refresh_tokens[refresh] = user
        elif grant_type == "refresh_token":
            refresh = one("refresh_token") or ""
            user = ts.refresh_tokens.get(refresh)
            if user is None:
                self._unauthorized(rec, "invalid refresh token")
                return
        else:
            rec.status = 400
            ts._record(rec)
            self._send_json(400, {"error": "unsupported_grant_type"})
            return
        rec.username = user
        access = ts.grant(user, form.get("scope", []))
        service = one("service") or ts.service
        token = ts.issue(user, access, service=service)
        rec.status, rec.granted = 200, access
        ts._record(rec)
        self._send_json(
            200,
            {
                "access_token": token,
                "refresh_token": refresh,
                "expires_in": ts.expires_in,
                "scope": " ".join(form.get("scope", [])),
            },
        )
