"""What copy, push, pull, tag, delete and sync return.

Each result prints the summary a person wants after the operation (image,
registry, size, digest, tags, bytes moved, the pull and verify commands) and
renders as an HTML table in Jupyter. Results hold references, digests and
counts only: there is nothing secret in them to leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._model import units as _units
from .._model.render import Summary as _Summary
from .._model.render import Value

__all__ = [
    "ApplyResult",
    "CopyResult",
    "DeleteResult",
    "PullResult",
    "PushResult",
    "SyncResult",
    "TagResult",
    "human_size",
]


def human_size(n: int | None) -> str:
    """Bytes in decimal units, as docker and skopeo print them beside these results."""
    return "unknown" if n is None else _units.human_size(n, si=True)


def _short(digest: str | None) -> str:
    return digest or "-"


def _image_ref(name: str, tag: str | None, digest: str | None) -> str:
    if tag:
        return f"{name}:{tag}"
    return f"{name}@{digest}" if digest else name


def _commands(name: str, tag: str | None, digest: str | None) -> list[tuple[str, Value]]:
    ref = _image_ref(name, tag, digest)
    return [
        ("Pull command", (f"docker pull {ref}", f"podman pull {ref}")),
        ("Verify", (f"skopeo inspect docker://{ref}",)),
    ]


@dataclass(frozen=True)
class CopyResult(_Summary):
    """A finished copy. ``digest`` is what the destination holds (None for all_tags).

    ``digest_changed`` is True when a platform subset made a new index (or one
    platform's manifest was taken), so the destination digest differs from
    ``source_digest``.
    """

    source: str
    destination: str
    digest: str | None
    size: int
    tags: list[str]
    bytes_copied: int
    bytes_skipped: int
    bytes_mounted: int
    platforms: list[str] = field(default_factory=list)
    digest_changed: bool = False
    source_digest: str | None = None
    media_type: str | None = None
    registry: str | None = None
    destination_name: str | None = None
    images: dict[str, str] = field(default_factory=dict)

    def _title(self) -> str:
        return "✓ Image copied successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [
            ("Source", self.source),
            ("Destination", self.destination),
        ]
        if self.registry:
            rows.append(("Registry", self.registry))
        rows.append(("Size", human_size(self.size)))
        if self.digest:
            rows.append(("Digest", self.digest))
        if self.digest_changed:
            rows.append(
                (
                    "Note",
                    f"the digest differs from the source's ({_short(self.source_digest)}) "
                    "because only some platforms were copied",
                )
            )
        if self.platforms:
            rows.append(("Platforms", ", ".join(self.platforms)))
        rows.append(
            (
                "Transferred",
                f"{human_size(self.bytes_copied)} copied, {human_size(self.bytes_skipped)} "
                f"already present, {human_size(self.bytes_mounted)} mounted",
            )
        )
        if self.images and len(self.images) > 1:
            rows.append(("Tags copied", [f"{t}  {d}" for t, d in self.images.items()]))
        else:
            rows.append(("Tags copied", self.tags or ["(by digest)"]))
        if self.destination_name and self.registry:
            tag = self.tags[0] if self.tags else None
            rows.extend(_commands(self.destination_name, tag, self.digest))
        return rows


@dataclass(frozen=True)
class PushResult(_Summary):
    """A layout or archive pushed to a registry."""

    image: str
    path: str
    digest: str | None
    size: int
    tags: list[str]
    bytes_copied: int = 0
    bytes_skipped: int = 0
    registry: str | None = None
    name: str | None = None
    images: dict[str, str] = field(default_factory=dict)

    def _title(self) -> str:
        return "✓ Image pushed successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [
            ("Image", self.image),
            ("Registry", self.registry or "-"),
            ("From", self.path),
            ("Size", human_size(self.size)),
        ]
        if self.digest:
            rows.append(("Digest", self.digest))
        rows.append(
            (
                "Transferred",
                f"{human_size(self.bytes_copied)} uploaded, "
                f"{human_size(self.bytes_skipped)} already present",
            )
        )
        rows.append(("Tags pushed", self.tags or ["(by digest)"]))
        if self.name:
            rows.extend(_commands(self.name, self.tags[0] if self.tags else None, self.digest))
        return rows


@dataclass(frozen=True)
class PullResult(_Summary):
    """An image pulled into an OCI layout directory or a docker-archive tarball."""

    image: str
    path: str
    digest: str | None
    size: int
    tags: list[str]
    format: str = "oci"
    platforms: list[str] = field(default_factory=list)
    bytes_copied: int = 0
    bytes_skipped: int = 0

    def _title(self) -> str:
        return "✓ Image pulled successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        transport = "oci" if self.format == "oci" else "docker-archive"
        tag = self.tags[0] if self.tags else ""
        rows: list[tuple[str, Value]] = [
            ("Image", self.image),
            ("Path", f"{self.path} ({self.format})"),
            ("Size", human_size(self.size)),
        ]
        if self.digest:
            rows.append(("Digest", self.digest))
        if self.platforms:
            rows.append(("Platforms", ", ".join(self.platforms)))
        rows.append(
            (
                "Transferred",
                f"{human_size(self.bytes_copied)} downloaded, "
                f"{human_size(self.bytes_skipped)} already in {self.path}",
            )
        )
        rows.append(("Tags", self.tags or ["(by digest)"]))
        if self.format == "docker-archive":
            rows.append(("Load", (f"docker load -i {self.path}", f"podman load -i {self.path}")))
        verify = f"skopeo inspect {transport}:{self.path}{':' + tag if tag else ''}"
        rows.append(("Verify", (verify,)))
        return rows


@dataclass(frozen=True)
class TagResult(_Summary):
    """New tags pointing at an existing manifest (same digest)."""

    image: str
    digest: str
    tags: list[str]
    registry: str | None = None
    name: str | None = None

    def _title(self) -> str:
        return "✓ Image tagged successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [
            ("Image", self.image),
            ("Registry", self.registry or "-"),
            ("Digest", self.digest),
            ("Tags written", self.tags),
        ]
        if self.name and self.tags:
            rows.extend(_commands(self.name, self.tags[0], self.digest))
        return rows


@dataclass(frozen=True)
class DeleteResult(_Summary):
    """A delete (or its dry run). ``tags`` are every tag that shared the digest."""

    image: str
    digest: str
    tags: list[str]
    dry_run: bool
    deleted: bool
    referrers: list[str] = field(default_factory=list)
    untag_only: bool = False
    registry: str | None = None
    method: str = "registry API"
    removed_tags: list[str] = field(default_factory=list)

    def _title(self) -> str:
        if self.dry_run:
            return "Dry run: nothing was deleted"
        return "✓ Tag removed" if self.untag_only else "✓ Image deleted"

    def _rows(self) -> list[tuple[str, Value]]:
        verb = "that would be removed" if self.dry_run else "removed"
        rows: list[tuple[str, Value]] = [
            ("Image", self.image),
            ("Registry", self.registry or "-"),
            ("Digest", self.digest),
            ("Tags sharing this digest", self.tags or ["(none)"]),
            (f"Tags {verb}", self.removed_tags or ["(none)"]),
        ]
        if self.referrers:
            rows.append(("Referrers (signatures, SBOMs)", self.referrers))
        rows.append(("Method", self.method))
        if self.method == "registry API":
            rows.append(
                (
                    "Note",
                    "storage is freed only after the registry's garbage collection "
                    "(`registry garbage-collect <config.yml>` on a distribution registry)",
                )
            )
        return rows


@dataclass(frozen=True)
class SyncResult(_Summary):
    """A sync: which tags were copied and which were already identical."""

    source: str
    destination: str
    copied: list[CopyResult]
    unchanged: list[str]

    @property
    def tags(self) -> list[str]:
        return [t for r in self.copied for t in r.tags]

    @property
    def bytes_copied(self) -> int:
        return sum(r.bytes_copied for r in self.copied)

    @property
    def bytes_skipped(self) -> int:
        return sum(r.bytes_skipped for r in self.copied)

    @property
    def bytes_mounted(self) -> int:
        return sum(r.bytes_mounted for r in self.copied)

    def _title(self) -> str:
        return "✓ Repository synced"

    def _rows(self) -> list[tuple[str, Value]]:
        return [
            ("Source", self.source),
            ("Destination", self.destination),
            ("Tags copied", [f"{r.tags[0]}  {r.digest}" for r in self.copied] or ["(none)"]),
            ("Tags already identical", self.unchanged or ["(none)"]),
            (
                "Transferred",
                f"{human_size(self.bytes_copied)} copied, {human_size(self.bytes_skipped)} "
                f"already present, {human_size(self.bytes_mounted)} mounted",
            ),
        ]


@dataclass(frozen=True)
class ApplyResult(_Summary):
    """A retention plan carried out: what was deleted, untagged or skipped."""

    repository: str
    deleted: list[DeleteResult]
    skipped: list[str]

    @property
    def tags(self) -> list[str]:
        return [t for r in self.deleted for t in r.removed_tags]

    def _title(self) -> str:
        return "✓ Retention plan applied"

    def _rows(self) -> list[tuple[str, Value]]:
        return [
            ("Repository", self.repository),
            ("Tags removed", self.tags or ["(none)"]),
            ("Manifests deleted", [r.digest for r in self.deleted if not r.untag_only] or ["-"]),
            ("Skipped", self.skipped or ["(none)"]),
            ("Note", "storage is freed only after the registry's garbage collection"),
        ]
