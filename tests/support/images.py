"""Deterministic fixture images (built with ``registrykit.lab.build``) and their push."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registrykit.lab.build import (
    OPAQUE_WHITEOUT,
    FileSpec,
    HistoryStep,
    Image,
    ImageFormat,
    Index,
    Layer,
    build_image,
    build_index,
    gzip_layer,
    tar_layer,
)
from registrykit.lab.local import LocalRegistry
from support.skopeo import Skopeo


@dataclass
class FixtureImages:
    """Deterministic images, on disk in ``layout`` (OCI) and ``dirs`` (skopeo dir:)."""

    layout: Path
    images: dict[str, Image | Index]
    dirs: dict[str, Path]
    skopeo: Skopeo
    tag: str = "1.0"
    pushed: dict[tuple[str, str], dict[str, tuple[str, str]]] = field(default_factory=dict)

    def source(self, name: str) -> str:
        """The skopeo source reference of a fixture (oci: or dir:)."""
        if name in self.dirs:
            return f"dir:{self.dirs[name]}"
        return f"oci:{self.layout}:{name}"

    def push_fixtures(
        self, registry: LocalRegistry, repo_prefix: str = "fixtures"
    ) -> dict[str, tuple[str, str]]:
        """Push every fixture; return name -> (reference without transport, digest).

        ``--preserve-digests`` makes skopeo refuse any conversion, so the
        registry holds exactly the built manifests. Repeated calls for the same
        registry and prefix push once.
        """
        key = (registry.host, repo_prefix)
        if key in self.pushed:
            return self.pushed[key]
        result: dict[str, tuple[str, str]] = {}
        for name, item in self.images.items():
            ref = f"{registry.host}/{repo_prefix}/{name}:{self.tag}"
            extra = ["--preserve-digests"]
            if isinstance(item, Index):
                extra.append("--all")
            self.skopeo.copy(self.source(name), f"docker://{ref}", *extra)
            result[name] = (ref, item.digest)
        self.pushed[key] = result
        return result


def build_fixture_images() -> dict[str, Image | Index]:
    """The fixture set; same bytes, same digests, on every machine."""
    base = gzip_layer(
        tar_layer(
            {
                "etc/os-release": b'NAME="registrykit fixture"\nID=fixture\n',
                "bin/hello": b"#!/bin/sh\necho hello\n",
                "bin/sh": b"",
            }
        )
    )
    app = gzip_layer(tar_layer({"app/main.py": b"print('hello')\n", "app/data.bin": bytes(4096)}))
    cleanup = gzip_layer(tar_layer({"app/data.bin": None, "app/README": b"fixture\n"}))
    layers: list[Layer] = [base, app, cleanup]
    history: list[str | HistoryStep] = [
        "ADD rootfs /",
        HistoryStep("ENV APP=/app", empty_layer=True),
        "COPY app /app",
        "RUN rm /app/data.bin",
        HistoryStep('CMD ["/bin/hello"]', empty_layer=True),
    ]
    common: dict[str, Any] = {
        "history": history,
        "env": ["PATH=/bin", "APP=/app"],
        "cmd": ["/bin/hello"],
        "labels": {"org.opencontainers.image.title": "fixture"},
    }
    single = build_image(layers, **common)
    docker = build_image(layers, format="docker", **common)

    def arm(fmt: ImageFormat) -> Image:
        layer = gzip_layer(tar_layer({"etc/arch": b"arm64\n"}))
        return build_image([base, layer], architecture="arm64", variant="v8", format=fmt)

    def amd(fmt: ImageFormat) -> Image:
        layer = gzip_layer(tar_layer({"etc/arch": b"amd64\n"}))
        return build_image([base, layer], format=fmt)

    return {
        "single": single,
        "docker": docker,
        "multi": build_index([amd("oci"), arm("oci")]),
        "manifest-list": build_index([amd("docker"), arm("docker")], format="docker"),
    }


# A small image whose digests are written down: the builder's output must never drift.
# Computed once from golden_image(); if this changes, every published sample
# digest changes with it, so treat a failure here as a breaking change.
GOLDEN_DIGEST = "sha256:3ba018cb9a41bc689f2a9f6e10be30b8be2b189350e0ecc02db626185598a3b5"


GOLDEN_CONFIG = "sha256:bec7201b2e345c62990b11142db7c325c7f824691bf3eb95a0be5485cc90a908"


GOLDEN_LAYERS = [
    "sha256:2de1788f2d4ebe1e70592da9c6a75f1c6e11b0239a515f8052debd2f0b57e803",
    "sha256:9f9add1252f0371ec092c53719ab99a114bda01ace53e0b26041893cf52a8e1d",
]


def golden_image() -> Image:
    base = tar_layer(
        {"etc/hello.txt": b"hello\n", "bin/tool": FileSpec(b"#!/bin/sh\n", mode=0o755)}
    )
    change = tar_layer(
        {
            "etc/hello.txt": None,
            "var/cache/" + OPAQUE_WHITEOUT: b"",
            "link": FileSpec(symlink="etc/hello.txt"),
        }
    )
    return build_image(
        [gzip_layer(base), gzip_layer(change)],
        history=["ADD base /", HistoryStep("ENV A=1", empty_layer=True), "RUN cleanup"],
        env={"A": "1"},
        cmd=["/bin/tool"],
        labels={"k": "v"},
    )
