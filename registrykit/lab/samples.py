"""Deterministic sample images to push into any registry, for notebooks and demos.

Every sample is built in Python from fixed bytes, so its digests are the same
on every machine: a notebook's stored output stays true wherever it runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._client import Client, get_client
from .._model import mediatypes as mt
from .._model.render import render_table_html, render_table_text
from .._model.units import human_size
from .._ops.copy import copy_stores
from .._stores.memory import MemoryStore
from .._stores.registry import RegistryStore
from .build import (
    Blob,
    HistoryStep,
    Image,
    Index,
    Layer,
    add_to_store,
    build_image,
    build_index,
    canonical_json,
    gzip_layer,
    tar_layer,
)
from .local import LocalRegistry

__all__ = [
    "PushedSample",
    "PushedSamples",
    "Sample",
    "api",
    "base",
    "bloated",
    "chart",
    "hello",
    "push",
    "samples",
    "signature",
    "webapp",
    "worker",
]


@dataclass(frozen=True)
class Sample:
    """An image (or index) and the repository and tags it is pushed under."""

    repository: str
    tags: tuple[str, ...]
    item: Image | Index
    description: str

    @property
    def digest(self) -> str:
        return self.item.digest


@dataclass(frozen=True)
class PushedSample:
    """One pushed sample; ``size`` counts its blobs (each once) as a pull moves them."""

    reference: str
    digest: str
    tags: tuple[str, ...]
    size: int = 0

    def __str__(self) -> str:
        return f"{self.reference} {self.digest[:19]}… tags: {', '.join(self.tags)}"


class PushedSamples(list[PushedSample]):
    """What ``push`` returns: a list, shown as one line per image, not one repr each."""

    def _table(self) -> tuple[str, list[str], list[list[str]]]:
        hosts = sorted({p.reference.split("/", 1)[0] for p in self})
        title = f"{len(self)} samples pushed to {', '.join(hosts) or 'nowhere'}"
        rows = [
            [
                p.reference.split("/", 1)[-1],
                ", ".join(t if len(t) <= 20 else f"{t[:19]}…" for t in p.tags) or "(by digest)",
                f"{p.digest[:19]}…",
                human_size(p.size),
            ]
            for p in self
        ]
        return title, ["repository", "tags", "digest", "size"], rows

    def __str__(self) -> str:
        return render_table_text(*self._table())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return render_table_html(*self._table())


def _noise(seed: str, size: int) -> bytes:
    """Incompressible bytes that are the same everywhere (a hash stream, not a PRNG)."""
    return hashlib.shake_256(seed.encode()).digest(size)


def _layer(files: dict[str, bytes | None], *, big: bool = False) -> Layer:
    # Big layers hold incompressible data: stored gzip is fast and portable.
    return gzip_layer(tar_layer(files), compresslevel=0 if big else None)


@functools.cache
def _base_layers() -> dict[str, Layer]:
    def rootfs(arch: str) -> Layer:
        return _layer(
            {
                "etc/os-release": b'NAME="registrykit base"\nID=rkbase\nVERSION_ID=1.0\n',
                "etc/arch": f"{arch}\n".encode(),
                "lib/libc.so": _noise(f"libc-{arch}", 900_000),
                "bin/sh": _noise(f"sh-{arch}", 120_000),
            },
            big=True,
        )

    return {"amd64": rootfs("amd64"), "arm64": rootfs("arm64")}


def _base_image(arch: str) -> Image:
    return build_image(
        [_base_layers()[arch]],
        architecture=arch,
        variant="v8" if arch == "arm64" else None,
        created="2023-12-01T09:00:00Z",
        history=["ADD rootfs.tar /", HistoryStep('CMD ["/bin/sh"]', empty_layer=True)],
        env=["PATH=/usr/local/bin:/usr/bin:/bin"],
        cmd=["/bin/sh"],
        labels={"org.opencontainers.image.title": "base"},
    )


def base() -> Sample:
    """A multi-arch base image (linux/amd64, linux/arm64/v8) that the apps build on."""
    index = build_index([_base_image("amd64"), _base_image("arm64")])
    return Sample("samples/base", ("1.0", "latest"), index, "a multi-arch base image")


def _app_image(name: str, arch: str, created: str, extra: list[tuple[str, Layer]]) -> Image:
    layers = [_base_layers()[arch], *(layer for _, layer in extra)]
    history: list[str | HistoryStep] = ["ADD rootfs.tar /", HistoryStep(f"WORKDIR /{name}", True)]
    history += [created_by for created_by, _ in extra]
    return build_image(
        layers,
        architecture=arch,
        variant="v8" if arch == "arm64" else None,
        created=created,
        history=history,
        env=["PATH=/usr/local/bin:/usr/bin:/bin", f"APP={name}"],
        cmd=[f"/{name}/run"],
        workdir=f"/{name}",
        labels={"org.opencontainers.image.title": name},
    )


_WEBAPP_RELEASES = (
    # tag, created, app size, debug assets accidentally shipped from this release on
    ("v1.0.0", "2024-01-15T10:00:00Z", 300_000, False),
    ("v1.1.0", "2024-02-12T10:00:00Z", 420_000, False),
    ("v1.2.0", "2024-03-11T10:00:00Z", 540_000, False),
    ("v1.3.0", "2024-04-08T10:00:00Z", 600_000, True),
    ("v1.4.0", "2024-05-13T10:00:00Z", 640_000, True),
)
WEBAPP_SIBLING_TAGS = ("latest", "stable", "2024-05-13", "3f2a9c1")


def webapp() -> list[Sample]:
    """An app whose releases v1.0.0…v1.4.0 grow, with one obvious size regression.

    v1.3.0 ships 6 MB of debug assets by mistake. v1.4.0 also carries the
    ``latest``, ``stable``, date and git-sha tags, so deleting it by digest
    takes all five: what a delete preview must show.
    """
    out = []
    for tag, created, app_size, debug in _WEBAPP_RELEASES:
        extra = [
            (
                "COPY dist /webapp",
                _layer(
                    {
                        "webapp/app.bin": _noise(f"webapp-{tag}", app_size),
                        "webapp/VERSION": tag.encode(),
                    },
                    big=True,
                ),
            )
        ]
        if debug:
            extra.append(
                (
                    "COPY debug-assets /webapp/debug",
                    _layer(
                        {"webapp/debug/symbols.bin": _noise("debug-symbols", 6_000_000)}, big=True
                    ),
                )
            )
        tags = (tag, *WEBAPP_SIBLING_TAGS) if tag == "v1.4.0" else (tag,)
        image = _app_image("webapp", "amd64", created, extra)
        out.append(Sample("samples/webapp", tags, image, f"webapp {tag}"))
    return out


def api() -> Sample:
    """A multi-arch app on the base image: its base layers are shared, not stored twice."""
    images = [
        _app_image(
            "api",
            arch,
            "2024-04-20T08:00:00Z",
            [("COPY api /api", _layer({"api/server": _noise(f"api-{arch}", 250_000)}, big=True))],
        )
        for arch in ("amd64", "arm64")
    ]
    return Sample("samples/api", ("2.1.0", "latest"), build_index(images), "a multi-arch app")


def worker() -> Sample:
    """A single-arch app on the same base image."""
    image = _app_image(
        "worker",
        "amd64",
        "2024-04-22T08:00:00Z",
        [("COPY worker /worker", _layer({"worker/run": _noise("worker", 180_000)}, big=True))],
    )
    return Sample("samples/worker", ("0.9.0", "latest"), image, "a single-arch app")


def bloated() -> Sample:
    """An image whose later layers overwrite and delete big files: wasted space.

    Layer 1 adds ``/data/model.bin`` (2 MB) and ``/data/cache/`` (3 files,
    1 MB in all); layer 2 rewrites ``model.bin`` (2 MB); layer 3 deletes the
    cache (a whiteout) and the old ``/data/tmp.log``. The first model.bin,
    the cache and the log are waste: 3.25 MB that no container ever sees.
    """
    layers = [
        _base_layers()["amd64"],
        _layer(
            {
                "data/model.bin": _noise("model-v1", 2_000_000),
                "data/cache/a.bin": _noise("cache-a", 400_000),
                "data/cache/b.bin": _noise("cache-b", 300_000),
                "data/cache/c.bin": _noise("cache-c", 300_000),
                "data/tmp.log": _noise("log", 250_000),
            },
            big=True,
        ),
        _layer({"data/model.bin": _noise("model-v2", 2_000_000)}, big=True),
        _layer({"data/cache": None, "data/tmp.log": None}),
    ]
    image = build_image(
        layers,
        created="2024-06-01T12:00:00Z",
        history=[
            "ADD rootfs.tar /",
            "RUN fetch-model && warm-cache",
            "RUN fetch-model --update",
            "RUN rm -rf /data/cache /data/tmp.log",
        ],
        labels={"org.opencontainers.image.title": "bloated"},
    )
    return Sample("samples/bloated", ("1.0",), image, "an image that wastes space")


SIGNATURE_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"


def signature(subject: Sample | None = None) -> list[Sample]:
    """A cosign-style signature of webapp v1.4.0, and its referrers tag.

    Registries without the referrers API (distribution 2.x) find referrers
    through the ``sha256-<hex>`` tag that lists them (the OCI tag schema).
    """
    target = subject or webapp()[-1]
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": target.repository},
                "image": {"docker-manifest-digest": target.digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()
    empty = Blob(mt.OCI_EMPTY, b"{}")
    layer = Blob("application/vnd.dev.cosign.simplesigning.v1+json", payload)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": SIGNATURE_TYPE,
        "config": empty.descriptor(),
        "layers": [layer.descriptor(annotations={"dev.cosignproject.cosign/signature": "MEUC"})],
        "subject": target.item.manifest.descriptor(),
    }
    sig = _artifact(empty, [layer], manifest)
    referrers = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [sig.manifest.descriptor(artifactType=SIGNATURE_TYPE)],
    }
    listing = Index(
        manifest=Blob(mt.OCI_INDEX, canonical_json(referrers)), images=[sig], format="oci"
    )
    fallback_tag = target.digest.replace(":", "-", 1)
    return [
        Sample(target.repository, (), sig, "a signature of webapp v1.4.0"),
        Sample(target.repository, (fallback_tag,), listing, "the referrers list (tag schema)"),
    ]


def _artifact(config: Blob, layers: list[Blob], manifest: dict[str, Any]) -> Image:
    """An OCI artifact (signature, chart) as a built image: no platform, no diff IDs."""
    raw = canonical_json(manifest)
    return Image(config, layers, Blob(mt.OCI_MANIFEST, raw), {}, [], "oci")


def chart() -> Sample:
    """A Helm chart stored as an OCI artifact: not an image, no platform."""
    config = Blob(
        "application/vnd.cncf.helm.config.v1+json",
        b'{"apiVersion":"v2","name":"webapp","version":"0.1.0"}',
    )
    content = Blob(
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        _layer({"webapp/Chart.yaml": b"apiVersion: v2\nname: webapp\n"}).blob.data,
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [content.descriptor()],
    }
    image = _artifact(config, [content], manifest)
    return Sample("samples/charts/webapp", ("0.1.0",), image, "a Helm chart (OCI artifact)")


def hello() -> Sample:
    """A small two-layer app: a base filesystem and a script."""
    rootfs = gzip_layer(
        tar_layer(
            {
                "etc/os-release": b'NAME="registrykit sample"\nID=sample\nVERSION_ID=1\n',
                "bin/hello": b"#!/bin/sh\necho 'hello from registrykit'\n",
            }
        )
    )
    app = gzip_layer(tar_layer({"app/message.txt": b"Hello, registry!\n" * 64}))
    image = build_image(
        [rootfs, app],
        created="2024-03-01T12:00:00Z",
        history=[
            "ADD rootfs.tar /",
            HistoryStep("ENV GREETING=hello", empty_layer=True),
            "COPY message.txt /app/",
            HistoryStep('CMD ["/bin/hello"]', empty_layer=True),
        ],
        env=["PATH=/bin", "GREETING=hello"],
        cmd=["/bin/hello"],
        labels={
            "org.opencontainers.image.title": "hello",
            "org.opencontainers.image.source": "https://example.org/registrykit/samples",
        },
    )
    return Sample("samples/hello", ("1.0.0", "latest"), image, "a small two-layer app")


@functools.cache
def samples() -> tuple[Sample, ...]:
    """Every sample, in the order notebooks introduce them (built once per process)."""
    return (hello(), base(), *webapp(), api(), worker(), bloated(), *signature(), chart())


def push(
    target: str | LocalRegistry,
    which: Iterable[Sample] | None = None,
    *,
    client: Client | None = None,
) -> PushedSamples:
    """Push samples into a registry host (or a ``LocalRegistry``); blobs first, manifests last.

    Each sample is a copy from a ``MemoryStore`` through the same transfer
    as any other copy: present blobs are skipped, the rest stream, verified.
    """
    host = target.host if isinstance(target, LocalRegistry) else target
    client = get_client(client)
    registry = client.registry(host)
    pushed = PushedSamples()
    for sample in which or samples():
        store = MemoryStore("samples")
        add_to_store(store, sample.item, sample.tags)
        copy_stores(
            store, RegistryStore(registry, sample.repository), client=client, progress=False
        )
        size = sum(blob.size for blob in sample.item.blobs())
        reference = f"{registry.host}/{sample.repository}"
        pushed.append(PushedSample(reference, sample.item.digest, sample.tags, size))
    return pushed
