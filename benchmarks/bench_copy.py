"""Copy benchmarks: registrykit against ``skopeo copy``, in one run.

    python benchmarks/bench_copy.py                 # full: 5 x 40 MB, 1 GB RSS probe
    python benchmarks/bench_copy.py --quick         # smaller, for a smoke run

Measured (medians over ``--runs``), each printed beside the issue's target:

1. an image of ``--layers`` x ``--layer-mb`` MB of random data copied to a
   second registry process, registrykit vs ``skopeo copy``; every timed run
   gets a fresh destination registry, because skopeo's blob-info cache would
   otherwise turn repeated pushes into mounts;
2. the same copy again (every blob present) vs the first;
3. a copy between two repositories of one registry: mounts, no blob bytes;
4. peak RSS of a process copying one ``--rss-mb`` MB layer (run in a
   subprocess, so only the copy's own memory counts).

Everything runs on 127.0.0.1 with ``LocalRegistry`` (the distribution binary).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import registrykit as rk
from registrykit._model.mediatypes import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST
from registrykit._ops.copy import copy, push
from registrykit.lab.build import build_image, tar_layer, uncompressed_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry

MB = 1_000_000


def _client() -> rk.Client:
    return rk.Client(cache_dir=None)


def _skopeo(src: str, dst: str, env: dict[str, str]) -> None:
    subprocess.run(
        [
            "skopeo",
            "--insecure-policy",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{src}",
            f"docker://{dst}",
        ],
        check=True,
        env=env,
        capture_output=True,
    )


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _random_image_layout(root: Path, layers: int, layer_mb: int) -> Path:
    built = [
        uncompressed_layer(tar_layer({f"layer{i}.bin": os.urandom(layer_mb * MB)}))
        for i in range(layers)
    ]
    return write_oci_layout(root / "layout", [("1", build_image(built))])


def _streamed_layout(root: Path, size: int) -> Path:
    """A layout with one ``size``-byte random layer, written without holding it in memory."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    hasher = hashlib.sha256()
    tmp = blobs / "layer.tmp"
    with tmp.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 4 * MB))
            hasher.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    layer_digest = f"sha256:{hasher.hexdigest()}"
    tmp.rename(blobs / hasher.hexdigest())

    def put(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}"

    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": put(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": size}],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": put(manifest),
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "1"},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return root


def rss_child(src: str, dst: str) -> None:
    """Copy ``src`` to ``dst`` and print this process's peak RSS in MB."""
    with _client() as c:
        copy(src, dst, client=c, progress=False)
    print(json.dumps({"peak_rss_mb": _peak_rss_kb() / 1024}))


def _peak_rss_kb() -> int:
    """This process's peak RSS.

    VmHWM belongs to the process's own address space; getrusage's ru_maxrss
    is carried across fork+exec on Linux and would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _row(label: str, value: str, target: str, ok: bool | None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<44} {value:>22}   target {target}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--layer-mb", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rss-mb", type=int, default=1000, help="layer size for the RSS probe")
    parser.add_argument("--quick", action="store_true", help="5 x 8 MB, 3 runs, 200 MB RSS probe")
    parser.add_argument("--rss-child", nargs=2, metavar=("SRC", "DST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    if args.quick:
        args.layer_mb, args.runs, args.rss_mb = 8, 3, 200
    if shutil.which("skopeo") is None:
        sys.exit("skopeo is needed for the comparison; install it (apt-get install skopeo)")

    work = Path(tempfile.mkdtemp(prefix="rk-bench-"))
    env = dict(os.environ, REGISTRY_AUTH_FILE=str(work / "auth.json"))
    (work / "auth.json").write_text('{"auths": {}}')
    os.environ["REGISTRY_AUTH_FILE"] = env["REGISTRY_AUTH_FILE"]
    total_mb = args.layers * args.layer_mb
    try:
        with LocalRegistry() as source, _client() as c:
            layout = _random_image_layout(work, args.layers, args.layer_mb)
            push(layout, f"{source.host}/bench/img:1", client=c, progress=False)
            src = f"{source.host}/bench/img:1"

            ours: list[float] = []
            theirs: list[float] = []
            again: list[float] = []
            for _ in range(args.runs):
                with LocalRegistry() as dst:
                    with _client() as fresh:
                        target = f"{dst.host}/bench/img:1"
                        run: Callable[[], object] = lambda t=target, f=fresh: copy(  # noqa: E731
                            src, t, client=f, progress=False
                        )
                        ours.append(_timed(run))
                        again.append(_timed(run))
                with LocalRegistry() as dst:
                    dest = f"{dst.host}/bench/img:1"
                    theirs.append(_timed(lambda d=dest: _skopeo(src, d, env)))  # type: ignore[misc]

            mounts: list[float] = []
            mounted = copied = 0
            for i in range(args.runs):
                with _client() as fresh:
                    started = time.perf_counter()
                    result = copy(
                        src, f"{source.host}/mounted{i}/img:1", client=fresh, progress=False
                    )
                    mounts.append(time.perf_counter() - started)
                    mounted, copied = result.bytes_mounted, result.bytes_copied

        rss = _rss_probe(work, args.rss_mb)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    m_ours, m_theirs, m_again = (statistics.median(x) for x in (ours, theirs, again))
    print(
        f"\nregistrykit copy benchmark ({args.layers} x {args.layer_mb} MB random layers, "
        f"{args.runs} runs, medians)"
    )
    _row(
        "registry -> second registry: registrykit",
        f"{m_ours:.3f} s ({total_mb / m_ours:.0f} MB/s)",
        "",
        None,
    )
    _row(
        "registry -> second registry: skopeo copy",
        f"{m_theirs:.3f} s ({total_mb / m_theirs:.0f} MB/s)",
        "",
        None,
    )
    _row("  ratio registrykit / skopeo", f"{m_ours / m_theirs:.2f}x", "<= 1.0x", m_ours <= m_theirs)
    _row("same copy again (all blobs present)", f"{m_again:.3f} s", "", None)
    _row("  ratio again / first", f"{m_again / m_ours:.3f}x", "<= 0.1x", m_again <= 0.1 * m_ours)
    _row(
        "copy between repositories of one registry", f"{statistics.median(mounts):.3f} s", "", None
    )
    _row(
        "  bytes mounted / bytes sent",
        f"{mounted / MB:.0f} MB / {copied} B",
        "0 B sent",
        copied == 0 and mounted > 0,
    )
    _row(
        f"peak RSS copying one {args.rss_mb} MB layer",
        f"{rss:.0f} MB",
        "< 150 MB",
        rss < 150,
    )


def _rss_probe(work: Path, size_mb: int) -> float:
    with LocalRegistry() as source, LocalRegistry() as dst, _client() as c:
        layout = _streamed_layout(work / "rss", size_mb * MB)
        push(layout, f"{source.host}/rss/img:1", client=c, progress=False)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--rss-child",
                f"{source.host}/rss/img:1",
                f"{dst.host}/rss/img:1",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_rss_mb"])


if __name__ == "__main__":
    main()
