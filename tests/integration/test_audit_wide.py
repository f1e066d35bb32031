"""An audit of many repositories fans out across them and returns the same frame.

With at least as many repositories as the client's concurrency, repositories
run side by side on the pool (issue 14); with fewer, each one's tags fan out.
Both paths must agree row for row.
"""

from __future__ import annotations

import registrykit as rk


def test_wide_and_narrow_audits_agree():
    # Its own registry: the shared one must not gain the samples' signature tags.
    with rk.LocalRegistry() as registry:
        _check(registry)


def _check(registry: rk.LocalRegistry) -> None:
    with rk.Client(cache_dir=None) as seeder:
        rk.samples.push(registry, client=seeder)
    with rk.Client(cache_dir=None, concurrency=8) as narrow:
        expected = rk.audit(registry, client=narrow)
    repositories = len(expected)
    assert repositories >= 3
    with rk.Client(cache_dir=None, concurrency=2) as wide:
        got = rk.audit(registry, client=wide)
    assert got.equals(expected)
    assert got.attrs == expected.attrs
