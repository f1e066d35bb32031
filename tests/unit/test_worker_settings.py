"""What a Dask worker's Client is built from: the driver's settings, no secret."""

from __future__ import annotations

from pathlib import Path

from support.internals import partition

import registrykit as rk


def test_workers_keep_the_adaptive_limit_and_the_cert_dir(tmp_path: Path) -> None:
    with rk.Client(cache_dir=None, cert_dir=tmp_path) as driver:
        settings = partition.WorkerSettings.of(driver)
    assert settings.concurrency == "auto" and settings.cert_dir == str(tmp_path)
    with settings.client() as worker:
        assert worker.policy.cert_dir is not None
        assert Path(worker.policy.cert_dir) == tmp_path
    with rk.Client(cache_dir=None, concurrency=5) as fixed:
        assert partition.WorkerSettings.of(fixed).concurrency == 5
