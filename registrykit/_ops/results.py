"""What copy, push, pull, tag, delete and sync return.

Each result prints the summary a person wants after the operation (image,
registry, size, digest, tags, bytes moved, the pull and verify commands) and
renders as an HTML table in Jupyter. Results hold references, digests and
counts only: there is nothing secret in them to leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._model.render import Summary as _Summary
from .._model.render import Value
from .._model.units import human_size
from .._stores.runtime import COMMANDS

__all__ = [
    "ApplyResult",
    "CopyResult",
    "DeleteResult",
    "PullResult",
    "PushResult",
    "SyncResult",
    "TagResult",
]


def speaks_http(base_url: str) -> bool:
    """Whether a registry answers over plain http: its printed commands then say so."""
    return base_url.startswith("http://")


def _image_ref(name: str, tag: str | None, digest: str | None) -> str:
    if tag:
        return f"{name}:{tag}"
    return f"{name}@{digest}" if digest else name


def _commands(
    name: str, tag: str | None, digest: str | None, plain_http: bool = False
) -> list[tuple[str, Value]]:
    ref = _image_ref(name, tag, digest)
    # skopeo and podman try https only unless told (skopeo ignores
    # CONTAINERS_REGISTRIES_CONF); docker allows plain http on 127.0.0.0/8.
    flag = "--tls-verify=false " if plain_http else ""
    return [
        ("Pull command", (f"docker pull {ref}", f"podman pull {flag}{ref}")),
        ("Verify", (f"skopeo inspect {flag}docker://{ref}",)),
    ]


@dataclass(frozen=True, kw_only=True)
class _Transferred(_Summary):
    """What every copy, pull and push reports, under the same names.

    ``digest`` is what the destination holds (None when several tags were
    moved: ``images`` maps each tag to its digest); ``size`` counts each blob
    once however many tags share it; ``bytes_copied`` moved, ``bytes_skipped``
    were already there, ``bytes_mounted`` came from another repository of the
    same registry without moving. ``verify`` is the command that reads a
    layout, archive or runtime destination back (a registry's comes from
    ``registry`` and ``name``, and ``plain_http`` when it speaks http).
    """

    digest: str | None
    size: int
    tags: list[str]
    bytes_copied: int = 0
    bytes_skipped: int = 0
    bytes_mounted: int = 0
    platforms: list[str] = field(default_factory=list)
    digest_changed: bool = False
    source_digest: str | None = None
    media_type: str | None = None
    registry: str | None = None
    name: str | None = None
    images: dict[str, str] = field(default_factory=dict)
    verify: str | None = None
    plain_http: bool = False

    def _common_rows(self, moved: str) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [("Size", human_size(self.size))]
        if self.digest:
            rows.append(("Digest", self.digest))
        if self.digest_changed:
            rows.append(
                (
                    "Note",
                    f"the digest differs from the source's ({self.source_digest or '-'}): "
                    "only some platforms were copied, or a Docker-format manifest got OCI "
                    "media types in the layout (preserve_digests=True keeps the bytes)",
                )
            )
        if self.platforms:
            rows.append(("Platforms", ", ".join(self.platforms)))
        rows.append(
            (
                "Transferred",
                f"{human_size(self.bytes_copied)} {moved}, {human_size(self.bytes_skipped)} "
                f"already present, {human_size(self.bytes_mounted)} mounted",
            )
        )
        return rows

    def _tag_rows(self, label: str) -> list[tuple[str, Value]]:
        if len(self.images) > 1:
            return [(label, [f"{t}  {d}" for t, d in self.images.items()])]
        return [(label, self.tags or ["(by digest)"])]

    def _pull_commands(self) -> list[tuple[str, Value]]:
        if self.verify:
            return [("Verify", (self.verify,))]
        if not (self.name and self.registry):
            return []
        tag = self.tags[0] if self.tags else None
        return _commands(self.name, tag, self.digest, self.plain_http)


@dataclass(frozen=True, kw_only=True)
class CopyResult(_Transferred):
    """A finished copy from ``source`` to ``destination`` (any two locations).

    ``digest_changed`` is True when a platform subset made a new index (or one
    platform's manifest was taken), so the destination digest differs from
    ``source_digest``.
    """

    source: str
    destination: str

    @property
    def image(self) -> str:
        """The image as the destination now holds it."""
        return self.destination

    def _title(self) -> str:
        return "✓ Image copied successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [
            ("Source", self.source),
            ("Destination", self.destination),
        ]
        if self.registry:
            rows.append(("Registry", self.registry))
        rows += self._common_rows("copied")
        rows += self._tag_rows("Tags copied")
        return rows + self._pull_commands()


@dataclass(frozen=True, kw_only=True)
class _OnDisk(_Transferred):
    """A transfer between ``image`` in a registry and a layout or archive at ``path``."""

    image: str
    path: str


@dataclass(frozen=True, kw_only=True)
class PushResult(_OnDisk):
    """A layout or archive at ``path`` pushed to ``image`` in a registry."""

    def _title(self) -> str:
        return "✓ Image pushed successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [
            ("Image", self.image),
            ("Registry", self.registry or "-"),
            ("From", self.path),
        ]
        rows += self._common_rows("uploaded")
        rows += self._tag_rows("Tags pushed")
        return rows + self._pull_commands()


@dataclass(frozen=True, kw_only=True)
class PullResult(_OnDisk):
    """``image`` pulled into an OCI layout directory or a docker-archive tarball at ``path``."""

    format: str = "oci"

    def _title(self) -> str:
        return "✓ Image pulled successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        where = ("Path", f"{self.path} ({self.format})")
        if self.format in COMMANDS:
            where = ("Loaded into", f"{COMMANDS[self.format]}'s store as {self.path}")
        rows: list[tuple[str, Value]] = [("Image", self.image), where]
        rows += self._common_rows("downloaded")
        rows += self._tag_rows("Tags")
        if self.format == "docker-archive":
            rows.append(("Load", (f"docker load -i {self.path}", f"podman load -i {self.path}")))
        return rows + self._pull_commands()


@dataclass(frozen=True, kw_only=True)
class _InRegistry(_Summary):
    """A result about one manifest (``digest``) of a registry and its ``tags``."""

    image: str
    digest: str
    tags: list[str]
    registry: str | None = None

    def _head_rows(self) -> list[tuple[str, Value]]:
        return [("Image", self.image), ("Registry", self.registry or "-"), ("Digest", self.digest)]


@dataclass(frozen=True, kw_only=True)
class TagResult(_InRegistry):
    """New tags pointing at an existing manifest (same digest)."""

    name: str | None = None
    plain_http: bool = False

    def _title(self) -> str:
        return "✓ Image tagged successfully"

    def _rows(self) -> list[tuple[str, Value]]:
        rows = [*self._head_rows(), ("Tags written", self.tags)]
        if self.name and self.tags:
            rows.extend(_commands(self.name, self.tags[0], self.digest, self.plain_http))
        return rows


@dataclass(frozen=True, kw_only=True)
class DeleteResult(_InRegistry):
    """A delete (or its dry run). ``tags`` are every tag that shared the digest."""

    dry_run: bool
    deleted: bool
    referrers: list[str] = field(default_factory=list)
    untag_only: bool = False
    method: str = "manifest delete"  # one of untag.DELETE_METHODS
    removed_tags: list[str] = field(default_factory=list)

    def _title(self) -> str:
        if self.dry_run:
            return "Dry run: nothing was deleted"
        return "✓ Tag removed" if self.untag_only else "✓ Image deleted"

    def _rows(self) -> list[tuple[str, Value]]:
        verb = "that would be removed" if self.dry_run else "removed"
        rows = [
            *self._head_rows(),
            ("Tags sharing this digest", self.tags or ["(none)"]),
            (f"Tags {verb}", self.removed_tags or ["(none)"]),
        ]
        if self.referrers:
            rows.append(("Referrers (signatures, SBOMs)", self.referrers))
        rows.append(("Method", self.method))
        if self.method in ("manifest delete", "tag delete"):
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

    # The copies' totals, under the names every transfer result uses.
    tags: list[str] = field(init=False)
    bytes_copied: int = field(init=False)
    bytes_skipped: int = field(init=False)
    bytes_mounted: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", [t for r in self.copied for t in r.tags])
        for name in ("bytes_copied", "bytes_skipped", "bytes_mounted"):
            object.__setattr__(self, name, sum(getattr(r, name) for r in self.copied))

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
