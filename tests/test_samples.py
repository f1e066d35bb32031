"""Sample images: fixed digests everywhere, and what skopeo reads back once pushed."""

from __future__ import annotations

import itertools

import pytest

import registrykit as rk
from registrykit.lab import samples

# The digests every machine builds; notebooks' stored outputs rely on them.
EXPECTED = {
    ("samples/hello", "1.0.0"): "9bd53b83d6b372d8379eaccdde428982603588711a681458e66d0a1d5b190221",
    ("samples/base", "1.0"): "51fee414415d0bbfa75c3d97e0c6c763b658e0cce10bd14652f503389177c52f",
    (
        "samples/webapp",
        "v1.0.0",
    ): "18b2faac98d8c0188170ed4d0637a432ad613410b774f20d5849f13f7f8e292f",
    (
        "samples/webapp",
        "v1.3.0",
    ): "bd2d5be40a3f6588e9837101eec8df8894ca881961cd539d31a3703a4c8478d5",
    (
        "samples/webapp",
        "v1.4.0",
    ): "8e36df74cb075ab3af18d8943f281f34b6cba5c0d465388b3afa80d3bdfee480",
    ("samples/api", "2.1.0"): "100250f86d2b4d8254cd41487a33bc0f829b1785f9ed71c735ed55b30c70cc40",
    ("samples/worker", "0.9.0"): "4a28333babe5ed8f86e36228a0b9e77ee9e42835e86b4b67cbafff24c278165f",
    ("samples/bloated", "1.0"): "f43a9a88404ccad35eb1764e74f782c096fdd397850c6bf3dd5729446fb730b2",
    (
        "samples/charts/webapp",
        "0.1.0",
    ): "f5e2caab3cf829025d748fe0462e815d751110f847ab36ad6f6251b0a1fdd6df",
}


def test_sample_digests_are_fixed():
    built = {(s.repository, s.tags[0]): s.digest for s in samples.samples() if s.tags}
    for key, digest in EXPECTED.items():
        assert built[key] == f"sha256:{digest}", key


def test_webapp_has_one_obvious_size_regression():
    sizes = [s.item.size for s in samples.webapp()]
    growth = [b - a for a, b in itertools.pairwise(sizes)]
    assert all(g > 0 for g in growth)
    assert max(growth) == growth[2] > 5_000_000  # v1.2.0 -> v1.3.0
    assert all(g < 200_000 for i, g in enumerate(growth) if i != 2)


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
