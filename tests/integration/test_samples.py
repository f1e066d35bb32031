"""Sample images: fixed digests everywhere, and what skopeo reads back once pushed."""

from __future__ import annotations

import pytest
from support.samples import EXPECTED

import registrykit as rk
from registrykit.lab import samples


@pytest.fixture(scope="module")
def pushed(registry):
    with rk.Client(cache_dir=None) as client:
        return samples.push(registry, client=client)


def test_pushed_samples_read_back_by_skopeo(registry, pushed, skopeo):
    for sample in pushed:
        for tag in sample.tags:
            if tag.startswith("sha256-"):
                continue
            seen = skopeo.inspect(f"docker://{sample.reference}:{tag}", "--raw")
            assert seen["schemaVersion"] == 2
    webapp = skopeo.inspect(f"docker://{registry.host}/samples/webapp:stable")
    assert webapp["Digest"] == f"sha256:{EXPECTED[('samples/webapp', 'v1.4.0')]}"
    assert webapp["Created"] == "2024-05-13T10:00:00Z"
    assert sorted(webapp["RepoTags"])[:3] == ["2024-05-13", "3f2a9c1", "latest"]
    base = skopeo.inspect(f"docker://{registry.host}/samples/base:1.0", "--raw")
    assert {m["platform"]["architecture"] for m in base["manifests"]} == {"amd64", "arm64"}


def test_signature_is_found_as_a_referrer(registry, pushed):
    with rk.Client(cache_dir=None) as client:
        found = client.registry(registry.host).referrers(
            "samples/webapp", f"sha256:{EXPECTED[('samples/webapp', 'v1.4.0')]}"
        )
    assert [d.artifact_type for d in found] == [samples.SIGNATURE_TYPE]


def test_pushing_twice_uploads_no_blob_again(registry, pushed):
    with rk.Client(cache_dir=None) as client:
        again = samples.push(registry, client=client)
    assert [p.digest for p in again] == [p.digest for p in pushed]
