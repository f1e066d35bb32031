"""A second look through the persistent cache sends HEADs only (issue 14 goal 1).

Every request to a real registry is counted by method and kind. After one
audit (or listing) with ``Client(cache_dir=...)``, a second one in a new
client over the same directory may send the catalog, the tag lists and one
manifest HEAD per tag, and no GET for a manifest or blob: everything else is
in the digest cache. The samples hold single-arch images, multi-arch
indexes, an artifact and a signature's referrers tag.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.counting import CountingTransport, look_twice

import registrykit as rk

# What a second look may send: tag lists, manifest HEADs and the API version check.
ONLY_HEADS = {("HEAD", "manifest"), ("GET", "tags"), ("GET", "/v2/")}


@pytest.fixture(scope="module")
def samples_registry() -> Iterator[rk.LocalRegistry]:
    # Its own registry: the shared one must not gain the samples' signature tags.
    with rk.LocalRegistry() as registry:
        with rk.Client(cache_dir=None) as seeder:
            rk.samples.push(registry, client=seeder)
        yield registry


def test_a_second_audit_sends_only_heads(samples_registry: rk.LocalRegistry, tmp_path: Path):
    first, second, before, after = look_twice(
        tmp_path, lambda c: rk.audit(samples_registry, client=c)
    )
    assert before.equals(after)
    tags = int(after["tags"].sum())
    assert first.content_gets() > tags  # the first audit read manifests and configs
    assert second.content_gets() == 0, second.calls
    assert second.calls[("HEAD", "manifest")] == tags
    assert second.calls[("GET", "tags")] == len(after)
    assert second.calls[("GET", "catalog")] >= 1
    assert set(second.calls) <= {*ONLY_HEADS, ("GET", "catalog")}


@pytest.mark.parametrize("repository", ["samples/webapp", "samples/base", "samples/api"])
def test_a_second_listing_sends_only_heads(
    samples_registry: rk.LocalRegistry, tmp_path: Path, repository: str
):
    name = f"{samples_registry.host}/{repository}"
    first, second, before, after = look_twice(tmp_path, lambda c: rk.tags(name, client=c))
    assert before.equals(after)
    tags = after["tag"].nunique()
    assert first.content_gets() > 0
    assert second.content_gets() == 0, second.calls
    assert second.calls[("HEAD", "manifest")] == tags
    assert set(second.calls) <= ONLY_HEADS


def test_a_listing_after_the_audit_sends_only_heads(
    samples_registry: rk.LocalRegistry, tmp_path: Path
):
    # The audit resolved attestations and every platform: a listing needs nothing more.
    with rk.Client(cache_dir=tmp_path) as client:
        rk.audit(samples_registry, client=client)
    counting = CountingTransport()
    with rk.Client(cache_dir=tmp_path, transport=counting) as client:
        multi = rk.tags(f"{samples_registry.host}/samples/base", "linux/arm64", client=client)
    assert multi["platform"].tolist() == ["linux/arm64/v8"] * len(multi)
    assert counting.content_gets() == 0, counting.calls
