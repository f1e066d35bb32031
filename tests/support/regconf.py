"""Shared by the registries.conf unit tests: a manifest, a settings file, a mock client."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

import registrykit as rk
from support import oci as mt
from support.internals import RegistrySettings, load_registry_settings
from support.oci import compute_digest
from support.runtime import write

Handler = Callable[[httpx.Request], httpx.Response]

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": compute_digest(b"{}"), "size": 2},
        "layers": [],
    }
).encode()
DIGEST = compute_digest(MANIFEST)


def manifest_response() -> httpx.Response:
    return httpx.Response(
        200,
        content=MANIFEST,
        headers={"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": DIGEST},
    )


def not_found() -> httpx.Response:
    return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})


def conf_settings(tmp_path: Path, text: str, **drop_ins: str) -> RegistrySettings:
    conf = write(tmp_path / "registries.conf", text)
    for name, body in drop_ins.items():
        write(tmp_path / "registries.conf.d" / f"{name}.conf", body)
    return load_registry_settings([conf], [])


def mock_client(settings: RegistrySettings, handler: Handler, **kw: Any) -> rk.Client:
    return rk.Client(
        cache_dir=None, transport=httpx.MockTransport(handler), settings=settings, **kw
    )


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")
