"""Ports and the credentials of the fake token server."""

from __future__ import annotations

import socket

TOKEN_USER = "tokenuser"
TOKEN_PASSWORD = "token-pass"  # test-only credential for the fake token server
PUBLIC_REPOSITORY = "public/hello"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
