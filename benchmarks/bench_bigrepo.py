"""``rk.tags`` on one repository with many tags against a minimal raw-httpx client, in one run.

Seeding is cheap and direct (raw HTTP, not what is measured): one shared
layer, then per tag a distinct tiny config (its own ``created`` time)
uploaded monolithically (POST, PUT), and a manifest PUT under the tag, so every
tag is a distinct image and a listing must read every manifest and config.
``--data-dir`` keeps the registry's storage, so a second run skips seeding.

Timed, interleaved, ``--runs`` times, through ``latency_proxy`` (which counts
requests and connections) at each ``--rtt``:

* ``rk_cold``: ``rk.tags(repo)`` with a fresh client and no cache;
* ``raw_cold``: the same requests (tag list, then per tag a manifest GET and
  a config GET, JSON parsed) on a thread pool of rk's default concurrency;
* ``rk_warm``: ``rk.tags(repo)`` again with a persistent cache directory
  filled by one earlier listing (only HEADs should go out);
* ``raw_warm``: the tag list and one manifest HEAD per tag.

Then ``rk.tags``'s peak RSS (VmHWM) in a fresh child process, cold.

    python benchmarks/bench_bigrepo.py --quick              # 1,000 tags, RTT 0
    python benchmarks/bench_bigrepo.py --tags 10000 --json bigrepo.json \
        --data-dir /tmp/rk-bigrepo
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
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
from registrykit.lab.build import gzip_layer, tar_layer

REPO = "big/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def seed(host: str, tags: int, concurrency: int = 16) -> None:
    """``tags`` distinct images in ``REPO``: one shared layer, a config and manifest each."""
    base = f"http://{host}/v2/{REPO}"
    layer = gzip_layer(tar_layer({"etc/os-release": b"ID=big\n"})).blob
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits, timeout=60) as http, ThreadPoolExecutor(concurrency) as pool:

        def upload(data: bytes) -> dict[str, Any]:
            digest = _sha256(data)
            # A monolithic upload: POST for a location, one PUT with the bytes.
            started = http.post(f"{base}/blobs/uploads/")
            started.raise_for_status()
            location = str(started.url.join(started.headers["location"]))
            joiner = "&" if "?" in location else "?"  # keep the upload's own _state query
            done = http.put(f"{location}{joiner}digest={digest}", content=data)
            done.raise_for_status()
            return {"size": len(data), "digest": digest}

        shared = {**upload(layer.data), "mediaType": layer.media_type}

        def one(i: int) -> None:
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + 60 * i))
            config = {
                "architecture": "amd64",
                "os": "linux",
                "created": created,
                "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
            }
            described = {**upload(json.dumps(config).encode()), "mediaType": OCI_CONFIG}
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": described,
                "layers": [shared],
            }
            response = http.put(
                f"{base}/manifests/1.{i}.0",
                content=json.dumps(manifest).encode(),
                headers={"Content-Type": OCI_MANIFEST},
            )
            response.raise_for_status()

        list(pool.map(one, range(tags)))


def seeded(data_dir: Path | None, tags: int) -> bool:
    return data_dir is not None and (data_dir / f"seeded-{tags}").exists()


# -- what is timed --------------------------------------------------------------------


def rk_tags(host: str, cache_dir: Path | None = None) -> int:
    with rk.Client(cache_dir=cache_dir) as client:
        return len(listing.tags(f"{host}/{REPO}", client=client))


def raw_tags(host: str, concurrency: int, *, warm: bool) -> int:
    """The tag list, then per tag a manifest and config GET (cold) or one manifest HEAD (warm)."""
    base = f"http://{host}/v2/{REPO}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits, timeout=60) as http, ThreadPoolExecutor(concurrency) as pool:
        names: list[str] = http.get(f"{base}/tags/list").json()["tags"]

        def cold(tag: str) -> str:
            doc = http.get(f"{base}/manifests/{tag}", headers={"Accept": ACCEPT}).json()
            config = http.get(f"{base}/blobs/{doc['config']['digest']}").json()
            return str(config["created"])

        def head(tag: str) -> str:
            response = http.head(f"{base}/manifests/{tag}", headers={"Accept": ACCEPT})
            return response.headers["docker-content-digest"]

        return len(list(pool.map(head if warm else cold, names)))


def timed_run(
    fn: Callable[[str], int], proxy: ProxyHandle, registry_pid: int
) -> tuple[dict[str, float], int]:
    registry_cpu = process_cpu_seconds(registry_pid)
    proxy.take_stats()
    wall, cpu = time.perf_counter(), time.process_time()
    rows = fn(proxy.host)
    sample = {"wall_s": time.perf_counter() - wall, "client_cpu_s": time.process_time() - cpu}
    sample["registry_cpu_s"] = process_cpu_seconds(registry_pid) - registry_cpu
    sample.update(proxy.take_stats())
    return sample, rows


def measure(registry: rk.LocalRegistry, rtt_ms: int, runs: int, cache: Path) -> dict[str, Any]:
    concurrency = rk.Client(cache_dir=None).concurrency
    clients: dict[str, Callable[[str], int]] = {
        "rk_cold": rk_tags,
        "raw_cold": lambda host: raw_tags(host, concurrency, warm=False),
        "rk_warm": lambda host: rk_tags(host, cache),
        "raw_warm": lambda host: raw_tags(host, concurrency, warm=True),
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    rows: dict[str, int] = {}
    assert registry.pid is not None
    with running_proxy(registry.host, rtt_ms) as proxy:
        rk_tags(proxy.host, cache)  # fills the warm side's cache (untimed)
        for _ in range(runs):
            for name, fn in clients.items():
                sample, rows[name] = timed_run(fn, proxy, registry.pid)
                samples[name].append(sample)
    result: dict[str, Any] = {"rtt_ms": rtt_ms, "concurrency": concurrency, "rows": rows}
    for name, runs_of in samples.items():
        result[name] = {
            key: summary([r[key] for r in runs_of])
            for key in ("wall_s", "client_cpu_s", "registry_cpu_s", "requests", "connections")
        }
    for kind in ("cold", "warm"):
        pairs = zip(samples[f"rk_{kind}"], samples[f"raw_{kind}"], strict=True)
        result[f"rk_over_raw_{kind}"] = summary([r["wall_s"] / w["wall_s"] for r, w in pairs])
    return result


def peak_rss(host: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", listing_child("tags"), f"{host}/{REPO}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "wall_s": float(out[0]),
        "rss_after_imports_mib": int(out[1]) / 2**20,
        "peak_rss_mib": int(out[2]) / 2**20,
        "rows": int(out[3]),
    }


def print_result(r: dict[str, Any]) -> None:
    print(f"  RTT {r['rtt_ms']} ms, concurrency {r['concurrency']}:")
    for name in ("rk_cold", "raw_cold", "rk_warm", "raw_warm"):
        wall, cpu = r[name]["wall_s"], r[name]["client_cpu_s"]
        print(
            f"    {name:<9} {wall['median']:7.2f} s ({wall['min']:.2f}-{wall['max']:.2f}), "
            f"client CPU {cpu['median']:.2f} s, registry CPU "
            f"{r[name]['registry_cpu_s']['median']:.2f} s, "
            f"{r[name]['requests']['median']:.0f} requests, "
            f"{r[name]['connections']['median']:.0f} connections"
        )
    for kind in ("cold", "warm"):
        ratio = r[f"rk_over_raw_{kind}"]
        print(
            f"    -> rk / raw {kind}: {ratio['median']:.2f}x "
            f"({ratio['min']:.2f}-{ratio['max']:.2f}); target <= 1.5",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--rtt", type=parse_rtts, default=[0], help="ms, e.g. 0,20")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the registry here")
    parser.add_argument("--quick", action="store_true", help="1,000 tags at RTT 0")
    args = parser.parse_args()
    if args.quick:
        args.tags, args.rtt = 1_000, [0]

    with (
        rk.LocalRegistry(data_dir=args.data_dir) as registry,
        tempfile.TemporaryDirectory() as cache,
    ):
        if not seeded(args.data_dir, args.tags):
            print(f"registry {registry.url}; seeding {args.tags} tags ...", flush=True)
            started = time.perf_counter()
            seed(registry.host, args.tags)
            print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
            if args.data_dir is not None:
                (args.data_dir / f"seeded-{args.tags}").touch()
        results = []
        for rtt_ms in args.rtt:
            results.append(measure(registry, rtt_ms, args.runs, Path(cache)))
            print_result(results[-1])
        rss = peak_rss(registry.host)
        print(
            f"  rk.tags cold in a child: {rss['wall_s']:.2f} s, {rss['rows']:.0f} rows, "
            f"peak RSS {rss['peak_rss_mib']:.0f} MiB "
            f"(after imports {rss['rss_after_imports_mib']:.0f} MiB); target <= 200 MB",
            flush=True,
        )
    if args.json is not None:
        write_json(
            args.json,
            {
                "benchmark": "bigrepo",
                "tags": args.tags,
                "runs": args.runs,
                "machine": machine(),
                "results": results,
                "rk_tags_child": rss,
            },
        )


if __name__ == "__main__":
    main()
