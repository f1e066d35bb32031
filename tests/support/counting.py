"""A real HTTP transport that counts each request by method and what it asks for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd

import registrykit as rk

# The part of a /v2/ path that says what is asked for, and the name it is counted under.
_KINDS = {
    "/_catalog": "catalog",
    "/tags/list": "tags",
    "/manifests/": "manifest",
    "/blobs/": "blob",
}


class CountingTransport(httpx.HTTPTransport):
    """``calls[(method, kind)]``: kind is catalog, tags, manifest, blob, or else the path."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[tuple[str, str]] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = next((name for part, name in _KINDS.items() if part in path), path)
        self.calls[(request.method, kind)] += 1
        return super().handle_request(request)

    def content_gets(self) -> int:
        """GETs of manifests and blobs: what a digest cache can save."""
        return self.calls[("GET", "manifest")] + self.calls[("GET", "blob")]


def look_twice(
    cache: Path, look: Callable[[rk.Client], pd.DataFrame]
) -> tuple[CountingTransport, CountingTransport, pd.DataFrame, pd.DataFrame]:
    """``look`` in a client with an empty cache, then in a new one over the same directory.

    Returns both clients' request counts and both frames.
    """
    first, second = CountingTransport(), CountingTransport()
    with rk.Client(cache_dir=cache, transport=first) as client:
        before = look(client)
    with rk.Client(cache_dir=cache, transport=second) as client:
        after = look(client)
    return first, second, before, after
