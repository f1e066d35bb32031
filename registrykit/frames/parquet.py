"""Audits written to Parquet, for DuckDB, Spark or pandas to query later.

The frame's ``attrs`` (registry, registry-wide totals) go into each file's
schema metadata the way pandas keeps them (``PANDAS_ATTRS``), so
``pandas.read_parquet`` gives back the same frame, attrs included.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .._client import Client, get_client
from .._model.errors import RegistryKitError, Unsupported
from .._model.reference import Reference
from .listing import RegistryArg, _audit_names, audit

__all__ = ["audit_to_parquet"]


def require_pyarrow() -> None:
    """Raise a one-line ``Unsupported`` naming the extra when pyarrow is missing."""
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        raise Unsupported(
            "writing Parquet needs pyarrow: pip install 'registrykit[dask]'"
        ) from None


def _fresh_directory(directory: Path) -> None:
    # Parts of an older audit would be read back with the new ones: refuse, delete nothing.
    if directory.is_dir() and any(directory.glob("part-*.parquet")):
        raise RegistryKitError(
            f"{directory} already holds an audit (part-*.parquet): remove it or choose another"
        )


def audit_to_parquet(
    registry_or_repositories: RegistryArg | Sequence[str | Reference],
    path: str | os.PathLike[str],
    *,
    client: Client | None = None,
    progress: bool | None = None,
    engine: Literal["local", "dask"] = "local",
    dask_client: Any = None,
    partitions: int | None = None,
) -> Path:
    """Audit (as ``rk.audit``) and write the frame to Parquet; returns ``path``.

    A ``path`` ending in ``.parquet`` is one file. Any other path is a
    directory of ``part-NNNNN.parquet`` files that together hold the frame in
    order; with ``engine="dask"`` the workers write them, one per repository
    partition, and the rows are never gathered here (the directory must be
    reachable by every worker). ``pandas.read_parquet(path)`` gives back the
    frame ``rk.audit`` returns, attrs included; DuckDB reads it as
    ``SELECT * FROM 'DIR/*.parquet'``. Needs pyarrow
    (``pip install registrykit[dask]``).
    """
    require_pyarrow()
    target = Path(path)
    single = target.suffix == ".parquet"
    if not single:
        _fresh_directory(target)
    if engine == "dask" and not single:
        from .distributed import run, write_on_dask

        c = get_client(client)
        audited = run(
            _audit_names(registry_or_repositories, c),
            client=c,
            dask_client=dask_client,
            partitions=partitions,
            progress=progress,
        )
        write_on_dask(audited, target)
        return target
    df = audit(
        registry_or_repositories,
        client=client,
        progress=progress,
        engine=engine,
        dask_client=dask_client,
        partitions=partitions,
    )
    write_frame(df, target if single else target / "part-00000.parquet")
    return target


def write_frame(df: pd.DataFrame, path: Path) -> None:
    """``df`` as one Parquet file (attrs in its metadata), its directory made if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
