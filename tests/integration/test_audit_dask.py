"""``rk.audit(..., engine="dask")`` on a real two-process LocalCluster (issue 14, goal 5).

The Dask engine must return the local engine's frame exactly (columns,
dtypes, order, attrs; layers shared across partitions counted once) and must
not put a secret in the task graph: workers get names and settings and read
their own login files.
"""

from __future__ import annotations

import base64
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import cloudpickle
import distributed
import httpx
import pandas as pd
import pytest
from support.daskcluster import assert_same_frame, local_dask, sampled_registry

import registrykit as rk

pytestmark = pytest.mark.timeout(120)


dask_client_fixture = pytest.fixture(scope="module", name="dask_client")(local_dask)
registry_fixture = pytest.fixture(scope="module", name="registry")(sampled_registry)


def _local(target: Any, client: rk.Client) -> pd.DataFrame:
    return rk.audit(target, client=client)


def test_dask_audit_is_the_local_audit(
    registry: rk.LocalRegistry, dask_client: distributed.Client
) -> None:
    with rk.Client(cache_dir=None) as client:
        expected = _local(registry, client)
        # By default a partition per repository: every shared layer crosses partitions.
        for partitions in (2, None):
            got = rk.audit(
                registry,
                client=client,
                engine="dask",
                dask_client=dask_client,
                partitions=partitions,
            )
            assert_same_frame(got, expected)
    assert len(expected) >= 3
    assert expected["shared_size"].sum() > 0
    assert expected.attrs["total_stored_size"] < expected["stored_size"].sum()


def test_dask_audit_of_a_list_and_of_nothing(
    registry: rk.LocalRegistry, dask_client: distributed.Client
) -> None:
    with rk.Client(cache_dir=None) as client:
        repositories = [f"{registry.host}/samples/webapp", f"{registry.host}/samples/hello"]
        for target in (repositories, []):
            got = rk.audit(target, client=client, engine="dask", dask_client=dask_client)
            expected = _local(target, client)
            assert_same_frame(got, expected)


def test_the_current_client_is_used_and_none_is_a_clear_error(
    registry: rk.LocalRegistry, dask_client: distributed.Client
) -> None:
    with rk.Client(cache_dir=None) as client:
        with pytest.raises(rk.Unsupported, match=r"no Dask client: start one"):
            rk.audit(registry, client=client, engine="dask")
        with dask_client.as_current():
            got = rk.audit(registry, client=client, engine="dask")
        assert_same_frame(got, _local(registry, client))


def test_missing_dask_names_the_extra(
    registry: rk.LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with rk.Client(cache_dir=None) as client:
        with pytest.raises(rk.Unsupported, match=r"pip install 'registrykit\[dask\]'"):
            rk.audit(registry, client=client, engine="dask")


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"transport": httpx.MockTransport(lambda _: httpx.Response(200))}, "transport="),
        ({"ca_bundle": ssl.create_default_context()}, "SSLContext"),
    ],
)
def test_what_cannot_leave_the_driver_is_refused(
    dask_client: distributed.Client, settings: dict[str, Any], refusal: str
) -> None:
    with rk.Client(cache_dir=None, **settings) as client:
        with pytest.raises(rk.Unsupported, match=refusal):
            rk.audit(["127.0.0.1:5000/a"], client=client, engine="dask", dask_client=dask_client)


def test_an_unknown_engine_is_refused(registry: rk.LocalRegistry) -> None:
    with rk.Client(cache_dir=None) as client:
        with pytest.raises(ValueError, match="engine must be"):
            rk.audit(registry, client=client, engine="spark")  # type: ignore[arg-type]


def test_dask_workers_write_parts_in_audit_order(
    registry: rk.LocalRegistry, dask_client: distributed.Client, tmp_path: Path
) -> None:
    with rk.Client(cache_dir=None) as client:
        expected = _local(registry, client)
        written = {
            name: rk.audit_to_parquet(
                registry,
                tmp_path / name,
                client=client,
                engine="dask",
                dask_client=dask_client,
                partitions=3,
            )
            for name in ("audit", "one.parquet")
        }
    directory = written["audit"]
    assert sorted(p.name for p in directory.iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    for path in written.values():
        assert_same_frame(pd.read_parquet(path), expected)


class _Recording:
    """A ``distributed.Client`` that keeps what is sent to the cluster, pickled."""

    def __init__(self, client: distributed.Client) -> None:
        self._client = client
        self.sent: list[bytes] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(cloudpickle.dumps((fn, args, kwargs)))
        return self._client.submit(fn, *args, **kwargs)

    def scatter(self, data: Any, **kwargs: Any) -> Any:
        self.sent.append(cloudpickle.dumps(data))
        return self._client.scatter(data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_no_secret_travels_in_the_task_graph(
    dask_client: distributed.Client, tmp_path: Path
) -> None:
    auth_file = tmp_path / "auth.json"
    with rk.LocalRegistry(auth="htpasswd") as lab:
        assert lab.username and lab.password
        secrets = [
            lab.password.encode(),
            base64.b64encode(f"{lab.username}:{lab.password}".encode()),
        ]
        # The driver's client holds the password in memory too: it must stay here.
        with rk.Client(auth_file=auth_file, cache_dir=None) as client:
            rk.login(lab.host, lab.username, lab.password, client=client)
            assert secrets[1] in auth_file.read_bytes()
            rk.samples.push(lab, rk.samples.samples()[:3], client=client)
            recording = _Recording(dask_client)
            got = rk.audit(lab, client=client, engine="dask", dask_client=recording)
            expected = _local(lab, client)
        # A login held only in memory stays on the driver: the workers find none.
        memory_only = {lab.host: (lab.username, lab.password)}
        with rk.Client(auth_file=tmp_path / "none.json", logins=memory_only) as client:
            with pytest.raises(rk.AuthenticationError):
                rk.audit(lab, client=client, engine="dask", dask_client=dask_client)
    assert_same_frame(got, expected)
    assert len(got) >= 2
    assert recording.sent
    for sent in recording.sent:
        for secret in secrets:
            assert secret not in sent


def test_import_registrykit_does_not_import_dask() -> None:
    script = (
        "import sys, registrykit as rk; rk.audit; rk.audit_to_parquet; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
