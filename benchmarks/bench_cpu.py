"""Client CPU per request: a cold ``rk.tags`` against a bare ``httpx.Client`` loop.

The bare loop sends the same requests as the listing (the tag list, each
tag's manifest, each distinct platform manifest and config once) from a
thread pool of the same size over one ``httpx.Client``, and parses each JSON
body, as the least a client must do to know what to ask next. Both run in
this process against one LocalRegistry (the registry's CPU is its own), at
each ``--concurrency``, interleaved within each repetition so a busy moment
of the shared machine hits both alike. Recorded: process CPU and wall time
per run, requests sent (counted by an event hook on each client), and the
ratio rk / bare of CPU per request, median and range over ``--runs``.

Usage: ``python benchmarks/bench_cpu.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")

import httpx
from bench_listing import REPO, seed_tags
from figures import machine, summary, write_json

import registrykit as rk
from registrykit.frames import listing

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


def rk_listing(host: str, concurrency: int) -> int:
    """One cold ``rk.tags`` (a new client, no cache); the requests it sent."""
    sent = [0]

    def count(request: httpx.Request) -> None:
        sent[0] += 1

    with rk.Client(cache_dir=None, concurrency=concurrency) as client:
        client.http.event_hooks["request"].append(count)
        listing.tags(f"{host}/{REPO}", client=client)
    return sent[0]


def bare_listing(url: str, concurrency: int) -> int:
    """The same requests from a bare httpx thread-pool loop; the requests it sent."""
    sent = [0]
    lock = threading.Lock()
    fetched: set[str] = set()

    def count(request: httpx.Request) -> None:
        sent[0] += 1

    limits = httpx.Limits(max_connections=2 * concurrency)
    with httpx.Client(limits=limits, event_hooks={"request": [count]}) as http:

        def once(digest: str) -> bool:
            with lock:
                new = digest not in fetched
                fetched.add(digest)
            return new

        def get_json(path: str) -> Any:
            response = http.get(f"{url}/v2/{REPO}/{path}", headers={"Accept": ACCEPT})
            response.raise_for_status()
            return response.json()

        def config(manifest: dict[str, Any]) -> None:
            digest = manifest["config"]["digest"]
            if once(digest):
                get_json(f"blobs/{digest}")

        def resolve(tag: str) -> None:
            top = get_json(f"manifests/{tag}")
            if top.get("mediaType") in INDEXES:
                for entry in top["manifests"]:
                    if once(entry["digest"]):
                        config(get_json(f"manifests/{entry['digest']}"))
            else:
                config(top)

        tags = http.get(f"{url}/v2/{REPO}/tags/list", params={"n": "1000"}).json()["tags"]
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(resolve, tags))
    return sent[0]


def measure(run: Callable[[str, int], int], target: str, concurrency: int) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    requests = run(target, concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "requests": requests, "cpu_ms": 1000 * cpu / requests}


def compare(
    registry: rk.LocalRegistry, concurrencies: list[int], runs: int
) -> list[dict[str, Any]]:
    samples: dict[tuple[str, int], list[dict[str, float]]] = {}
    for _ in range(runs):
        for concurrency in concurrencies:
            runners = (("rk", rk_listing, registry.host), ("bare", bare_listing, registry.url))
            for kind, run, target in runners:
                sample = measure(run, target, concurrency)
                samples.setdefault((kind, concurrency), []).append(sample)
    results = []
    for concurrency in concurrencies:
        mine, bare = samples[("rk", concurrency)], samples[("bare", concurrency)]
        result = {
            "concurrency": concurrency,
            "rk_cpu_ms_per_request": summary([s["cpu_ms"] for s in mine]),
            "bare_cpu_ms_per_request": summary([s["cpu_ms"] for s in bare]),
            "ratio": summary([m["cpu_ms"] / b["cpu_ms"] for m, b in zip(mine, bare, strict=True)]),
            "rk_wall_s": summary([s["wall_s"] for s in mine]),
            "bare_wall_s": summary([s["wall_s"] for s in bare]),
            "rk_requests": summary([s["requests"] for s in mine]),
            "bare_requests": summary([s["requests"] for s in bare]),
        }
        results.append(result)
        ratio = result["ratio"]
        print(
            f"  {concurrency:>3} in flight: rk {result['rk_cpu_ms_per_request']['median']:.3f} "
            f"ms/request, bare httpx {result['bare_cpu_ms_per_request']['median']:.3f}; "
            f"ratio {ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f}), "
            f"target <= 1.2 {'OK' if ratio['median'] <= 1.2 else 'MISSED'}",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--multis", type=int, default=20)
    parser.add_argument(
        "--concurrency", type=lambda text: [int(c) for c in text.split(",")], default=[8, 32]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="40+5 tags (CI)")
    args = parser.parse_args()
    if args.quick:
        args.singles, args.multis = 40, 5
    with rk.LocalRegistry() as registry, rk.Client(cache_dir=None, concurrency=16) as seeder:
        print(f"registry {registry.url}; seeding {args.singles}+{args.multis} tags ...", flush=True)
        tags = seed_tags(seeder, registry.host, args.singles, args.multis)
        print(f"\nclient CPU per request, cold rk.tags of {len(tags)} tags vs bare httpx")
        results = compare(registry, args.concurrency, args.runs)
    if args.json is not None:
        write_json(
            args.json,
            {
                "benchmark": "cpu_per_request",
                "tags": len(tags),
                "runs": args.runs,
                "machine": machine(),
                "results": results,
            },
        )


if __name__ == "__main__":
    main()
