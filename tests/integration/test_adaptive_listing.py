"""The default concurrency adapts on real servers (issue 14, goal 2).

A slow registry (each manifest answered after a delay, as over a WAN) makes
the default grow past its start; a throttling one (429 with Retry-After)
makes it back off while the listing still completes; on a real registry the
default lists exactly what a serial client lists and leaves no thread or
socket behind.
"""

from __future__ import annotations

import json
import os
import threading
import time

from support.hostile import HostileRegistry, digest_of

import registrykit as rk
from registrykit.lab.build import build_image, gzip_layer, tar_layer

CONFIG = json.dumps(
    {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
).encode()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest_of(CONFIG),
            "size": len(CONFIG),
        },
        "layers": [],
    }
).encode()
TAGS = [f"v{i}" for i in range(200)]


def _serve(reg: HostileRegistry, manifest) -> None:  # type: ignore[no-untyped-def]
    reg.route("GET", "/v2/app/tags/list", lambda h: h.send_json({"name": "app", "tags": TAGS}))
    reg.route("GET", "^/v2/app/manifests/", manifest)
    reg.route("GET", f"/v2/app/blobs/{digest_of(CONFIG)}", lambda h: h.send_bytes(CONFIG))


def _send_manifest(h) -> None:  # type: ignore[no-untyped-def]
    h.send_bytes(
        MANIFEST,
        200,
        {
            "Content-Type": "application/vnd.oci.image.manifest.v1+json",
            "Docker-Content-Digest": digest_of(MANIFEST),
        },
    )


def test_the_default_grows_past_its_start_when_round_trips_dominate() -> None:
    def slow(h) -> None:  # type: ignore[no-untyped-def]
        time.sleep(0.03)
        _send_manifest(h)

    with HostileRegistry() as reg:
        _serve(reg, slow)
        with rk.Client(cache_dir=None) as client:
            frame = rk.tags(f"{reg.host}/app", client=client)
            assert client.concurrency > 16
    assert len(frame) == len(TAGS)


def test_a_throttling_registry_makes_the_default_back_off() -> None:
    answered = [0]
    lock = threading.Lock()

    def throttled(h) -> None:  # type: ignore[no-untyped-def]
        with lock:
            answered[0] += 1
            refuse = answered[0] % 3 == 0
        if refuse:
            h.send_json({"errors": [{"code": "TOOMANYREQUESTS"}]}, 429, {"Retry-After": "0"})
        else:
            _send_manifest(h)

    with HostileRegistry() as reg:
        _serve(reg, throttled)
        with rk.Client(cache_dir=None) as client:
            frame = rk.tags(f"{reg.host}/app", client=client)
            assert client.concurrency < 16
    assert len(frame) == len(TAGS)  # every refused request was retried


def test_the_default_lists_what_a_serial_client_lists_and_leaves_nothing(
    registry: rk.LocalRegistry,
) -> None:
    repo = "adaptive/app"
    with rk.Client(cache_dir=None, concurrency=16) as seeder:
        reg = seeder.registry(registry.host)

        def push(i: int) -> None:
            image = build_image([gzip_layer(tar_layer({f"f{i}": os.urandom(64)}))])
            for blob in image.blobs():
                reg.upload_blob(repo, blob.digest, blob.size, blob.data)
            reg.put_manifest(repo, f"1.{i}.0", image.manifest.data, image.media_type)

        seeder.map(push, list(range(60)))
    with rk.Client(cache_dir=None, concurrency=1) as serial:
        expected = rk.tags(f"{registry.host}/{repo}", client=serial)
    threads_before = set(threading.enumerate())
    client = rk.Client(cache_dir=None)
    got = rk.tags(f"{registry.host}/{repo}", client=client)
    client.close()
    assert got.equals(expected)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        leaked = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
        if not leaked:
            break
        time.sleep(0.05)
    assert leaked == []
