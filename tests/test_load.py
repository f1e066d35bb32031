"""Twenty copies at once into one registry: right digests, nothing leaked."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import registrykit as rk
from conftest import FixtureImages, Skopeo
from registrykit._ops.copy import copy, push
from registrykit.lab.build import build_image, tar_layer, uncompressed_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(240)

COPIES = 20


@pytest.fixture
def target(skopeo: Skopeo) -> Iterator[LocalRegistry]:
    with LocalRegistry() as reg:
        skopeo.add(reg)
        yield reg


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def test_twenty_concurrent_copies(
    registry: LocalRegistry,
    target: LocalRegistry,
    fixture_images: FixtureImages,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    pushed = fixture_images.push_fixtures(registry)
    big = build_image([uncompressed_layer(tar_layer({"d.bin": os.urandom(3_000_000)}))])
    layout = write_oci_layout(tmp_path / "big", [("1", big)])
    with rk.Client(cache_dir=None) as setup:
        push(layout, f"{registry.host}/load/big:1", client=setup)
    sources = [*pushed.values(), (f"{registry.host}/load/big:1", big.digest)]

    threads_before = set(threading.enumerate())
    sockets_before = _sockets()
    client = rk.Client(cache_dir=None, concurrency=8)
    jobs = [(i, *sources[i % len(sources)]) for i in range(COPIES)]
    barrier = threading.Barrier(COPIES)

    def run(job: tuple[int, str, str]) -> tuple[str, str, str | None]:
        i, src, digest = job
        barrier.wait(timeout=30)  # start together
        dst = f"{target.host}/load/img{i}:1"
        return dst, digest, copy(src, dst, client=client).digest

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        results = list(pool.map(run, jobs))
    for dst, want, got in results:
        assert got == want, dst
    for dst, want, _ in results[:: len(sources)]:
        assert skopeo.inspect(f"docker://{dst}")["Digest"] == want

    client.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        leaked = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
        if not leaked and _sockets() <= sockets_before:
            break
        time.sleep(0.05)
    assert leaked == []
    assert _sockets() <= sockets_before
