"""A repository with many tags, each a distinct image (issue 14 goal 4), against a real registry.

Every image has its own config, made as big as real ones (a long build
history), and all share one base layer. A listing sends the requests it
must and no more (cold: the tag list, one manifest and one config GET per
tag; warm: one HEAD per tag), returns the tags newest first, and holds only
what its rows need: not every config it read, and one copy of the shared
layer. ``benchmarks/bench_bigrepo.py`` measures the same at 10,000 tags.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.counting import look_twice
from support.internals import listing

import registrykit as rk
from registrykit.lab.build import gzip_layer, tar_layer

REPO = "big/app"
TAGS = 240
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
# A build history as long as real images carry: the config is about 12 KiB.
HISTORY = [{"created_by": f"/bin/sh -c step {i} " + "x" * 200} for i in range(50)]


def _seed(registry: rk.LocalRegistry) -> None:
    layer = gzip_layer(tar_layer({"etc/os-release": b"ID=big\n"})).blob
    with rk.Client(cache_dir=None, concurrency=8) as client:
        reg = client.registry(registry.host)
        reg.upload_blob(REPO, layer.digest, layer.size, layer.data)
        base = {"mediaType": layer.media_type, "digest": layer.digest, "size": layer.size}

        def one(i: int) -> None:
            config = {
                "architecture": "amd64",
                "os": "linux",
                "created": f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00Z",
                "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]},
                "history": HISTORY,
            }
            data = json.dumps(config).encode()
            digest = rk.lab.build.Blob(OCI_CONFIG, data).digest
            reg.upload_blob(REPO, digest, len(data), data)
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest, "size": len(data)},
                "layers": [base],
            }
            reg.put_manifest(REPO, f"1.{i}.0", json.dumps(manifest).encode(), OCI_MANIFEST)

        client.map(one, list(range(TAGS)))


@pytest.fixture(scope="module")
def big() -> Iterator[str]:
    with rk.LocalRegistry() as registry:
        _seed(registry)
        yield f"{registry.host}/{REPO}"


def test_cold_and_warm_send_what_they_must(big: str, tmp_path: Path) -> None:
    cold, warm, first, second = look_twice(tmp_path, lambda c: rk.tags(big, client=c))
    assert first.equals(second)
    assert first["tag"].tolist() == [f"1.{i}.0" for i in reversed(range(TAGS))]  # newest first
    assert cold.calls[("GET", "manifest")] == TAGS and cold.calls[("GET", "blob")] == TAGS
    assert cold.calls[("HEAD", "manifest")] == 0
    assert warm.calls[("HEAD", "manifest")] == TAGS and warm.content_gets() == 0


def test_a_listing_keeps_only_what_its_rows_need(big: str) -> None:
    tracemalloc.start()
    try:
        with rk.Client(cache_dir=None) as client:
            records = listing.tag_records(big, progress=False, client=client)
        del client  # its bounded memory cache of raw documents is not the listing's
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(records) == TAGS
    # Each config is ~12 KiB and parses to more; a record needs well under 2 KiB.
    config_bytes = len(json.dumps(HISTORY))
    assert held < TAGS * 2048, f"{held / TAGS:.0f} bytes held per tag (configs ~{config_bytes})"
    # The one shared base layer is one object in every record.
    assert len({id(r.layers[0]) for r in records}) == 1
    assert len({id(r.layers) for r in records}) == 1
