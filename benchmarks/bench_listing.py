"""Benchmarks for the listing frames, measured against the usual tools in one run.

Starts a LocalRegistry, seeds it through the registry API (fast; the
skopeo loop is what rk is compared with, not how the registry is filled),
then prints medians and ratios beside the targets of issue 3:

* ``rk.tags()`` over N single-arch + M multi-arch tags, cold cache, against
  a loop of ``skopeo inspect`` and a python-dxf loop; warm against cold;
* ``rk.catalog()`` over R repositories against a bare httpx paging loop;
* ``rk.files()`` on a large gzip layer against ``tar -tzvf`` on the same
  blob file, with peak RSS measured in a fresh subprocess;
* ``rk.tags()`` cold through a latency proxy at ``--rtt`` milliseconds, at
  the default (adaptive) and at fixed ``--concurrency``: wall time, client
  CPU, request and connection counts, registry CPU, the network floor
  (``listing_rtt``), written to ``--json`` with a plot beside it;
* a sequential ``skopeo list-tags`` + ``skopeo inspect`` loop through the
  proxy at ``--skopeo-rtt`` ms, against the default's median there. With
  ``--skopeo-tags N`` only N tags (spread over the list) are inspected and
  the loop's time is extrapolated: list-tags + the median inspect x all tags.

Usage: ``python benchmarks/bench_listing.py [--quick] [--json out.json]``
(see ``--help``). ``--quick`` is small enough for CI (under a minute).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Progress bars would be drawn inside the timed calls; keep the output clean.
os.environ.setdefault("TQDM_DISABLE", "1")

import httpx
from figures import listing_child, machine, summary, write_json
from latency_proxy import parse_rtts, running_proxy
from listing_rtt import DEFAULT, plot, sweep

import registrykit as rk
from registrykit._registry.api import RegistryClient
from registrykit.frames import listing
from registrykit.lab.build import Blob, Image, build_image, build_index, gzip_layer, tar_layer

REPO = "bench/app"
FILES_REPO = "bench/big"


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, seconds: float, note: str = "") -> None:
    print(f"  {name:<44} {seconds * 1000:>10.1f} ms  {note}")


def verdict(label: str, ratio: float, target: str, ok: bool) -> None:
    print(f"  -> {label:<42} {ratio:>8.2f}x   target {target:<8} {'OK' if ok else 'MISSED'}")


# -- seeding ------------------------------------------------------------------------


def push_image(
    reg: RegistryClient, repo: str, image: Image, tag: str | None, skip: frozenset[str]
) -> None:
    # Shared blobs are uploaded once up front: concurrent uploads of one
    # digest race inside distribution (DIGEST_INVALID).
    for blob in image.blobs():
        if blob.digest in skip:
            continue
        reg.upload_blob(repo, blob.digest, blob.size, blob.data)
    reg.put_manifest(repo, tag or image.digest, image.manifest.data, image.media_type)


def seed_tags(client: rk.Client, host: str, singles: int, multis: int) -> list[str]:
    reg = client.registry(host)
    base = gzip_layer(tar_layer({"etc/os-release": b"ID=bench\n" * 50}))
    reg.upload_blob(REPO, base.blob.digest, base.blob.size, base.blob.data)
    shared = frozenset({base.blob.digest})

    def single(i: int) -> str:
        layer = gzip_layer(tar_layer({f"app/{i}": str(i).encode() * 100}))
        image = build_image(
            [base, layer], format="docker", created=f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
        )
        tag = f"1.{i}.0"
        push_image(reg, REPO, image, tag, shared)
        return tag

    def multi(i: int) -> str:
        images = [
            build_image(
                [base, gzip_layer(tar_layer({f"arch/{arch}/{i}": arch.encode() * 10}))],
                architecture=arch,
                variant="v8" if arch == "arm64" else None,
                format="docker",
            )
            for arch in ("amd64", "arm64")
        ]
        for image in images:
            push_image(reg, REPO, image, None, shared)
        index = build_index(images, format="docker")
        tag = f"multi-{i}"
        reg.put_manifest(REPO, tag, index.manifest.data, index.media_type)
        return tag

    tags = client.map(single, list(range(singles)))
    tags += client.map(multi, list(range(multis)))
    return tags


def seed_repositories(client: rk.Client, host: str, count: int) -> None:
    reg = client.registry(host)
    config = Blob(
        "application/vnd.docker.container.image.v1+json",
        b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    )
    reg.upload_blob("bench/seed", config.digest, config.size, config.data)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": config.descriptor(),
            "layers": [],
        }
    ).encode()

    def one(i: int) -> None:
        repo = f"many/repo-{i:05d}"
        reg.mount_blob(repo, config.digest, "bench/seed")
        reg.put_manifest(
            repo, "1", manifest, "application/vnd.docker.distribution.manifest.v2+json"
        )

    client.map(one, list(range(count)))


@contextmanager
def big_layer(
    workdir: Path, megabytes: int, files: int = 4
) -> Iterator[tuple[Path, str, int, str]]:
    """A gzip layer of ``files`` incompressible files: (path, digest, size, diff_id)."""
    tar_path = workdir / "layer.tar"
    per_file = megabytes * 1024 * 1024 // files
    with tarfile.open(tar_path, "w") as tar:
        for i in range(files):
            data_path = workdir / f"data{i}.bin"
            with open(data_path, "wb") as out:
                left = per_file
                while left:
                    n = min(left, 8 << 20)
                    out.write(os.urandom(n))
                    left -= n
            tar.add(data_path, arcname=f"data/file{i}.bin")
            data_path.unlink()
        for i in range(200):
            info = tarfile.TarInfo(f"etc/small/{i}.conf")
            payload = f"value={i}\n".encode()
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    gz_path = workdir / "layer.tar.gz"
    with open(tar_path, "rb") as src, gzip.open(gz_path, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst, 8 << 20)
    diff_id = "sha256:" + _sha256(tar_path)
    tar_path.unlink()
    yield gz_path, "sha256:" + _sha256(gz_path), gz_path.stat().st_size, diff_id


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def push_big_image(client: rk.Client, host: str, layer: tuple[Path, str, int, str]) -> str:
    path, digest, size, diff_id = layer
    reg = client.registry(host)

    @contextmanager
    def source() -> Iterator[Iterator[bytes]]:
        with open(path, "rb") as f:
            yield iter(lambda: f.read(1 << 20), b"")

    reg.upload_blob(FILES_REPO, digest, size, source)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "COPY data /data"}],
        }
    ).encode()
    cfg = Blob("application/vnd.oci.image.config.v1+json", config)
    reg.upload_blob(FILES_REPO, cfg.digest, cfg.size, cfg.data)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": cfg.descriptor(),
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest,
                    "size": size,
                }
            ],
        }
    ).encode()
    reg.put_manifest(FILES_REPO, "1", manifest, "application/vnd.oci.image.manifest.v1+json")
    return f"{host}/{FILES_REPO}:1"


# -- comparisons --------------------------------------------------------------------


def skopeo_rtt_loop(
    registry: rk.LocalRegistry, tags: list[str], rtt_ms: int, sampled: int | None
) -> dict[str, Any]:
    """``skopeo list-tags`` then ``skopeo inspect`` per tag, one after another, at ``rtt_ms``."""
    chosen = tags if not sampled or sampled >= len(tags) else tags[:: len(tags) // sampled]
    with running_proxy(registry.host, rtt_ms) as proxy:
        target = f"docker://{proxy.host}/{REPO}"
        start = time.perf_counter()
        subprocess.run(
            ["skopeo", "list-tags", "--tls-verify=false", target], check=True, capture_output=True
        )
        list_tags = time.perf_counter() - start
        inspects = []
        for tag in chosen:
            start = time.perf_counter()
            subprocess.run(
                ["skopeo", "inspect", "--tls-verify=false", f"{target}:{tag}"],
                check=True,
                capture_output=True,
            )
            inspects.append(time.perf_counter() - start)
    per_tag = summary(inspects)
    return {
        "rtt_ms": rtt_ms,
        "tags": len(tags),
        "inspected": len(chosen),
        "list_tags_s": list_tags,
        "inspect_s": per_tag,
        "loop_s": list_tags + per_tag["median"] * len(tags),
        "extrapolated": len(chosen) < len(tags),
    }


def skopeo_loop(host: str, tags: list[str]) -> None:
    for tag in tags:
        subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", f"docker://{host}/{REPO}:{tag}"],
            check=True,
            capture_output=True,
        )


def dxf_loop(host: str, tags: list[str]) -> None:
    from dxf import DXF

    d = DXF(host, REPO, insecure=True)

    def config_of(manifest_text: str) -> None:
        manifest = json.loads(manifest_text)
        for _ in d.pull_blob(manifest["config"]["digest"]):
            pass

    for tag in tags:
        d.get_digest(tag)
        found = d.get_manifest(tag)
        if isinstance(found, dict):  # a manifest list: one manifest per platform
            for text in found.values():
                config_of(text)
        else:
            config_of(found)


def httpx_catalog(url: str) -> int:
    names = 0
    with httpx.Client() as http:
        next_url: str | None = f"{url}/v2/_catalog?n=1000"
        while next_url:
            response = http.get(next_url)
            names += len(response.json()["repositories"])
            link = response.headers.get("link")
            next_url = str(response.url.join(link.split(";")[0].strip("<> "))) if link else None
    return names


FILES_CHILD = listing_child("files")


def bench_files(host: str, image: str, blob_file: Path, runs: int) -> None:
    print("\nrk.files() on one large gzip layer")
    size = blob_file.stat().st_size
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", FILES_CHILD, image], capture_output=True, text=True, check=True
        ).stdout.split()
        results.append((float(out[0]), int(out[1]), int(out[2]), int(out[3])))
    rk_time = statistics.median(r[0] for r in results)
    baseline, peak = results[0][1], max(r[2] for r in results)

    def tar_list() -> None:
        subprocess.run(["tar", "-tzvf", str(blob_file)], check=True, stdout=subprocess.DEVNULL)

    tar_time = median_time(tar_list, runs)
    row(
        f"rk.files ({size / 2**20:.0f} MiB compressed, {results[0][3]} rows)",
        rk_time,
        f"{size / 2**20 / rk_time:.0f} MiB/s",
    )
    row("tar -tzvf on the blob file", tar_time, f"{size / 2**20 / tar_time:.0f} MiB/s")
    verdict(
        "files throughput vs tar -tzvf", tar_time / rk_time, ">= 0.8", tar_time / rk_time >= 0.8
    )
    grown = (peak - baseline) / 2**20
    print(
        f"  -> peak RSS {peak / 2**20:.0f} MiB (after imports {baseline / 2**20:.0f} MiB, "
        f"+{grown:.0f} MiB while listing)   target < 100 MB  {'OK' if grown < 100 else 'MISSED'}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--multis", type=int, default=20)
    parser.add_argument("--repos", type=int, default=5000)
    parser.add_argument("--layer-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="repetitions for rk and httpx")
    parser.add_argument(
        "--tool-runs", type=int, default=1, help="repetitions of the skopeo/dxf loops"
    )
    parser.add_argument("--rtt", type=parse_rtts, default=None, help="ms, e.g. 0,20,80")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(c) for c in text.split(",")],
        default=[8, 16, 32],
        help="fixed concurrencies measured beside the default at each RTT",
    )
    parser.add_argument("--rtt-runs", type=int, default=3, help="repetitions at each RTT")
    parser.add_argument(
        "--skopeo-rtt", type=parse_rtts, default=[20], help="RTTs (ms) of the skopeo loop"
    )
    parser.add_argument(
        "--skopeo-tags", type=int, default=None, help="inspect only this many tags, extrapolate"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument(
        "--plot", type=Path, default=None, help="RTT plot (PNG; default: beside --json)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes: 40+5 tags, 500 repos, 20 MB, RTT 0,20 at concurrency 8,32",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["skopeo", "dxf", "catalog", "files", "rtt"],
    )
    args = parser.parse_args()
    if args.quick:
        args.singles, args.multis, args.repos, args.layer_mb, args.runs = 40, 5, 500, 20, 3
        args.rtt = args.rtt or [0, 20]
        args.concurrency = [8, 32]
        args.skopeo_tags = args.skopeo_tags or 10
    args.rtt = args.rtt or [0, 20, 80]
    if args.plot is None and args.json is not None:
        args.plot = args.json.with_suffix(".png")
    return args


def bench_rtt(args: argparse.Namespace, registry: rk.LocalRegistry, tags: list[str]) -> None:
    results = sweep(registry, REPO, args.rtt, [None, *args.concurrency], args.rtt_runs)
    skopeo = []
    if "skopeo" not in args.skip and shutil.which("skopeo"):
        for rtt_ms in args.skopeo_rtt:
            found = skopeo_rtt_loop(registry, tags, rtt_ms, args.skopeo_tags)
            default = [r for r in results if r["rtt_ms"] == rtt_ms and r["concurrency"] == DEFAULT]
            if default:
                found["rk_default_s"] = default[0]["wall_s"]["median"]
                found["ratio"] = found["loop_s"] / default[0]["wall_s"]["median"]
            skopeo.append(found)
            row(
                f"skopeo list-tags + inspect loop at {rtt_ms} ms"
                + (f" ({found['inspected']} tags, extrapolated)" if found["extrapolated"] else ""),
                found["loop_s"],
            )
            if "ratio" in found:
                ratio = found["ratio"]
                verdict(
                    f"rk.tags default vs skopeo loop at {rtt_ms} ms", ratio, ">= 25", ratio >= 25
                )
    if args.json is not None:
        write_json(
            args.json,
            {
                "benchmark": "listing_rtt",
                "tags": len(tags),
                "singles": args.singles,
                "multis": args.multis,
                "runs": args.rtt_runs,
                "machine": machine(),
                "results": results,
                "skopeo_loop": skopeo,
            },
        )
    if args.plot is not None:
        plot(results, args.plot)


def main() -> None:
    args = parse_args()
    with rk.LocalRegistry() as registry, rk.Client(cache_dir=None, concurrency=16) as seeder:
        host = registry.host
        print(f"registry {registry.url}; seeding {args.singles}+{args.multis} tags ...", flush=True)
        tags = seed_tags(seeder, host, args.singles, args.multis)

        kinds = f"{args.singles} single-arch, {args.multis} multi-arch"
        print(f"\nrk.tags() on {len(tags)} tags ({kinds})")

        def cold() -> None:
            with rk.Client(cache_dir=None) as c:
                listing.tags(f"{host}/{REPO}", client=c)

        cold_time = median_time(cold, args.runs)
        warm_client = rk.Client(cache_dir=None)
        listing.tags(f"{host}/{REPO}", client=warm_client)
        warm_time = median_time(
            lambda: listing.tags(f"{host}/{REPO}", client=warm_client), args.runs
        )
        warm_client.close()
        row("rk.tags cold (new client, empty cache)", cold_time)
        row("rk.tags warm (digest cache filled)", warm_time)
        verdict("warm vs cold", cold_time / warm_time, ">= 5", cold_time / warm_time >= 5)
        if "skopeo" not in args.skip and shutil.which("skopeo"):
            t = median_time(lambda: skopeo_loop(host, tags), args.tool_runs)
            row("skopeo inspect loop", t)
            verdict("rk.tags cold vs skopeo loop", t / cold_time, ">= 10", t / cold_time >= 10)
        if "dxf" not in args.skip:
            t = median_time(lambda: dxf_loop(host, tags), args.tool_runs)
            row("python-dxf loop (digest + manifest + config)", t)
            verdict("rk.tags cold vs python-dxf loop", t / cold_time, ">= 3", t / cold_time >= 3)
        if "rtt" not in args.skip:
            bench_rtt(args, registry, tags)

        if "catalog" not in args.skip:
            bench_catalog(args, seeder, registry)

        if "files" not in args.skip:
            print(f"\nbuilding a {args.layer_mb} MB layer ...", flush=True)
            with tempfile.TemporaryDirectory() as tmp, big_layer(Path(tmp), args.layer_mb) as layer:
                image = push_big_image(seeder, host, layer)
                bench_files(host, image, layer[0], max(1, min(args.runs, 3)))


def bench_catalog(args: argparse.Namespace, seeder: rk.Client, registry: rk.LocalRegistry) -> None:
    host = registry.host
    print(
        f"\nrk.catalog() over {args.repos} repositories (+2 benchmark repos); seeding ...",
        flush=True,
    )
    seed_repositories(seeder, host, args.repos)
    with rk.Client(cache_dir=None) as c:
        rk_time = median_time(lambda: listing.catalog(host, client=c), args.runs)
        assert len(listing.catalog(host, client=c)) >= args.repos
    raw_time = median_time(lambda: httpx_catalog(registry.url), args.runs)
    row("rk.catalog", rk_time)
    row("bare httpx paging loop", raw_time)
    verdict(
        "rk.catalog time / httpx time",
        rk_time / raw_time,
        "<= 1.2",
        rk_time / raw_time <= 1.2,
    )


if __name__ == "__main__":
    main()
