"""``rk.audit(engine="dask")`` against the local engine, in one run, through a latency proxy.

The registry is seeded as in ``bench_audit.py`` (one image, many repositories,
every tag a distinct image). At each ``--rtt`` the two engines run
interleaved ``--runs`` times with fresh clients and no cache: the local engine
on one process (default concurrency), the Dask engine on a ``LocalCluster``
of ``--workers`` processes with two threads each (so up to workers x 2
partitions x the client's concurrency requests in flight). Both frames must
be equal. On one 2-core machine the workers share the cores with the
registry and the driver: the figure shows the overhead of the engine and,
at a high RTT, the gain from more requests in flight; a real cluster adds
machines, and with them CPU and connections.

    python benchmarks/bench_dask.py --quick                # 50 repositories, RTT 0
    python benchmarks/bench_dask.py --repos 500 --rtt 0,80 --json dask.json
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from pathlib import Path
from typing import Any

# Progress bars would be drawn inside the timed calls; keep the output clean.
os.environ.setdefault("TQDM_DISABLE", "1")

import distributed
import pandas as pd
from bench_audit import seed
from figures import machine, summary, write_json
from latency_proxy import parse_rtts, running_proxy

import registrykit as rk

# Tags per repository, each a distinct image, as in bench_audit.py and issue 14.
TAGS = 5


def timed(host: str, **engine: Any) -> tuple[float, pd.DataFrame]:
    with rk.Client(cache_dir=None) as client:
        started = time.perf_counter()
        df = rk.audit(host, client=client, **engine)
    return time.perf_counter() - started, df


def measure(host: str, dask: distributed.Client, rtt_ms: int, runs: int) -> dict[str, Any]:
    walls: dict[str, list[float]] = {"local": [], "dask": []}
    agree = True
    with running_proxy(host, rtt_ms) as proxy:
        for _ in range(runs):
            wall, local = timed(proxy.host)
            walls["local"].append(wall)
            wall, on_dask = timed(proxy.host, engine="dask", dask_client=dask)
            walls["dask"].append(wall)
            agree = agree and local.equals(on_dask) and local.attrs == on_dask.attrs
    ratios = [d / w for d, w in zip(walls["dask"], walls["local"], strict=True)]
    return {
        "rtt_ms": rtt_ms,
        "local_s": summary(walls["local"]),
        "dask_s": summary(walls["dask"]),
        "dask_over_local": summary(ratios),
        "frames_equal": agree,
    }


OPTIONS: dict[str, dict[str, Any]] = {
    "--workers": {"type": int, "default": 2, "help": "Dask worker processes"},
    "--repos": {"type": int, "default": 500},
    "--rtt": {"type": parse_rtts, "default": [0, 80], "help": "ms, e.g. 0,80"},
    "--runs": {"type": int, "default": 3},
    "--json": {"type": Path, "default": None, "help": "write the figures here"},
    "--quick": {"action": "store_true", "help": "50 repositories at RTT 0, once"},
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flag, options in OPTIONS.items():
        parser.add_argument(flag, **options)
    args = parser.parse_args()
    if args.quick:
        args.repos, args.rtt, args.runs = 50, [0], 1

    with (
        rk.LocalRegistry() as registry,
        distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=2, dashboard_address="127.0.0.1:0"
        ) as cluster,
        distributed.Client(cluster) as dask,
    ):
        with rk.Client(cache_dir=None, concurrency=16) as seeder:
            seed(seeder, registry.host, args.repos, TAGS)
        print(f"registry {registry.url}: {args.repos} x {TAGS} tags seeded", flush=True)
        # Workers import registrykit once, outside the timed runs (as on a long-lived cluster).
        dask.run(importlib.import_module, "registrykit.frames.distributed")
        results = []
        for rtt_ms in args.rtt:
            r = measure(registry.host, dask, rtt_ms, args.runs)
            results.append(r)
            local, on_dask, ratio = r["local_s"], r["dask_s"], r["dask_over_local"]
            print(
                f"  RTT {rtt_ms} ms: local {local['median']:.2f} s "
                f"({local['min']:.2f}-{local['max']:.2f}), dask {on_dask['median']:.2f} s "
                f"({on_dask['min']:.2f}-{on_dask['max']:.2f}) -> dask/local "
                f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f}); "
                f"frames equal: {r['frames_equal']}",
                flush=True,
            )
    if args.json is not None:
        shape = {"repositories": args.repos, "tags_per_repository": TAGS}
        cluster_shape = {"workers": args.workers, "threads_per_worker": 2, "runs": args.runs}
        figures = {"machine": machine(), "results": results}
        write_json(args.json, {"benchmark": "audit_dask", **shape, **cluster_shape, **figures})


if __name__ == "__main__":
    main()
