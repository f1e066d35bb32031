"""A second look through the persistent cache sends HEADs only (issue 14 goal 1).

Every request to a real registry is counted by method and kind. After one
audit (or listing) with ``Client(cache_dir=...)``, a second one in a new
client over the same directory may send the catalog, the tag lists and one
manifest HEAD per tag, and no GET for a manifest or blob: everything else is
in the digest cache. The samples hold single-arch images, multi-arch
indexes, an artifact and a signature's referrers tag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import registrykit as rk


class Counting(httpx.BaseTransport):
    """Requests by (method, kind): kind is catalog, tags, manifests, blobs or the path."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls: Counter[tuple[str, str]] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kinds = ("/tags/list", "/manifests/", "/blobs/", "/_catalog")
        kind = next((k.strip("/").split("/")[-1] for k in kinds if k in path), path)
        self.calls[(request.method, kind)] += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def gets_of_content(self) -> int:
        return self.calls[("GET", "manifests")] + self.calls[("GET", "blobs")]


# What a second look may send: tag lists, manifest HEADs and the API version check.
ONLY_HEADS = {("HEAD", "manifests"), ("GET", "list"), ("GET", "/v2/")}


@pytest.fixture(scope="module")
def samples_registry() -> Iterator[rk.LocalRegistry]:
    # Its own registry: the shared one must not gain the samples' signature tags.
    with rk.LocalRegistry() as registry:
        with rk.Client(cache_dir=None) as seeder:
            rk.samples.push(registry, client=seeder)
        yield registry


def _twice(
    cache: Path, look: Callable[[rk.Client], pd.DataFrame]
) -> tuple[Counting, Counting, pd.DataFrame, pd.DataFrame]:
    """``look`` in a client with an empty cache, then in a new one over the same directory."""
    first, second = Counting(), Counting()
    with rk.Client(cache_dir=cache, transport=first) as client:
        before = look(client)
    with rk.Client(cache_dir=cache, transport=second) as client:
        after = look(client)
    return first, second, before, after


def test_a_second_audit_sends_only_heads(samples_registry: rk.LocalRegistry, tmp_path: Path):
    first, second, before, after = _twice(tmp_path, lambda c: rk.audit(samples_registry, client=c))
    assert before.equals(after)
    tags = int(after["tags"].sum())
    assert first.gets_of_content() > tags  # the first audit read manifests and configs
    assert second.gets_of_content() == 0, second.calls
    assert second.calls[("HEAD", "manifests")] == tags
    assert second.calls[("GET", "list")] == len(after)
    assert second.calls[("GET", "_catalog")] >= 1
    assert set(second.calls) <= {*ONLY_HEADS, ("GET", "_catalog")}


@pytest.mark.parametrize("repository", ["samples/webapp", "samples/base", "samples/api"])
def test_a_second_listing_sends_only_heads(
    samples_registry: rk.LocalRegistry, tmp_path: Path, repository: str
):
    name = f"{samples_registry.host}/{repository}"
    first, second, before, after = _twice(tmp_path, lambda c: rk.tags(name, client=c))
    assert before.equals(after)
    tags = after["tag"].nunique()
    assert first.gets_of_content() > 0
    assert second.gets_of_content() == 0, second.calls
    assert second.calls[("HEAD", "manifests")] == tags
    assert set(second.calls) <= ONLY_HEADS


def test_a_listing_after_the_audit_sends_only_heads(
    samples_registry: rk.LocalRegistry, tmp_path: Path
):
    # The audit resolved attestations and every platform: a listing needs nothing more.
    with rk.Client(cache_dir=tmp_path) as client:
        rk.audit(samples_registry, client=client)
    counting = Counting()
    with rk.Client(cache_dir=tmp_path, transport=counting) as client:
        multi = rk.tags(f"{samples_registry.host}/samples/base", "linux/arm64", client=client)
    assert multi["platform"].tolist() == ["linux/arm64/v8"] * len(multi)
    assert counting.gets_of_content() == 0, counting.calls
