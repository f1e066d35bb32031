"""Deterministic sample images to push into any registry, for notebooks and demos.

Every sample is built in Python from fixed bytes, so its digests are the same
on every machine: a notebook's stored output stays true wherever it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._client import Client, get_client
from ._imagebuild import HistoryStep, Image, Index, build_image, gzip_layer, tar_layer
from ._local import LocalRegistry
from ._registry import RegistryClient

__all__ = ["PushedSample", "Sample", "hello", "push", "samples"]


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
    reference: str
    digest: str
    tags: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.reference} {self.digest[:19]}… tags: {', '.join(self.tags)}"


def hello() -> Sample:
    """A small two-layer app: a base filesystem and a script."""
    base = gzip_layer(
        tar_layer(
            {
                "etc/os-release": b'NAME="registrykit sample"\nID=sample\nVERSION_ID=1\n',
                "bin/hello": b"#!/bin/sh\necho 'hello from registrykit'\n",
            }
        )
    )
    app = gzip_layer(tar_layer({"app/message.txt": b"Hello, registry!\n" * 64}))
    image = build_image(
        [base, app],
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


def samples() -> list[Sample]:
    """Every sample, in the order notebooks introduce them."""
    return [hello()]


def push(
    target: str | LocalRegistry,
    which: Iterable[Sample] | None = None,
    *,
    client: Client | None = None,
) -> list[PushedSample]:
    """Push samples into a registry host (or a ``LocalRegistry``); blobs first, manifests last."""
    host = target.host if isinstance(target, LocalRegistry) else target
    client = get_client(client)
    registry = client.registry(host)
    return [_push_one(client, registry, sample) for sample in (which or samples())]


def _push_one(client: Client, registry: RegistryClient, sample: Sample) -> PushedSample:
    item = sample.item
    images: Sequence[Image] = item.images if isinstance(item, Index) else [item]
    blobs = {b.digest: b for image in images for b in image.blobs()}

    def upload(digest: str) -> None:
        if registry.blob_size(sample.repository, digest) is None:
            blob = blobs[digest]
            registry.upload_blob(sample.repository, digest, blob.size, blob.data)

    client.map(upload, sorted(blobs))
    if isinstance(item, Index):
        for image in images:
            registry.put_manifest(
                sample.repository, image.digest, image.manifest.data, image.media_type
            )
    for tag in sample.tags:
        registry.put_manifest(sample.repository, tag, item.manifest.data, item.media_type)
    return PushedSample(f"{registry.host}/{sample.repository}", item.digest, sample.tags)
