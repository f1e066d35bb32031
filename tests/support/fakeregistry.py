"""A registry API over images built by the lab builder, for ``httpx.MockTransport``.

It serves ``/v2/``, ``tags/list`` (with extra fields a vendor adds, such as
GCR's ``manifest`` map), manifests (GET and HEAD) and blobs, counts every
request by ``(method, kind)``, and hands anything else to ``web`` (a vendor's
web API, on another host or off ``/v2/``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from registrykit.lab.build import Image, Index, build_image, gzip_layer, tar_layer

WebApi = Callable[[httpx.Request], httpx.Response]


def sample_image(created: str, content: bytes = b"app", arch: str = "amd64") -> Image:
    """A one-layer image whose config says ``created`` (a real or a fake fixed date)."""
    layer = gzip_layer(tar_layer({"app/bin": content + created.encode()}))
    return build_image([layer], architecture=arch, created=created, history=["COPY app /app"])


@dataclass
class FakeRegistry:
    """One host's ``/v2/`` API over ``tags`` (tag -> built image or index)."""

    host: str
    repository: str
    tags: Mapping[str, Image | Index]
    tag_list_extra: Mapping[str, Any] = field(default_factory=dict)
    web: WebApi | None = None
    catalog_status: int = 200
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.objects: dict[str, tuple[str, bytes]] = {}
        for item in self.tags.values():
            images = item.images if isinstance(item, Index) else [item]
            for image in images:
                self.objects[image.digest] = (image.media_type, image.manifest.data)
                for blob in image.blobs():
                    self.objects[blob.digest] = ("application/octet-stream", blob.data)
            self.objects[item.digest] = (item.media_type, item.manifest.data)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != self.host or not request.url.path.startswith("/v2/"):
            # A vendor's web API: another host, or the registry's host off /v2/ (Quay).
            assert self.web is not None, f"unexpected host {request.url.host}"
            self.counts[(request.method, request.url.host)] += 1
            return self.web(request)
        path = request.url.path
        prefix = f"/v2/{self.repository}/"
        if path == "/v2/":
            return httpx.Response(200, json={})
        if path == "/v2/_catalog":
            self.counts[("GET", "catalog")] += 1
            if self.catalog_status != 200:
                code = {404: "NOT_FOUND", 401: "UNAUTHORIZED"}.get(
                    self.catalog_status, "UNSUPPORTED"
                )
                return httpx.Response(self.catalog_status, json={"errors": [{"code": code}]})
            return httpx.Response(200, json={"repositories": [self.repository]})
        if not path.startswith(prefix):
            return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})
        kind, _, ref = path[len(prefix) :].partition("/")
        self.counts[(request.method, kind)] += 1
        if kind == "tags":
            body = {"name": self.repository, "tags": sorted(self.tags), **self.tag_list_extra}
            return httpx.Response(200, json=body)
        digest = self.tags[ref].digest if ref in self.tags else ref
        if digest not in self.objects:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        media_type, data = self.objects[digest]
        headers = {
            "Docker-Content-Digest": digest,
            "Content-Type": media_type,
            "Content-Length": str(len(data)),
            **self.headers,
        }
        return httpx.Response(
            200, headers=headers, content=b"" if request.method == "HEAD" else data
        )
