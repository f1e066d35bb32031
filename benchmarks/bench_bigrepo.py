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

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Progress bars would be drawn inside the timed calls; keep the output clean.
os.environ.setdefault("TQDM_DISABLE", "1")

import httpx
from bench_audit import (
    ACCEPT,
    OCI_MANIFEST,
    arguments,
    peak_rss,
    print_clients,
    print_ratio,
    print_rss,
    summaries,
    timed_run,
)
from figures import machine, summary, write_json
from latency_proxy import running_proxy

import registrykit as rk
from registrykit.frames import listing
from registrykit.lab.build import gzip_layer, tar_layer

REPO = "big/app"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


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
    result.update(summaries(samples))
    for kind in ("cold", "warm"):
        pairs = zip(samples[f"rk_{kind}"], samples[f"raw_{kind}"], strict=True)
        result[f"rk_over_raw_{kind}"] = summary([r["wall_s"] / w["wall_s"] for r, w in pairs])
    return result


def print_result(r: dict[str, Any]) -> None:
    print_clients(r, ("rk_cold", "raw_cold", "rk_warm", "raw_warm"))
    for kind in ("cold", "warm"):
        print_ratio(f"rk / raw {kind}:", r[f"rk_over_raw_{kind}"])


def main() -> None:
    parser = arguments(__doc__, [0], "1,000 tags at RTT 0")
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the registry here")
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
        rss = peak_rss(f"{registry.host}/{REPO}", "tags")
        print_rss(
            "rk.tags cold", rss, f"; {rss['peak_rss_mib'] * 2**20 / 1e6:.0f} MB, target <= 200"
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
