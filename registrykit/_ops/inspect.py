"""Look at one image the way ``skopeo inspect`` does.

``inspect`` gives an ``ImageInfo`` (text and HTML reprs); ``manifest`` and
``config`` give the raw JSON documents (``skopeo inspect --raw`` and
``--config``). Each reads a registry reference, an ``oci:DIR[:TAG]`` layout
or a ``docker-archive:PATH[:TAG]`` tarball. Docker Hub's rate limit and
search live in ``vendors``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._client import Client, get_client
from .._model import mediatypes as mt
from .._model.manifest import Index, Platform, json_object
from .._model.reference import Reference, tag_problem, valid_names
from .._model.render import Summary, Value
from .._model.units import human_size
from .._stores.base import Store
from .analysis import order_tags
from .listing import open_image, read_small_blob, resolve_source

__all__ = ["ImageInfo", "LayerInfo", "config", "inspect", "manifest"]


@dataclass(frozen=True)
class LayerInfo:
    """One entry of ``LayersData``: media type, digest, size (compressed)."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageInfo(Summary):
    """What ``skopeo inspect`` reports about an image (one platform of a tag).

    ``digest`` is the digest of what the reference names (the index for a
    multi-arch tag, as skopeo prints it); ``image_digest`` is the chosen
    platform's manifest. ``size`` is config plus layers, compressed.
    ``platforms`` lists an index's platforms (attestations left out).
    """

    name: str
    digest: str
    image_digest: str
    tags: tuple[str, ...]
    created: dt.datetime | None
    docker_version: str
    labels: Mapping[str, str]
    architecture: str
    os: str
    variant: str | None
    layers: tuple[str, ...]
    layers_data: tuple[LayerInfo, ...]
    env: tuple[str, ...]
    media_type: str
    size: int
    platforms: tuple[str, ...] = ()
    config_media_type: str = ""
    repo_tags: tuple[str, ...] = ()
    """Every tag of the repository (skopeo's ``RepoTags``); ``tags`` are this image's."""

    @property
    def platform(self) -> str:
        return str(Platform(self.os, self.architecture, self.variant)) if self.os else ""

    def _title(self) -> str:
        return f"Image {self.name}"

    def _rows(self) -> list[tuple[str, Value]]:
        created = self.created.isoformat() if self.created else "unknown"
        rows: list[tuple[str, Value]] = [("Digest", self.digest)]
        if self.image_digest != self.digest:
            rows.append(("Image digest", self.image_digest))
        rows += [
            ("Media type", self.media_type),
            ("Tags", ", ".join(self.tags) or "-"),
            ("Created", created),
            ("Platform", self.platform or "-"),
        ]
        if self.platforms:
            rows.append(("Platforms", ", ".join(self.platforms)))
        if self.config_media_type and self.config_media_type not in mt.IMAGE_CONFIG_TYPES:
            rows.append(("Artifact type", self.config_media_type))
        rows.append(("Size", f"{human_size(self.size)} ({self.size} bytes)"))
        if self.docker_version:
            rows.append(("Docker version", self.docker_version))
        rows.append(
            (
                "Layers",
                [f"{x.digest}  {human_size(x.size):>9}  {x.media_type}" for x in self.layers_data],
            )
        )
        if self.labels:
            rows.append(("Labels", [f"{k}={v}" for k, v in sorted(self.labels.items())]))
        if self.env:
            rows.append(("Env", list(self.env)))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The ``skopeo inspect`` JSON field names and values."""
        return {
            "Name": self.name,
            "Digest": self.digest,
            "RepoTags": list(self.repo_tags or self.tags),
            "Created": self.created.isoformat() if self.created else None,
            "DockerVersion": self.docker_version,
            "Labels": dict(self.labels) or None,
            "Architecture": self.architecture,
            "Os": self.os,
            "Variant": self.variant,
            "Layers": list(self.layers),
            "LayersData": [
                {"MIMEType": x.media_type, "Digest": x.digest, "Size": x.size}
                for x in self.layers_data
            ],
            "Env": list(self.env),
        }


def inspect(
    image: str | Reference,
    platform: str | Platform | None = None,
    *,
    client: Client | None = None,
) -> ImageInfo:
    """``skopeo inspect`` for ``image``: the given platform, or linux/amd64, of a tag.

    ``image`` is a registry reference, ``oci:DIR[:TAG]`` or
    ``docker-archive:PATH[:TAG]``; ``tags`` are the tags of this image (best
    first), ``repo_tags`` every tag of the repository, layout or archive.
    """
    with open_image(image, client=client) as source:
        resolved = resolve_source(source, platform)
        # A layout's or archive's names are shown: the same grammar as a registry's.
        repo_tags = order_tags(
            valid_names(source.store.tags(), tag_problem, source.store.describe())
        )
        tags = _tags_of(source.store, repo_tags, resolved.digest, client)
    cfg = resolved.config
    m = resolved.manifest
    index = resolved.index
    return ImageInfo(
        name=resolved.name,
        digest=resolved.digest,
        image_digest=m.digest,
        tags=tuple(tags),
        repo_tags=tuple(repo_tags),
        created=cfg.created if cfg else None,
        docker_version=cfg.docker_version if cfg else "",
        labels=dict(cfg.labels) if cfg else {},
        architecture=cfg.architecture if cfg else "",
        os=cfg.os if cfg else "",
        variant=cfg.variant if cfg else None,
        layers=tuple(d.digest for d in m.layers),
        layers_data=tuple(
            LayerInfo(d.media_type, d.digest, d.size, dict(d.annotations)) for d in m.layers
        ),
        env=cfg.env if cfg else (),
        media_type=resolved.media_type,
        size=m.size,
        platforms=tuple(str(p) for p in index.platforms) if isinstance(index, Index) else (),
        config_media_type=m.config.media_type,
    )


# Past this many tags, finding an image's own tags costs more HEADs than an inspect
# should; the result then names only what the tag list cannot (see ImageInfo.tags).
_MAX_TAG_HEADS = 1000


def _tags_of(store: Store, names: list[str], digest: str, client: Client | None) -> list[str]:
    """The tags among ``names`` whose manifest is ``digest`` (one HEAD each, fanned out)."""
    if len(names) > _MAX_TAG_HEADS:
        return []
    heads = get_client(client).map(lambda t: (t, store.manifest_head(t)), names)
    return [t for t, d in heads if d is not None and d.digest == digest]


def manifest(image: str | Reference, *, client: Client | None = None) -> dict[str, Any]:
    """The manifest (or index) the reference names, parsed: ``skopeo inspect --raw``."""
    with open_image(image, client=client) as source:
        raw, _, _ = source.store.manifest_get(source.ref)
        what = f"manifest of {source.store.describe(source.ref)}"
    return json_object(raw, what)


def config(
    image: str | Reference,
    platform: str | Platform | None = None,
    *,
    client: Client | None = None,
) -> dict[str, Any]:
    """The image config blob, parsed: ``skopeo inspect --config --raw``.

    This is the blob as stored; plain ``skopeo inspect --config`` decodes it
    into Go structs and re-encodes it, which adds empty fields.

    For an artifact (a Helm chart, a signature) this is its config blob, when
    that blob is JSON.
    """
    with open_image(image, client=client) as source:
        resolved = resolve_source(source, platform)
        if resolved.config is not None:
            raw = resolved.config.raw
        else:
            raw = read_small_blob(source.store, resolved.manifest.config.digest)
        what = f"config of {source.store.describe(source.ref)}"
    return json_object(raw, what)
