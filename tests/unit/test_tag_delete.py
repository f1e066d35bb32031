"""rk.delete against a mock registry that answers DELETE with 405."""

from __future__ import annotations

import json

import httpx
import pytest
from support.oci import OCI_MANIFEST

import registrykit as rk
from registrykit import Unsupported, delete

pytestmark = pytest.mark.timeout(120)


def test_delete_disabled_says_how_to_enable() -> None:
    digest = "sha256:" + "ab" * 32
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/app/tags/list":
            return httpx.Response(200, json={"name": "app", "tags": ["1.0"]})
        if path == "/v2/app/manifests/1.0" and request.method == "HEAD":
            return httpx.Response(
                200,
                headers={
                    "Docker-Content-Digest": digest,
                    "Content-Type": OCI_MANIFEST,
                    "Content-Length": str(len(raw)),
                },
            )
        if request.method == "DELETE":
            return httpx.Response(405, json={"errors": [{"code": "UNSUPPORTED"}]})
        return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})

    with rk.Client(cache_dir=None, transport=httpx.MockTransport(handler)) as c:
        plan = delete("registry.example.com/app:1.0", dry_run=True, client=c)
        assert plan.tags == ["1.0"]
        with pytest.raises(Unsupported, match=r"storage\.delete\.enabled: true"):
            delete("registry.example.com/app:1.0", client=c)
