"""Deterministic container images built in pure Python.

Tests, samples and demos need images whose digests are the same on every
machine and every run, so that a notebook can say "this digest" and mean it.
Everything that usually varies is pinned here:

* tar layers: sorted entries, parent directories added, mtime fixed, owner
  0:0 with empty user/group names, modes 0644/0755 unless given;
* gzip: header mtime 0, no file name, and by default the portable deflate
  encoder of ``deflate`` (``compresslevel=`` uses zlib, faster, less portable);
* zstd: level 3 via the ``zstandard`` package (stable for a given version);
* JSON: compact separators and a fixed key order, so config, manifest and
  index digests follow from the content alone.

Built images go into a ``MemoryStore`` (:func:`memory_store`); from there a
copy to a registry, a layout or an archive runs through the one transfer
(:func:`write_oci_layout` is that copy into a layout directory).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from .._client import Client
from .._model import mediatypes as mt
from .._model.digest import compute_digest
from .._model.mediatypes import OPAQUE_WHITEOUT, WHITEOUT_PREFIX
from .._ops.copy import copy_stores
from .._stores.layout import LayoutStore
from .._stores.memory import MemoryStore
from .deflate import gzip_bytes

__all__ = [
    "OPAQUE_WHITEOUT",
    "WHITEOUT_PREFIX",
    "Blob",
    "FileSpec",
    "HistoryStep",
    "Image",
    "Index",
    "Layer",
    "add_to_store",
    "build_image",
    "build_index",
    "canonical_json",
    "gzip_layer",
    "memory_store",
    "tar_layer",
    "uncompressed_layer",
    "write_dir",
    "write_oci_layout",
    "zstd_layer",
]

DEFAULT_CREATED = "2024-01-01T00:00:00Z"

ImageFormat = Literal["oci", "docker"]


def canonical_json(obj: Any) -> bytes:
    """Compact JSON in the dicts' insertion order (the order builders fix)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# -- blobs and layers ---------------------------------------------------------


@dataclass(frozen=True)
class Blob:
    """Content plus its media type; ``digest`` and ``size`` follow from ``data``."""

    media_type: str
    data: bytes = field(repr=False)
    digest: str = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", compute_digest(self.data))
        object.__setattr__(self, "size", len(self.data))

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        """An OCI descriptor (``mediaType``, ``digest``, ``size``, then *extra*)."""
        desc: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        desc.update({k: v for k, v in extra.items() if v is not None})
        return desc

    def with_media_type(self, media_type: str) -> Blob:
        return Blob(media_type, self.data)


@dataclass(frozen=True)
class Layer:
    """A layer blob and the digest of its uncompressed tar (the config's diff_id)."""

    blob: Blob
    diff_id: str
    uncompressed_size: int


@dataclass(frozen=True)
class FileSpec:
    """A tar entry with more than bytes: a mode, or a symlink target."""

    data: bytes = b""
    mode: int = 0o644
    symlink: str | None = None


# -- tar ----------------------------------------------------------------------


def _clean_path(name: str) -> str:
    # Layers hold relative paths; "/etc/x", "./etc/x" and "etc/x" are the same
    # entry, and ".." would escape the root on extraction.
    path = PurePosixPath(name.lstrip("/"))
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"bad path in layer: {name!r}")
    return "/".join(parts)


def tar_layer(
    files: Mapping[str, bytes | FileSpec | None],
    *,
    mtime: int = 0,
) -> bytes:
    """Return a deterministic, uncompressed tar of *files*.

    Keys are paths inside the image. A ``bytes`` value is a regular file
    (mode 0644), a :class:`FileSpec` sets the mode or makes a symlink, a key
    ending in ``/`` is a directory, and ``None`` deletes the path from lower
    layers (an OCI whiteout ``.wh.<name>``). A key whose last part is
    ``.wh..wh..opq`` is written as given: the opaque-directory marker.
    """
    entries: dict[str, tuple[str, FileSpec]] = {}  # path -> (kind, spec)
    dirs: set[str] = set()
    for raw, value in files.items():
        path = _clean_path(raw)
        if raw.endswith("/"):
            mode = value.mode if isinstance(value, FileSpec) else 0o755
            entries[path] = ("dir", FileSpec(mode=mode))
            continue
        if value is None:
            parent, _, base = path.rpartition("/")
            path = f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base
            entries[path] = ("file", FileSpec())
        elif isinstance(value, FileSpec):
            entries[path] = ("symlink" if value.symlink is not None else "file", value)
        else:
            entries[path] = ("file", FileSpec(data=bytes(value)))
        parts = path.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    for d in dirs:
        entries.setdefault(d, ("dir", FileSpec(mode=0o755)))

    buf = io.BytesIO()
    # PAX only adds extended headers for names USTAR cannot hold, so short
    # names produce plain USTAR headers; the format is fixed either way.
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            kind, spec = entries[path]
            info = tarfile.TarInfo(path)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = spec.mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = spec.symlink or ""
                info.mode = 0o777
                tar.addfile(info)
            else:
                info.size = len(spec.data)
                tar.addfile(info, io.BytesIO(spec.data))
    return buf.getvalue()


def gzip_layer(
    tar: bytes,
    media_type: str = mt.OCI_LAYER_GZIP,
    *,
    compresslevel: int | None = None,
) -> Layer:
    """Gzip *tar* deterministically.

    With ``compresslevel=None`` the built-in encoder gives the same bytes on
    every machine; ``0`` stores the data uncompressed in gzip framing (fast,
    and just as portable: for big or random data); another integer uses zlib
    at that level (faster, smaller, but the bytes follow the zlib build).
    """
    blob = Blob(media_type, gzip_bytes(tar, compresslevel))
    return Layer(blob=blob, diff_id=compute_digest(tar), uncompressed_size=len(tar))


def zstd_layer(tar: bytes, media_type: str = mt.OCI_LAYER_ZSTD, *, level: int = 3) -> Layer:
    """Compress *tar* with zstd (same bytes for a given ``zstandard`` version)."""
    import zstandard

    data: bytes = zstandard.ZstdCompressor(level=level).compress(tar)
    return Layer(
        blob=Blob(media_type, data), diff_id=compute_digest(tar), uncompressed_size=len(tar)
    )


def uncompressed_layer(tar: bytes, media_type: str = mt.OCI_LAYER) -> Layer:
    """A layer stored as the tar itself (its digest is its diff_id)."""
    blob = Blob(media_type, tar)
    return Layer(blob=blob, diff_id=blob.digest, uncompressed_size=len(tar))


# -- images and indexes -------------------------------------------------------


@dataclass(frozen=True)
class HistoryStep:
    """A history entry; ``empty_layer=True`` marks steps such as ENV or LABEL."""

    created_by: str
    empty_layer: bool = False
    comment: str | None = None
    created: str | None = None


class _Named:
    """What built images and indexes share: they are named by their manifest."""

    manifest: Blob

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def media_type(self) -> str:
        return self.manifest.media_type


@dataclass(frozen=True)
class Image(_Named):
    """A built image: config and layer blobs, and the manifest over them."""

    config: Blob
    layers: list[Blob]
    manifest: Blob
    platform: dict[str, str]
    diff_ids: list[str]
    format: ImageFormat

    @property
    def size(self) -> int:
        """Bytes a pull transfers: config plus layers (what registries report)."""
        return self.config.size + sum(layer.size for layer in self.layers)

    def blobs(self) -> Iterator[Blob]:
        """The config, then each layer (not the manifest)."""
        yield self.config
        yield from self.layers


@dataclass(frozen=True)
class Index(_Named):
    """A multi-platform index (OCI) or manifest list (Docker) over images."""

    manifest: Blob
    images: list[Image]
    format: ImageFormat

    def blobs(self) -> Iterator[Blob]:
        """Every image's config and layers, each blob once."""
        seen: set[str] = set()
        for image in self.images:
            for blob in image.blobs():
                if blob.digest not in seen:
                    seen.add(blob.digest)
                    yield blob


_DOCKER_LAYER_TYPES = {
    mt.OCI_LAYER_GZIP: mt.DOCKER_LAYER_GZIP,
    mt.DOCKER_LAYER_GZIP: mt.DOCKER_LAYER_GZIP,
}


def _history_entries(
    history: Sequence[str | HistoryStep] | None, n_layers: int, created: str
) -> list[dict[str, Any]]:
    steps: list[HistoryStep]
    if history is None:
        steps = [HistoryStep(f"registrykit: layer {i}") for i in range(n_layers)]
    else:
        steps = [HistoryStep(h) if isinstance(h, str) else h for h in history]
    non_empty = sum(not s.empty_layer for s in steps)
    if non_empty != n_layers:
        raise ValueError(
            f"history has {non_empty} non-empty steps but the image has {n_layers} layers"
        )
    out: list[dict[str, Any]] = []
    for step in steps:
        entry: dict[str, Any] = {"created": step.created or created, "created_by": step.created_by}
        if step.comment is not None:
            entry["comment"] = step.comment
        if step.empty_layer:
            entry["empty_layer"] = True
        out.append(entry)
    return out


def _layer_blob(blob: Blob, format: ImageFormat) -> Blob:
    if format == "oci":
        return blob
    if blob.media_type not in _DOCKER_LAYER_TYPES:
        raise ValueError(
            f"a Docker v2s2 image needs gzip layers, not {blob.media_type}; "
            "use format='oci' for zstd or uncompressed layers"
        )
    return blob.with_media_type(_DOCKER_LAYER_TYPES[blob.media_type])


def build_image(
    layers: Sequence[Layer],
    *,
    architecture: str = "amd64",
    os: str = "linux",
    variant: str | None = None,
    created: str = DEFAULT_CREATED,
    history: Sequence[str | HistoryStep] | None = None,
    env: Sequence[str] | Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    cmd: Sequence[str] | None = None,
    entrypoint: Sequence[str] | None = None,
    workdir: str | None = None,
    format: ImageFormat = "oci",
    annotations: Mapping[str, str] | None = None,
) -> Image:
    """Build an image's config and manifest over *layers*.

    *history* gives ``created_by`` per layer, in order; interleave
    ``HistoryStep("ENV A=1", empty_layer=True)`` entries for steps that made
    no layer. ``format="docker"`` writes a Docker v2 schema 2 manifest (gzip
    layers only; no annotations, which that format does not have).
    """
    if format not in ("oci", "docker"):
        raise ValueError(f"format must be 'oci' or 'docker', not {format!r}")
    layer_blobs = [_layer_blob(layer.blob, format) for layer in layers]
    if format == "docker" and annotations:
        raise ValueError("Docker v2s2 manifests have no annotations; use format='oci'")

    container: dict[str, Any] = {}
    if env is not None:
        container["Env"] = (
            [f"{k}={v}" for k, v in env.items()] if isinstance(env, Mapping) else list(env)
        )
    if entrypoint is not None:
        container["Entrypoint"] = list(entrypoint)
    if cmd is not None:
        container["Cmd"] = list(cmd)
    if workdir is not None:
        container["WorkingDir"] = workdir
    if labels:
        container["Labels"] = dict(labels)

    platform: dict[str, str] = {"architecture": architecture, "os": os}
    if variant:
        platform["variant"] = variant
    config: dict[str, Any] = {"created": created, **platform}
    if container:
        config["config"] = container
    config["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]}
    config["history"] = _history_entries(history, len(layers), created)

    config_blob = Blob(
        mt.OCI_CONFIG if format == "oci" else mt.DOCKER_CONFIG, canonical_json(config)
    )
    manifest_type = mt.OCI_MANIFEST if format == "oci" else mt.DOCKER_MANIFEST
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config_blob.descriptor(),
        "layers": [blob.descriptor() for blob in layer_blobs],
    }
    if annotations:
        manifest["annotations"] = dict(annotations)
    return Image(
        config=config_blob,
        layers=layer_blobs,
        manifest=Blob(manifest_type, canonical_json(manifest)),
        platform=platform,
        diff_ids=[layer.diff_id for layer in layers],
        format=format,
    )


def build_index(
    images: Sequence[Image],
    *,
    format: ImageFormat = "oci",
    annotations: Mapping[str, str] | None = None,
) -> Index:
    """An OCI index or (``format="docker"``) a Docker manifest list over *images*."""
    if format not in ("oci", "docker"):
        raise ValueError(f"format must be 'oci' or 'docker', not {format!r}")
    if not images:
        raise ValueError("an index needs at least one image")
    if format == "docker":
        if annotations:
            raise ValueError("Docker manifest lists have no annotations; use format='oci'")
        if any(image.format != "docker" for image in images):
            raise ValueError("a Docker manifest list can only list Docker v2s2 images")
    media_type = mt.OCI_INDEX if format == "oci" else mt.DOCKER_MANIFEST_LIST
    index: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [image.manifest.descriptor(platform=dict(image.platform)) for image in images],
    }
    if annotations:
        index["annotations"] = dict(annotations)
    return Index(
        manifest=Blob(media_type, canonical_json(index)), images=list(images), format=format
    )


# -- into stores ------------------------------------------------------------------


def add_to_store(store: MemoryStore, item: Image | Index, tags: Sequence[str] = ()) -> None:
    """Put ``item`` (its blobs, platform manifests, then itself) into ``store`` under ``tags``.

    Without tags the item is held as an unnamed entry, copied by digest.
    """
    for blob in item.blobs():
        store.add_blob(blob.data)
    if isinstance(item, Index):
        for image in item.images:
            store.manifest_put(image.digest, image.manifest.data, image.media_type)
    for ref in tags or [item.digest]:
        store.manifest_put(ref, item.manifest.data, item.media_type, top=True)


def memory_store(entries: Iterable[tuple[str, Image | Index]]) -> MemoryStore:
    """A ``MemoryStore`` holding each (tag, image or index) of ``entries``."""
    store = MemoryStore("built")
    for tag, item in entries:
        add_to_store(store, item, [tag])
    return store


def write_oci_layout(
    path: Path | str,
    entries: Sequence[tuple[str, Image | Index]],
    *,
    client: Client | None = None,
) -> Path:
    """Copy *entries* (tag, image or index) into an OCI image layout at *path*.

    Each entry is named in ``index.json`` by the
    ``org.opencontainers.image.ref.name`` annotation. Entries already in an
    existing layout are kept unless a new entry reuses their name.
    """
    with LayoutStore(path, create=True) as layout:
        copy_stores(memory_store(entries), layout, client=client, progress=False)
    return Path(path)


def write_dir(path: Path | str, item: Image | Index) -> Path:
    """Write *item* in the ``dir:`` format of skopeo and containers/image.

    ``manifest.json`` holds the top manifest, each blob is a file named by its
    hex digest, and an index's per-platform manifests are
    ``<hex>.manifest.json``. Unlike an OCI layout this carries Docker v2s2
    manifests and manifest lists, which skopeo's ``oci:`` transport skips.
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "version").write_text("Directory Transport Version: 1.1\n")
    for blob in item.blobs():
        (root / blob.digest.partition(":")[2]).write_bytes(blob.data)
    if isinstance(item, Index):
        for image in item.images:
            name = image.digest.partition(":")[2] + ".manifest.json"
            (root / name).write_bytes(image.manifest.data)
    (root / "manifest.json").write_bytes(item.manifest.data)
    return root
