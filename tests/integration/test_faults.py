"""Faults injected by a proxy in front of real registries: cut-offs, throttling, corruption."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.internals import RetryPolicy
from support.net import free_port
from support.skopeo import Skopeo

import registrykit as rk
from registrykit import DigestMismatch, RateLimited, RegistryUnavailable, copy, pull, push
from registrykit.lab.build import (
    Image,
    build_image,
    tar_layer,
    uncompressed_layer,
    write_oci_layout,
)
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(180)

LAYER = 1_500_000


def _client(**kw: object) -> rk.Client:
    # One blob at a time makes "which blob the fault hits" deterministic.
    return rk.Client(cache_dir=None, concurrency=1, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def big(registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Image]:
    """Three random layers of different sizes, pushed to the session registry."""
    layers = [
        uncompressed_layer(tar_layer({f"data{i}.bin": os.urandom(LAYER - i * 200_000)}))
        for i in range(3)
    ]
    image = build_image(layers)
    layout = write_oci_layout(tmp_path_factory.mktemp("big") / "layout", [("1", image)])
    with rk.Client(cache_dir=None) as c:
        push(layout, f"{registry.host}/faults/big:1", client=c)
    return "faults/big:1", image


@pytest.fixture
def dest(tmp_path: Path, skopeo: Skopeo) -> Iterator[LocalRegistry]:
    with LocalRegistry(data_dir=tmp_path / "dest-data", port=free_port()) as reg:
        skopeo.add(reg)
        yield reg


def test_source_cut_off_then_rerun_moves_only_what_is_missing(
    registry: LocalRegistry, dest: LocalRegistry, big: tuple[str, Image], skopeo: Skopeo
) -> None:
    name, image = big
    sizes = sorted((b.size for b in image.blobs()), reverse=True)
    with FaultProxy(registry.host) as proxy, _client() as c:
        proxy.drop_response(after_bytes=300_000, skip=1)  # the second blob breaks
        with pytest.raises(RegistryUnavailable, match=r"cut off.*Run the same copy again"):
            copy(f"{proxy.host}/{name}", f"{dest.host}/cut/big:1", client=c)
        assert proxy.faults_fired == ["drop_response"]
        result = copy(f"{proxy.host}/{name}", f"{dest.host}/cut/big:1", client=c)
    assert result.bytes_skipped == sizes[0]
    assert result.bytes_copied == sum(sizes[1:])
    assert skopeo.inspect(f"docker://{dest.host}/cut/big:1")["Digest"] == image.digest


def test_destination_cut_off_and_restart_then_rerun(
    registry: LocalRegistry, dest: LocalRegistry, big: tuple[str, Image], skopeo: Skopeo
) -> None:
    name, image = big
    src = f"{registry.host}/{name}"
    with FaultProxy(dest.host) as proxy, _client() as c:
        proxy.drop_request(after_bytes=400_000)
        with pytest.raises(RegistryUnavailable, match="cut off"):
            copy(src, f"{proxy.host}/cut/big:1", client=c)
        # No manifest was written: the tag does not exist yet.
        assert c.registry(proxy.host).head_manifest("cut/big", "1") is None
        dest.stop()
        dest.start()  # same port and storage
        result = copy(src, f"{proxy.host}/cut/big:1", client=c)
    assert result.digest == image.digest
    assert skopeo.inspect(f"docker://{dest.host}/cut/big:1")["Digest"] == image.digest


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_waited_out(
    status: int, registry: LocalRegistry, dest: LocalRegistry, big: tuple[str, Image]
) -> None:
    name, image = big
    with FaultProxy(registry.host) as proxy, _client() as c:
        proxy.throttle(status, first=2, retry_after=1)
        started = time.monotonic()
        result = copy(f"{proxy.host}/{name}", f"{dest.host}/throttled/big:1", client=c)
        assert time.monotonic() - started >= 1.0
        assert proxy.faults_fired == [f"throttle {status}"] * 2
    assert result.digest == image.digest


def test_throttled_upload_is_restarted(
    registry: LocalRegistry, dest: LocalRegistry, big: tuple[str, Image]
) -> None:
    name, image = big
    with FaultProxy(dest.host) as proxy, _client() as c:
        proxy.throttle(503, first=1, retry_after=1, method="PUT")
        result = copy(f"{registry.host}/{name}", f"{proxy.host}/throttled-put/big:1", client=c)
        assert proxy.faults_fired == ["throttle 503"]
    assert result.digest == image.digest


def test_throttling_beyond_the_bound_raises(
    registry: LocalRegistry, big: tuple[str, Image]
) -> None:
    name, _ = big
    with FaultProxy(registry.host) as proxy, _client(retry=RetryPolicy(attempts=2)) as c:
        proxy.throttle(429, first=50, retry_after=1)
        with pytest.raises(RateLimited, match="rate-limiting"):
            copy(f"{proxy.host}/{name}", f"{registry.host}/never/big:1", client=c)


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_corrupt_blob_is_never_written_into_a_layout(
    registry: LocalRegistry, big: tuple[str, Image], tmp_path: Path
) -> None:
    name, image = big
    layout = tmp_path / "layout"
    with FaultProxy(registry.host) as proxy, _client() as c:
        proxy.corrupt()
        with pytest.raises(DigestMismatch, match="discarded"):
            pull(f"{proxy.host}/{name}", layout, client=c)
        assert proxy.faults_fired == ["corrupt"]
    files = _leftovers(layout)
    assert files == ["index.json", "oci-layout"]  # no blob, no temp file
    assert json.loads((layout / "index.json").read_text())["manifests"] == []
    with _client() as c:  # the next pull succeeds into the same layout
        assert pull(f"{registry.host}/{name}", layout, client=c).digest == image.digest


def test_corrupt_blob_leaves_no_archive(
    registry: LocalRegistry, big: tuple[str, Image], tmp_path: Path
) -> None:
    name, _ = big
    with FaultProxy(registry.host) as proxy, _client() as c:
        proxy.corrupt()
        with pytest.raises(DigestMismatch):
            pull(f"{proxy.host}/{name}", tmp_path / "image.tar", format="docker-archive", client=c)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_blob_is_not_stored_by_a_registry_copy(
    registry: LocalRegistry, dest: LocalRegistry, big: tuple[str, Image]
) -> None:
    name, image = big
    largest = max(image.blobs(), key=lambda b: b.size)
    with FaultProxy(registry.host) as proxy, _client() as c:
        proxy.corrupt()
        with pytest.raises(DigestMismatch):
            copy(f"{proxy.host}/{name}", f"{dest.host}/corrupt/big:1", client=c)
        assert c.registry(dest.host).blob_size("corrupt/big", largest.digest) is None
        assert c.registry(dest.host).head_manifest("corrupt/big", "1") is None
