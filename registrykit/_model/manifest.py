"""The documents a registry serves: descriptors, manifests, indexes, configs.

These parse what real registries send (OCI and Docker v2 schema 2) and keep
the raw bytes, because a manifest's digest is the digest of its exact bytes:
re-serialising would change it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import mediatypes as mt
from .digest import compute_digest
from .errors import RegistryError, Unsupported

__all__ = [
    "Descriptor",
    "ImageConfig",
    "Index",
    "Manifest",
    "Platform",
    "compute_digest",
    "json_object",
    "parse_manifest",
]

# Docker Hub's attestation manifests carry this platform; they are not images.
UNKNOWN_PLATFORM = "unknown/unknown"


@dataclass(frozen=True)
class Platform:
    """An image's platform: ``os/architecture[/variant]``."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str | Platform) -> Platform:
        """``linux/arm64/v8`` or ``linux/amd64`` (a bare ``arm64`` means linux)."""
        if isinstance(value, Platform):
            return value
        parts = value.strip().split("/")
        if len(parts) == 1 and parts[0]:
            return cls("linux", parts[0])
        if len(parts) in (2, 3) and all(parts):
            return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
        raise ValueError(
            f"invalid platform {value!r}: use os/arch or os/arch/variant, e.g. linux/arm64/v8"
        )

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Platform:
        return cls(
            os=str(obj.get("os", "")),
            architecture=str(obj.get("architecture", "")),
            variant=obj.get("variant") or None,
            os_version=obj.get("os.version") or None,
            os_features=tuple(obj.get("os.features") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out

    def matches(self, other: Platform) -> bool:
        """True when ``other`` satisfies this (a missing variant matches any)."""
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return self.variant is None or self.variant == (other.variant or _default_variant(other))

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def _default_variant(p: Platform) -> str | None:
    return "v8" if p.architecture == "arm64" else None


@dataclass(frozen=True)
class Descriptor:
    """A pointer to content: media type, digest and size (and for index entries a platform)."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    urls: tuple[str, ...] = ()
    artifact_type: str | None = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Descriptor:
        try:
            return cls(
                media_type=str(obj.get("mediaType", "")),
                digest=str(obj["digest"]),
                size=int(obj["size"]),
                platform=Platform.from_json(obj["platform"]) if obj.get("platform") else None,
                annotations=dict(obj.get("annotations") or {}),
                urls=tuple(obj.get("urls") or ()),
                artifact_type=obj.get("artifactType"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"malformed descriptor in manifest: {exc!r} in {obj!r}") from exc

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.urls:
            out["urls"] = list(self.urls)
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    @property
    def is_attestation(self) -> bool:
        ref_type = self.annotations.get("vnd.docker.reference.type", "")
        return ref_type == "attestation-manifest" or (
            self.platform is not None and str(self.platform) == UNKNOWN_PLATFORM
        )


@dataclass(frozen=True, kw_only=True)
class _Document:
    """What manifests and indexes share: their exact bytes and digest, annotations, subject."""

    media_type: str
    raw: bytes = field(repr=False)
    digest: str
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str | None = None

    @property
    def is_index(self) -> bool:
        return isinstance(self, Index)

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.raw)
        return result


@dataclass(frozen=True)
class Manifest(_Document):
    """An image manifest (OCI or Docker v2s2), or an artifact manifest."""

    config: Descriptor
    layers: tuple[Descriptor, ...]

    @property
    def is_image(self) -> bool:
        """True for container images; False for Helm charts, signatures, SBOMs..."""
        return self.config.media_type in mt.IMAGE_CONFIG_TYPES and not self.artifact_type

    @property
    def size(self) -> int:
        """Compressed bytes of config plus layers (what a pull transfers)."""
        return self.config.size + sum(d.size for d in self.layers)

    def blobs(self) -> tuple[Descriptor, ...]:
        return (self.config, *self.layers)


@dataclass(frozen=True)
class Index(_Document):
    """A multi-platform index (OCI image index or Docker manifest list)."""

    manifests: tuple[Descriptor, ...]

    @property
    def platforms(self) -> list[Platform]:
        return [
            d.platform for d in self.manifests if d.platform is not None and not d.is_attestation
        ]

    def select(self, platform: str | Platform) -> Descriptor:
        """The entry for ``platform``; raises NotFound listing what exists."""
        from .errors import NotFound

        want = Platform.parse(platform)
        for d in self.manifests:
            if d.platform is not None and not d.is_attestation and want.matches(d.platform):
                return d
        have = ", ".join(str(p) for p in self.platforms) or "none"
        raise NotFound(f"no {want} image in this index; it has: {have}")


@dataclass(frozen=True)
class HistoryEntry:
    created: dt.datetime | None
    created_by: str
    empty_layer: bool
    comment: str = ""


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config that people look at."""

    architecture: str
    os: str
    variant: str | None
    created: dt.datetime | None
    history: tuple[HistoryEntry, ...]
    diff_ids: tuple[str, ...]
    env: tuple[str, ...]
    labels: Mapping[str, str]
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    working_dir: str
    user: str
    exposed_ports: tuple[str, ...]
    author: str
    docker_version: str
    raw: bytes = field(repr=False)

    @classmethod
    def parse(cls, raw: bytes) -> ImageConfig:
        obj = json_object(raw, "image config")
        cfg = obj.get("config") or {}
        rootfs = obj.get("rootfs") or {}
        return cls(
            architecture=str(obj.get("architecture", "")),
            os=str(obj.get("os", "")),
            variant=obj.get("variant") or None,
            created=parse_time(obj.get("created")),
            history=tuple(
                HistoryEntry(
                    created=parse_time(h.get("created")),
                    created_by=str(h.get("created_by", "")),
                    empty_layer=bool(h.get("empty_layer", False)),
                    comment=str(h.get("comment", "")),
                )
                for h in obj.get("history") or ()
                if isinstance(h, dict)
            ),
            diff_ids=tuple(rootfs.get("diff_ids") or ()),
            env=tuple(cfg.get("Env") or ()),
            labels=dict(cfg.get("Labels") or {}),
            entrypoint=_opt_tuple(cfg.get("Entrypoint")),
            cmd=_opt_tuple(cfg.get("Cmd")),
            working_dir=str(cfg.get("WorkingDir") or ""),
            user=str(cfg.get("User") or ""),
            exposed_ports=tuple(sorted(cfg.get("ExposedPorts") or {})),
            author=str(obj.get("author") or ""),
            docker_version=str(obj.get("docker_version") or ""),
            raw=raw,
        )

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)


def _opt_tuple(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_time(value: Any) -> dt.datetime | None:
    """RFC 3339 to an aware UTC datetime; missing or the 1970 epoch gives None.

    Reproducible builds stamp the epoch; reporting 1970 as a build date would
    mislead, so it is treated as unknown.
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    # Go prints nanoseconds; Python parses at most microseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    if parsed.year <= 1970:
        return None
    return parsed


def _descriptor_or_none(obj: Any) -> Descriptor | None:
    return Descriptor.from_json(obj) if isinstance(obj, dict) else None


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """``raw`` as a JSON object, else a RegistryError that names ``what``."""
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"{what} is not valid JSON: {exc}") from exc
    if isinstance(obj, dict):
        return obj
    raise RegistryError(f"{what} is not a JSON object")


def parse_manifest(raw: bytes, media_type: str | None, digest: str) -> Manifest | Index:
    """Parse manifest bytes whose digest is already verified.

    ``media_type`` is the Content-Type the registry sent; the document's own
    ``mediaType`` wins when present, and shape decides when neither is known.
    """
    obj = json_object(raw, f"manifest {digest}")
    kind = obj.get("mediaType") or media_type or ""
    if obj.get("schemaVersion") == 1 or kind in mt.SCHEMA1_TYPES:
        raise Unsupported(
            f"manifest {digest} is Docker schema 1, which registrykit does not support "
            "(it is deprecated and unsigned content). Re-push the image with a current "
            "docker, podman or skopeo to convert it to schema 2 or OCI."
        )
    common: dict[str, Any] = {
        "raw": raw,
        "digest": digest,
        "annotations": dict(obj.get("annotations") or {}),
        "subject": _descriptor_or_none(obj.get("subject")),
        "artifact_type": obj.get("artifactType"),
    }
    if kind in mt.INDEX_TYPES or (kind not in mt.IMAGE_MANIFEST_TYPES and "manifests" in obj):
        return Index(
            media_type=kind or mt.OCI_INDEX,
            manifests=tuple(Descriptor.from_json(d) for d in obj.get("manifests") or ()),
            **common,
        )
    if "config" not in obj:
        raise Unsupported(f"manifest {digest} has media type {kind!r}, which is not an image")
    return Manifest(
        media_type=kind or mt.OCI_MANIFEST,
        config=Descriptor.from_json(obj["config"]),
        layers=tuple(Descriptor.from_json(d) for d in obj.get("layers") or ()),
        **common,
    )
