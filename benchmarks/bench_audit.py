"""``rk.audit`` of many repositories against a minimal raw-httpx client, in one run.

Seeding is cheap: one small image is pushed once, then every repository
mounts its two blobs and gets ``--tags`` manifests PUT under distinct tags,
each a distinct image (one annotation varies), so an audit must read every
manifest. Timed, interleaved, ``--runs`` times at each ``--rtt`` (through
``latency_proxy``, which also counts requests and connections):

* ``rk.audit(host)`` with a fresh client and no cache (default settings);
* a raw client sending the requests an audit of sizes needs (catalog pages,
  then every tag list, then every manifest) on a thread pool of the same
  concurrency as rk's default, summing config and layer sizes per repository.

Then ``rk.audit``'s peak RSS in a fresh child process. The registry's CPU is
reported beside the client's: on a 2-core machine the two share the cores,
so loopback figures are CPU-bound.

    python benchmarks/bench_audit.py --quick            # 50 repositories, RTT 0
    python benchmarks/bench_audit.py --repos 500 --rtt 0,20 --json audit.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Progress bars would be drawn inside the timed calls; keep the output clean.
os.environ.setdefault("TQDM_DISABLE", "1")

import httpx
from figures import listing_child, machine, process_cpu_seconds, summary, write_json
from latency_proxy import ProxyHandle, parse_rtts, running_proxy

import registrykit as rk
from registrykit.frames import listing
from registrykit.lab.build import build_image, gzip_layer, tar_layer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def repo_name(i: int) -> str:
    return f"audit/repo-{i:05d}"


def seed(client: rk.Client, host: str, repos: int, tags: int) -> None:
    reg = client.registry(host)
    image = build_image([gzip_layer(tar_layer({"etc/os-release": b"ID=audit\n"}))], format="oci")
    first = repo_name(0)
    for blob in image.blobs():
        reg.upload_blob(first, blob.digest, blob.size, blob.data)
    manifest = json.loads(image.manifest.data)

    def one(i: int) -> None:
        repo = repo_name(i)
        if i:
            for blob in image.blobs():
                reg.mount_blob(repo, blob.digest, first)
        for t in range(tags):
            # One varying annotation makes every tag a distinct image (digest).
            data = {**manifest, "annotations": {"org.registrykit.bench": f"{i}.{t}"}}
            reg.put_manifest(repo, f"1.{t}.0", json.dumps(data).encode(), OCI_MANIFEST)

    one(0)
    client.map(one, list(range(1, repos)))


def rk_audit(host: str) -> int:
    with rk.Client(cache_dir=None) as client:
        df = listing.audit(host, client=client)
    return int(df["stored_size"].sum())


def raw_audit(host: str, concurrency: int) -> int:
    """Catalog, tag lists, manifests: the requests an audit of sizes needs, nothing else."""
    base = f"http://{host}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits) as http, ThreadPoolExecutor(concurrency) as pool:
        repos: list[str] = []
        url: str | None = f"{base}/v2/_catalog?n=1000"
        while url:
            response = http.get(url)
            repos += response.json()["repositories"]
            link = response.headers.get("link")
            url = str(response.url.join(link.split(";")[0].strip("<> "))) if link else None

        def tag_list(repo: str) -> list[tuple[str, str]]:
            found = http.get(f"{base}/v2/{repo}/tags/list").json()["tags"] or []
            return [(repo, tag) for tag in found]

        def blob_sizes(pair: tuple[str, str]) -> tuple[str, dict[str, int]]:
            repo, tag = pair
            doc = http.get(f"{base}/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT}).json()
            blobs = [doc["config"], *doc["layers"]]
            return repo, {b["digest"]: b["size"] for b in blobs}

        pairs = [p for found in pool.map(tag_list, repos) for p in found]
        stored: dict[str, dict[str, int]] = {}
        for repo, sizes in pool.map(blob_sizes, pairs):
            stored.setdefault(repo, {}).update(sizes)
    return sum(sum(sizes.values()) for sizes in stored.values())


def timed_run(
    fn: Callable[[str], int], proxy: ProxyHandle, registry_pid: int
) -> tuple[dict[str, float], int]:
    registry_cpu = process_cpu_seconds(registry_pid)
    proxy.take_stats()
    wall, cpu = time.perf_counter(), time.process_time()
    stored = fn(proxy.host)
    sample = {"wall_s": time.perf_counter() - wall, "client_cpu_s": time.process_time() - cpu}
    sample["registry_cpu_s"] = process_cpu_seconds(registry_pid) - registry_cpu
    sample.update(proxy.take_stats())
    return sample, stored


def measure(registry: rk.LocalRegistry, rtt_ms: int, runs: int) -> dict[str, Any]:
    concurrency = rk.Client(cache_dir=None).concurrency
    clients: dict[str, Callable[[str], int]] = {
        "rk_audit": rk_audit,
        "raw_httpx": lambda host: raw_audit(host, concurrency),
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    stored: dict[str, int] = {}
    assert registry.pid is not None
    with running_proxy(registry.host, rtt_ms) as proxy:
        for _ in range(runs):
            for name, fn in clients.items():
                sample, stored[name] = timed_run(fn, proxy, registry.pid)
                samples[name].append(sample)
        check = proxy.self_check
    result: dict[str, Any] = {"rtt_ms": rtt_ms, "concurrency": concurrency}
    result.update(summaries(samples))
    ratios = [r["wall_s"] / w["wall_s"] for r, w in zip(*samples.values(), strict=True)]
    result["rk_over_raw"] = summary(ratios)
    result["stored_sizes_agree"] = stored["rk_audit"] == stored["raw_httpx"]
    result["proxy_self_check"] = check
    return result


def summaries(samples: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """Each client's samples as a median and range per figure."""
    return {
        name: {
            key: summary([r[key] for r in runs_of])
            for key in ("wall_s", "client_cpu_s", "registry_cpu_s", "requests", "connections")
        }
        for name, runs_of in samples.items()
    }


def peak_rss(argument: str, function: str = "audit") -> dict[str, float]:
    """``rk.frames.listing.<function>(argument)`` in a fresh child: time, memory, rows."""
    done = subprocess.run(
        [sys.executable, "-c", listing_child(function), argument], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"the {function} child failed:\n{done.stderr[-3000:]}")
    out = done.stdout.split()
    return {
        "wall_s": float(out[0]),
        "rss_after_imports_mib": int(out[1]) / 2**20,
        "peak_rss_mib": int(out[2]) / 2**20,
        "rows": int(out[3]),
    }


def print_clients(r: dict[str, Any], names: tuple[str, ...]) -> None:
    """One line per client: wall time, CPU on both sides, requests and connections."""
    print(f"  RTT {r['rtt_ms']} ms, concurrency {r['concurrency']}:")
    for name in names:
        wall, cpu = r[name]["wall_s"], r[name]["client_cpu_s"]
        print(
            f"    {name:<10} {wall['median']:7.2f} s ({wall['min']:.2f}-{wall['max']:.2f}), "
            f"client CPU {cpu['median']:.2f} s, registry CPU "
            f"{r[name]['registry_cpu_s']['median']:.2f} s, "
            f"{r[name]['requests']['median']:.0f} requests, "
            f"{r[name]['connections']['median']:.0f} connections"
        )


def print_rss(label: str, rss: dict[str, float], note: str = "") -> None:
    print(
        f"  {label} in a child: {rss['wall_s']:.2f} s, {rss['rows']:.0f} rows, "
        f"peak RSS {rss['peak_rss_mib']:.0f} MiB "
        f"(after imports {rss['rss_after_imports_mib']:.0f} MiB){note}",
        flush=True,
    )


def print_ratio(label: str, ratio: dict[str, float], note: str = "") -> None:
    """``label``'s median and range against the 1.5x goal."""
    print(
        f"    -> {label} {ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f}); "
        f"target <= 1.5{note}",
        flush=True,
    )


def print_result(r: dict[str, Any]) -> None:
    print_clients(r, ("rk_audit", "raw_httpx"))
    agree = f"; stored sizes agree: {r['stored_sizes_agree']}"
    print_ratio("rk.audit / raw", r["rk_over_raw"], agree)


def arguments(doc: str | None, rtt: list[int], quick: str) -> argparse.ArgumentParser:
    """The options every timed benchmark here takes: --rtt, --runs, --json, --quick."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rtt", type=parse_rtts, default=rtt, help="ms, e.g. 0,20")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def main() -> None:
    parser = arguments(__doc__, [0, 20], "50 repositories at RTT 0")
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--tags", type=int, default=5, help="tags per repository")
    args = parser.parse_args()
    if args.quick:
        args.repos, args.rtt = 50, [0]

    with rk.LocalRegistry() as registry, rk.Client(cache_dir=None, concurrency=16) as seeder:
        print(f"registry {registry.url}; seeding {args.repos} x {args.tags} tags ...", flush=True)
        started = time.perf_counter()
        seed(seeder, registry.host, args.repos, args.tags)
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        results = []
        for rtt_ms in args.rtt:
            results.append(measure(registry, rtt_ms, args.runs))
            print_result(results[-1])
        rss = peak_rss(registry.host)
        print_rss("rk.audit", rss)
    if args.json is not None:
        write_json(
            args.json,
            {
                "benchmark": "audit",
                "repositories": args.repos,
                "tags_per_repository": args.tags,
                "runs": args.runs,
                "machine": machine(),
                "results": results,
                "rk_audit_child": rss,
            },
        )


if __name__ == "__main__":
    main()
