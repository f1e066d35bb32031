"""``rk.audit_to_parquet``: the audit frame written to Parquet and read back unchanged.

One file or a directory of parts (Dask workers writing them: test_audit_dask.py);
attrs (registry, registry-wide totals) ride in the schema metadata.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from support.daskcluster import assert_same_frame, sampled_registry

import registrykit as rk

pytestmark = pytest.mark.timeout(120)


registry_fixture = pytest.fixture(scope="module", name="registry")(sampled_registry)


@pytest.fixture(scope="module")
def expected(registry: rk.LocalRegistry) -> pd.DataFrame:
    with rk.Client(cache_dir=None) as client:
        return rk.audit(registry, client=client)


@pytest.mark.parametrize("name", ["audit.parquet", "audit-dir"])
def test_local_audit_round_trips(
    registry: rk.LocalRegistry, expected: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    with rk.Client(cache_dir=None) as client:
        written = rk.audit_to_parquet(registry, tmp_path / name, client=client)
    assert written == tmp_path / name
    assert_same_frame(pd.read_parquet(written), expected)


def test_attrs_are_in_the_schema_metadata(
    registry: rk.LocalRegistry, expected: pd.DataFrame, tmp_path: Path
) -> None:
    with rk.Client(cache_dir=None) as client:
        written = rk.audit_to_parquet(registry, tmp_path / "audit.parquet", client=client)
    metadata = pq.read_schema(written).metadata
    assert str(expected.attrs["total_stored_size"]).encode() in metadata[b"PANDAS_ATTRS"]
    assert registry.host.encode() in metadata[b"PANDAS_ATTRS"]


def test_an_older_audit_is_not_mixed_in(registry: rk.LocalRegistry, tmp_path: Path) -> None:
    with rk.Client(cache_dir=None) as client:
        rk.audit_to_parquet(registry, tmp_path / "audit", client=client)
        with pytest.raises(rk.RegistryKitError, match="already holds an audit"):
            rk.audit_to_parquet(registry, tmp_path / "audit", client=client)


def test_missing_pyarrow_names_the_extra(
    registry: rk.LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with rk.Client(cache_dir=None) as client:
        with pytest.raises(
            rk.Unsupported, match=r"needs pyarrow: pip install 'registrykit\[dask\]'"
        ):
            rk.audit_to_parquet(registry, tmp_path / "audit.parquet", client=client)
