"""For the audit engine tests: a small real Dask cluster and a registry holding the samples.

Both are generators, to be used as fixtures: ``pytest.fixture(name=...)(local_dask)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import distributed
import pandas as pd

import registrykit as rk


def local_dask() -> Iterator[distributed.Client]:
    """A ``distributed.Client`` on a fresh ``LocalCluster`` (two worker processes, two threads
    each); not the default client, so code that looks for a current one finds none."""
    # A free port for the scheduler's HTTP server: 8787 may be another cluster's.
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=2, dashboard_address="127.0.0.1:0"
    ) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            yield client


def sampled_registry() -> Iterator[rk.LocalRegistry]:
    """A registry of its own with every sample pushed (the shared one must not gain them)."""
    with rk.LocalRegistry() as lab:
        with rk.Client(cache_dir=None) as seeder:
            rk.samples.push(lab, client=seeder)
        yield lab


def assert_same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same frame: values, dtypes, order, index and ``attrs``."""
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs
