"""Sample images: fixed digests and one obvious size regression, built in memory."""

from __future__ import annotations

import itertools

from support.samples import EXPECTED

from registrykit.lab import samples


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
