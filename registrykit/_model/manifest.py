"""The documents a registry serves: descriptors, manifests, indexes, configs.

These parse what real registries send (OCI and Docker v2 schema 2) and keep
the raw bytes, because a manifest's digest is the digest of its exact bytes:
re-serialising would change it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import mediatypes as mt
from .digest import compute_digest
from .errors import RegistryError, Unsupported
from .reference import digest_problem

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
    def from_json(cls, obj: object, where: str = "platform") -> Platform:
        """A platform object from a registry (an index entry, Hub's ``images``).

        ``os``, ``architecture`` and ``variant`` become a column and terminal
        text, so each must be a short name (letters, digits, ``._+-``).
        """
        plat = field_object(obj, where)
        return cls(
            os=_platform_part(plat.get("os"), f"{where}.os") or "",
            architecture=_platform_part(plat.get("architecture"), f"{where}.architecture") or "",
            variant=_platform_part(plat.get("variant"), f"{where}.variant") or None,
            os_version=field_str(plat.get("os.version"), f"{where}.os.version") or None,
            os_features=field_strings(plat.get("os.features"), f"{where}.os.features"),
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
    def from_json(cls, obj: object, where: str = "descriptor") -> Descriptor:
        """A descriptor from JSON a registry or file sent; ``where`` names it in errors.

        Every field is type-checked and the digest must be one registrykit can
        verify, because it becomes a URL path, a file name and a claim.
        """
        desc = field_object(obj, where)
        digest = desc.get("digest")
        problem = digest_problem(digest)
        if problem is not None:
            raise RegistryError(f"{where}.digest is invalid: {problem}")
        assert isinstance(digest, str)
        platform = desc.get("platform")
        return cls(
            media_type=field_str(desc.get("mediaType"), f"{where}.mediaType") or "",
            digest=digest,
            size=field_size(desc.get("size"), f"{where}.size"),
            platform=None if not platform else Platform.from_json(platform, f"{where}.platform"),
            annotations=field_annotations(desc.get("annotations"), f"{where}.annotations"),
            urls=field_strings(desc.get("urls"), f"{where}.urls"),
            artifact_type=field_str(desc.get("artifactType"), f"{where}.artifactType"),
        )

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
        try:
            return cls._from_json(obj, raw)
        except RegistryError as exc:
            raise RegistryError(f"image config is malformed: {exc}") from None

    @classmethod
    def _from_json(cls, obj: dict[str, Any], raw: bytes) -> ImageConfig:
        cfg = field_object(obj.get("config") or {}, "config")
        rootfs = field_object(obj.get("rootfs") or {}, "rootfs")
        return cls(
            architecture=_text(obj.get("architecture"), "architecture"),
            os=_text(obj.get("os"), "os"),
            variant=_text(obj.get("variant"), "variant") or None,
            created=parse_time(obj.get("created")),
            history=tuple(
                HistoryEntry(
                    created=parse_time(h.get("created")),
                    created_by=_text(h.get("created_by"), f"history[{i}].created_by"),
                    empty_layer=bool(h.get("empty_layer", False)),
                    comment=_text(h.get("comment"), f"history[{i}].comment"),
                )
                for i, h in enumerate(field_list(obj.get("history"), "history"))
                if isinstance(h, dict)
            ),
            diff_ids=field_strings(rootfs.get("diff_ids"), "rootfs.diff_ids"),
            env=field_strings(cfg.get("Env"), "config.Env"),
            labels=field_annotations(cfg.get("Labels"), "config.Labels"),
            entrypoint=_opt_tuple(cfg.get("Entrypoint"), "config.Entrypoint"),
            cmd=_opt_tuple(cfg.get("Cmd"), "config.Cmd"),
            working_dir=_text(cfg.get("WorkingDir"), "config.WorkingDir"),
            user=_text(cfg.get("User"), "config.User"),
            exposed_ports=tuple(
                sorted(field_object(cfg.get("ExposedPorts") or {}, "config.ExposedPorts"))
            ),
            author=_text(obj.get("author"), "author"),
            docker_version=_text(obj.get("docker_version"), "docker_version"),
            raw=raw,
        )

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)


def _opt_tuple(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return field_strings(value, where)


def _text(value: object, where: str) -> str:
    """A free-text field: absent is empty, a scalar is shown as written, a container is wrong."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise RegistryError(f"{where} must be a string, not {_kind(value)}")
    return str(value)


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


def _descriptor_or_none(obj: Any, where: str) -> Descriptor | None:
    return None if obj is None else Descriptor.from_json(obj, where)


# JSON numbers above 2**53 lose precision in most parsers; no real blob is that big.
MAX_JSON_SIZE = 2**53


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def field_object(value: object, where: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else a RegistryError naming the field."""
    if isinstance(value, dict):
        return value
    raise RegistryError(f"{where} must be a JSON object, not {_kind(value)}")


def field_list(value: object, where: str) -> list[Any]:
    """``value`` if it is a JSON array (None is an empty one), else a RegistryError."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise RegistryError(f"{where} must be a JSON array, not {_kind(value)}")


_PLATFORM_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def _platform_part(value: object, where: str) -> str | None:
    text = field_str(value, where)
    if text and not _PLATFORM_PART.fullmatch(text):
        raise RegistryError(f"{where} is not a platform name ({len(text)} characters)")
    return text


def field_str(value: object, where: str) -> str | None:
    """``value`` if it is a string (or absent), else a RegistryError naming the field."""
    if value is None or isinstance(value, str):
        return value
    raise RegistryError(f"{where} must be a string, not {_kind(value)}")


def field_strings(value: object, where: str) -> tuple[str, ...]:
    """A JSON array of strings (absent is empty)."""
    items = field_list(value, where)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise RegistryError(f"{where}[{i}] must be a string, not {_kind(item)}")
    return tuple(items)


def field_annotations(value: object, where: str) -> dict[str, str]:
    """An annotations map: string keys to string values (absent is empty)."""
    if value is None:
        return {}
    found = field_object(value, where)
    for key, item in found.items():
        if not isinstance(item, str):
            raise RegistryError(f"{where}[{key!r}] must be a string, not {_kind(item)}")
    return dict(found)


def field_size(value: object, where: str) -> int:
    """A size in bytes: an integer from 0 to 2**53."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RegistryError(f"{where} must be an integer number of bytes, not {_kind(value)}")
    if not 0 <= value <= MAX_JSON_SIZE:
        raise RegistryError(f"{where} is {value}, outside 0 to 2**53 bytes")
    return value


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
    try:
        return _parse_document(obj, raw, media_type, digest)
    except RegistryError as exc:
        raise RegistryError(f"manifest {digest} is malformed: {exc}") from None


def _parse_document(
    obj: dict[str, Any], raw: bytes, media_type: str | None, digest: str
) -> Manifest | Index:
    kind = field_str(obj.get("mediaType"), "mediaType") or media_type or ""
    if obj.get("schemaVersion") == 1 or kind in mt.SCHEMA1_TYPES:
        raise Unsupported(
            f"manifest {digest} is Docker schema 1, which registrykit does not support "
            "(it is deprecated and unsigned content). Re-push the image with a current "
            "docker, podman or skopeo to convert it to schema 2 or OCI."
        )
    common: dict[str, Any] = {
        "raw": raw,
        "digest": digest,
        "annotations": field_annotations(obj.get("annotations"), "annotations"),
        "subject": _descriptor_or_none(obj.get("subject"), "subject"),
        "artifact_type": field_str(obj.get("artifactType"), "artifactType"),
    }
    if kind in mt.INDEX_TYPES or (kind not in mt.IMAGE_MANIFEST_TYPES and "manifests" in obj):
        return Index(
            media_type=kind or mt.OCI_INDEX,
            manifests=_descriptors(obj.get("manifests"), "manifests"),
            **common,
        )
    if "config" not in obj:
        raise Unsupported(f"manifest {digest} has media type {kind!r}, which is not an image")
    return Manifest(
        media_type=kind or mt.OCI_MANIFEST,
        config=Descriptor.from_json(obj["config"], "config"),
        layers=_descriptors(obj.get("layers"), "layers"),
        **common,
    )


def _descriptors(value: object, where: str) -> tuple[Descriptor, ...]:
    return tuple(
        Descriptor.from_json(d, f"{where}[{i}]") for i, d in enumerate(field_list(value, where))
    )
