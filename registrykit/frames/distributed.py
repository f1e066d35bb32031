"""``rk.audit(..., engine="dask")``: repository partitions audited on a Dask cluster.

Loaded only when that engine is asked for, so ``import registrykit`` never
imports Dask. The task graph holds this package's functions, repository
names and ``WorkerSettings`` (no secret: graphs show up in dashboards and
logs); every worker builds its own ``Client`` and reads its own logins.

Three rounds: each partition is audited and stays on its worker; the
partitions' blob digest -> ``(size, holders)`` maps come back and are added
up here, so a layer shared across partitions is counted once; the shared
digests go out once (broadcast) and each partition makes its rows there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._client import Client
from .._model.errors import Unsupported
from .._ops.audit import RepositoryAudit, audit_rows, blob_counts
from .._ops.partition import WorkerSettings, audit_partition, chunks
from .._ops.progress import bar
from .listing import _audit_frame, _one_registry

Row = dict[str, Any]


def connect(dask_client: Any) -> Any:
    """``dask_client``, else the current ``distributed.Client``; says how to get one."""
    try:
        import distributed
    except ImportError:
        raise Unsupported(
            "engine='dask' needs dask and distributed: pip install 'registrykit[dask]'"
        ) from None
    if dask_client is not None:
        return dask_client
    try:
        return distributed.default_client()  # type: ignore[no-untyped-call]
    except ValueError:
        raise Unsupported(
            "engine='dask' found no Dask client: start one first (distributed.Client() for a "
            "local cluster, distributed.Client('SCHEDULER:8786') for a cluster) or pass "
            "dask_client="
        ) from None


@dataclass(frozen=True)
class Audited:
    """An audit whose partitions' rows are still on the workers (futures)."""

    dask: Any
    rows: list[Any]
    registry: str | None
    total_stored_size: int
    total_logical_size: int


def _summary(audits: list[RepositoryAudit]) -> tuple[dict[str, tuple[int, int]], int]:
    return blob_counts(audits), sum(a.logical_size for a in audits)


def run(
    names: Sequence[str],
    *,
    client: Client,
    dask_client: Any,
    partitions: int | None,
    progress: bool | None = None,
) -> Audited:
    """Audit ``names`` (``host/name``) on the cluster; the rows stay where they were made."""
    dask = connect(dask_client)
    settings = WorkerSettings.of(client)
    if partitions is None:
        partitions = 2 * max(1, sum(dask.nthreads().values()))
    from distributed import as_completed  # connect() has checked it imports

    pieces = chunks(names, partitions)
    # pure=False: a registry changes, so equal arguments must not reuse an old result.
    parts = [dask.submit(audit_partition, piece, settings, pure=False) for piece in pieces]
    summaries = [dask.submit(_summary, p) for p in parts]
    repositories = {s.key: len(piece) for s, piece in zip(summaries, pieces, strict=True)}
    advance = bar(len(names), "auditing", unit="repo", progress=progress)
    holders: dict[str, tuple[int, int]] = {}
    logical = 0
    for done, (counts, part_logical) in as_completed(  # type: ignore[no-untyped-call]
        summaries, loop=dask.loop, with_results=True
    ):
        advance(repositories[done.key])
        logical += part_logical
        for digest, (size, n) in counts.items():
            holders[digest] = (size, holders.get(digest, (0, 0))[1] + n)
    shared = frozenset(d for d, (_, n) in holders.items() if n > 1)
    [shared_future] = dask.scatter([shared], broadcast=True)
    rows = [dask.submit(audit_rows, p, shared_future) for p in parts]
    stored = sum(size for size, _ in holders.values())
    return Audited(dask, rows, _one_registry(names), stored, logical)


def audit_on_dask(
    names: Sequence[str],
    *,
    client: Client,
    dask_client: Any,
    partitions: int | None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """The audit frame of ``names``, the same as the local engine's."""
    audited = run(
        names, client=client, dask_client=dask_client, partitions=partitions, progress=progress
    )
    rows = [row for part in audited.dask.gather(audited.rows) for row in part]
    return _audit_frame(
        rows, audited.registry, audited.total_stored_size, audited.total_logical_size
    )


def _sort_keys(rows: list[Row]) -> list[tuple[int, str]]:
    return [(-r["stored_size"], r["repository"]) for r in rows]


def _write_part(
    path: str, wanted: frozenset[str], audited: tuple[str | None, int, int], *parts: list[Row]
) -> str:
    registry, stored, logical = audited
    rows = [r for part in parts for r in part if r["repository"] in wanted]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _audit_frame(rows, registry, stored, logical).to_parquet(path, index=False)
    return path


def write_on_dask(audited: Audited, directory: Path) -> list[Path]:
    """Write the audit as ``part-NNNNN.parquet`` files in audit order, from the workers.

    Only ``(stored_size, repository)`` keys come here, to fix the global
    order; each file's rows go from the partitions that made them to the
    worker that writes them. ``directory`` must be reachable by every worker.
    """
    dask = audited.dask
    # Workers may run elsewhere (another working directory): give them the whole path.
    directory = directory.absolute()
    keyed = dask.gather([dask.submit(_sort_keys, r) for r in audited.rows])
    order = sorted((key, part) for part, keys in enumerate(keyed) for key in keys)
    totals = (audited.registry, audited.total_stored_size, audited.total_logical_size)
    writes = []
    for number, piece in enumerate(chunks(order, len(audited.rows))):
        wanted = frozenset(repository for (_, repository), _ in piece)
        sources = sorted({part for _, part in piece})
        path = os.fspath(directory / f"part-{number:05d}.parquet")
        inputs = [audited.rows[i] for i in sources]
        writes.append(dask.submit(_write_part, path, wanted, totals, *inputs, pure=False))
    return [Path(p) for p in dask.gather(writes)]
