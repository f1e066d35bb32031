"""Look at one image the way ``skopeo inspect`` does, and at Docker Hub's extras.

``inspect`` gives an ``ImageInfo`` (text and HTML reprs); ``manifest`` and
``config`` give the raw JSON documents (``skopeo inspect --raw`` and
``--config``); ``rate_limit`` reads Docker Hub's pull allowance;
``search_records`` runs Docker Hub's search API, or filters a catalog
elsewhere.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._client import Client, get_client
from .._model import mediatypes as mt
from .._model.errors import RegistryError
from .._model.manifest import Index, Platform
from .._model.reference import Reference, parse_reference
from .._model.units import human_size
from .._transport.errors import raise_for_response, transport_error
from .listing import resolve_image

__all__ = [
    "ImageInfo",
    "LayerInfo",
    "RateLimit",
    "config",
    "inspect",
    "manifest",
    "rate_limit",
    "search_records",
]

DOCKER_HUB = "docker.io"
HUB_SEARCH_URL = "https://index.docker.io/v1/search"


@dataclass(frozen=True)
class LayerInfo:
    """One entry of ``LayersData``: media type, digest, size (compressed)."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageInfo:
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

    @property
    def platform(self) -> str:
        return str(Platform(self.os, self.architecture, self.variant)) if self.os else ""

    def _fields(self) -> list[tuple[str, str]]:
        created = self.created.isoformat() if self.created else "unknown"
        rows = [
            ("Name", self.name),
            ("Digest", self.digest),
        ]
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
        rows.append(("Layers", str(len(self.layers))))
        if self.docker_version:
            rows.append(("Docker version", self.docker_version))
        return rows

    def __str__(self) -> str:
        lines = [f"{k + ':':<15} {v}" for k, v in self._fields()]
        for layer in self.layers_data:
            lines.append(f"  {layer.digest}  {human_size(layer.size):>9}  {layer.media_type}")
        if self.labels:
            lines.append("Labels:")
            lines += [f"  {k}={v}" for k, v in sorted(self.labels.items())]
        if self.env:
            lines.append("Env:")
            lines += [f"  {e}" for e in self.env]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>"
            for k, v in self._fields()
        )
        layers = "".join(
            f"<tr><td><code>{esc(x.digest[:19])}…</code></td>"
            f"<td style='text-align:right'>{esc(human_size(x.size))}</td>"
            f"<td>{esc(x.media_type)}</td></tr>"
            for x in self.layers_data
        )
        labels = "".join(
            f"<li><code>{esc(k)}={esc(v)}</code></li>" for k, v in sorted(self.labels.items())
        )
        env = "".join(f"<li><code>{esc(e)}</code></li>" for e in self.env)
        parts = [f"<table>{rows}</table>"]
        if layers:
            parts.append(f"<details><summary>Layers</summary><table>{layers}</table></details>")
        if labels:
            parts.append(f"<details><summary>Labels</summary><ul>{labels}</ul></details>")
        if env:
            parts.append(f"<details><summary>Env</summary><ul>{env}</ul></details>")
        return "<div class='registrykit-image'>" + "".join(parts) + "</div>"

    def to_dict(self) -> dict[str, Any]:
        """The ``skopeo inspect`` JSON field names and values."""
        return {
            "Name": self.name,
            "Digest": self.digest,
            "RepoTags": list(self.tags),
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


def _ref(image: str | Reference) -> Reference:
    return image if isinstance(image, Reference) else parse_reference(image)


def inspect(
    image: str | Reference, platform: str | Platform | None = None, client: Client | None = None
) -> ImageInfo:
    """``skopeo inspect`` for ``image``: the given platform, or linux/amd64, of a tag."""
    c = get_client(client)
    ref = _ref(image)
    resolved = resolve_image(c, ref, platform)
    registry = c.registry(ref)
    cfg = resolved.config
    m = resolved.manifest
    index = resolved.index
    return ImageInfo(
        name=f"{ref.registry}/{ref.repository}",
        digest=resolved.digest,
        image_digest=m.digest,
        tags=tuple(registry.tags(ref.repository)),
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


def manifest(image: str | Reference, client: Client | None = None) -> dict[str, Any]:
    """The manifest (or index) the reference names, parsed: ``skopeo inspect --raw``."""
    c = get_client(client)
    ref = _ref(image)
    raw, _, _ = c.registry(ref).manifest_bytes(ref.repository, ref.identifier)
    return _object(raw, f"manifest of {ref}")


def config(
    image: str | Reference, platform: str | Platform | None = None, client: Client | None = None
) -> dict[str, Any]:
    """The image config blob, parsed: ``skopeo inspect --config --raw``.

    This is the blob as stored; plain ``skopeo inspect --config`` decodes it
    into Go structs and re-encodes it, which adds empty fields.

    For an artifact (a Helm chart, a signature) this is its config blob, when
    that blob is JSON.
    """
    c = get_client(client)
    ref = _ref(image)
    resolved = resolve_image(c, ref, platform)
    if resolved.config is not None:
        raw = resolved.config.raw
    else:
        raw = c.registry(ref).blob(ref.repository, resolved.manifest.config.digest)
    return _object(raw, f"config of {ref}")


def _object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"the {what} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RegistryError(f"the {what} is not a JSON object")
    return value


# -- Docker Hub: rate limit -------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """Docker Hub's pull allowance as its headers state it.

    ``limit`` and ``remaining`` are pulls per ``window`` seconds; all three
    are None when Docker Hub sent no limit headers (an unlimited account).
    ``source`` is what the limit is counted against (an IP or a user id).
    """

    image: str
    limit: int | None
    remaining: int | None
    window: int | None
    source: str | None

    @property
    def unlimited(self) -> bool:
        return self.limit is None

    def __str__(self) -> str:
        if self.limit is None:
            return f"{self.image}: no pull limit reported"
        hours = f" per {self.window / 3600:g} h" if self.window else ""
        source = f" (counted against {self.source})" if self.source else ""
        return f"{self.image}: {self.remaining} of {self.limit} pulls left{hours}{source}"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(str(self))}</code>"


def _limit_header(value: str | None) -> tuple[int | None, int | None]:
    """``100;w=21600`` -> (100, 21600)."""
    if not value:
        return None, None
    count, *params = (p.strip() for p in value.split(";"))
    window = None
    for p in params:
        key, _, number = p.partition("=")
        if key == "w" and number.isdigit():
            window = int(number)
    return (int(count) if count.isdigit() else None), window


def rate_limit(
    image: str | Reference = "docker.io/library/alpine:latest", client: Client | None = None
) -> RateLimit:
    """Docker Hub's pull limit and what remains, from a manifest HEAD.

    Docker Hub counts GETs of manifests, not HEADs, so asking costs no pull.
    Logged-in users see their account's limit.
    """
    c = get_client(client)
    ref = _ref(image)
    registry = c.registry(ref)
    url = f"{registry.base_url}/v2/{ref.repository}/manifests/{ref.identifier}"
    try:
        response = registry.http.head(url, headers={"Accept": mt.MANIFEST_ACCEPT})
    except httpx.TransportError as exc:
        raise transport_error(exc, registry.host) from None
    raise_for_response(response, f"manifest {ref}", host=registry.host)
    limit, window = _limit_header(response.headers.get("ratelimit-limit"))
    remaining, _ = _limit_header(response.headers.get("ratelimit-remaining"))
    return RateLimit(
        image=str(ref),
        limit=limit,
        remaining=remaining,
        window=window,
        source=response.headers.get("docker-ratelimit-source"),
    )


# -- search ------------------------------------------------------------------------


def search_records(
    term: str, registry: str = DOCKER_HUB, limit: int = 25, client: Client | None = None
) -> list[dict[str, Any]]:
    """Repositories matching ``term``: ``registry, name, description, stars, official, automated``.

    On Docker Hub this is its search API (``/v1/search``), ranked by Hub.
    Elsewhere registries have no search endpoint, so the catalog is listed
    and names containing ``term`` (case-insensitive) are kept, in catalog
    order; ``description`` and ``stars`` are then unknown (None).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    c = get_client(client)
    host = c.registry(registry).host
    if host == DOCKER_HUB:
        return _hub_search(c, term, limit)
    needle = term.lower()
    out: list[dict[str, Any]] = []
    for name in c.registry(host).catalog():
        if needle in name.lower():
            out.append(
                {
                    "registry": host,
                    "name": name,
                    "description": None,
                    "stars": None,
                    "official": False,
                    "automated": False,
                }
            )
            if len(out) >= limit:
                break
    return out


def _hub_search(c: Client, term: str, limit: int) -> list[dict[str, Any]]:
    params = {"q": term, "n": str(min(limit, 100))}
    try:
        # The search API is public; no registry token applies to it.
        response = c.http.get(HUB_SEARCH_URL, params=params, auth=None)
    except httpx.TransportError as exc:
        raise transport_error(exc, "index.docker.io") from None
    raise_for_response(response, f"a search for {term!r}", host="index.docker.io")
    body = _object(response.content, "Docker Hub search answer")
    rows = []
    for item in (body.get("results") or [])[:limit]:
        if not isinstance(item, dict):
            continue
        rows.append(
            {
                "registry": DOCKER_HUB,
                "name": str(item.get("name", "")),
                "description": item.get("description") or "",
                "stars": int(item.get("star_count") or 0),
                "official": bool(item.get("is_official")),
                "automated": bool(item.get("is_automated")),
            }
        )
    return rows
