"""Deterministic container images built in pure Python.

Tests, samples and demos need images whose digests are the same on every
machine and every run, so that a notebook can say "this digest" and mean it.
Everything that usually varies is pinned here:

* tar layers: sorted entries, parent directories added, mtime fixed, owner
  0:0 with empty user/group names, modes 0644/0755 unless given;
* gzip: header mtime 0, no file name, and, by default, a small deflate
  encoder of our own (fixed Huffman codes, greedy LZ77) whose output does not
  depend on which zlib the interpreter links (zlib-ng and madler zlib produce
  different bytes at the same level); pass ``compresslevel=`` to use zlib
  instead when speed matters more than portability;
* zstd: level 3 via the ``zstandard`` package (stable for a given version);
* JSON: compact separators and a fixed key order, so config, manifest and
  index digests follow from the content alone.

Public entry points: :func:`tar_layer`, :func:`gzip_layer`,
:func:`zstd_layer`, :func:`uncompressed_layer`, :func:`build_image`,
:func:`build_index` and :func:`write_oci_layout`.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import os
import struct
import tarfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from .._model.mediatypes import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
)

__all__ = [
    "OPAQUE_WHITEOUT",
    "REF_NAME_ANNOTATION",
    "WHITEOUT_PREFIX",
    "Blob",
    "FileSpec",
    "HistoryStep",
    "Image",
    "Index",
    "Layer",
    "build_image",
    "build_index",
    "canonical_json",
    "gzip_layer",
    "sha256_digest",
    "tar_layer",
    "uncompressed_layer",
    "write_dir",
    "write_oci_layout",
    "zstd_layer",
]

WHITEOUT_PREFIX = ".wh."
OPAQUE_WHITEOUT = ".wh..wh..opq"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
DEFAULT_CREATED = "2024-01-01T00:00:00Z"

ImageFormat = Literal["oci", "docker"]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """Compact JSON in the dicts' insertion order (the order builders fix)."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=False, ensure_ascii=False).encode()


# -- blobs and layers ---------------------------------------------------------


@dataclass(frozen=True)
class Blob:
    """Content plus its media type; ``digest`` and ``size`` follow from ``data``."""

    media_type: str
    data: bytes = field(repr=False)
    digest: str = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", sha256_digest(self.data))
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


# -- a portable deflate encoder ----------------------------------------------
#
# One block with the fixed Huffman codes of RFC 1951 section 3.2.6 and greedy
# LZ77 matching. It compresses worse than zlib, but its output is a function
# of the input alone, which is the point.

_LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99]
_LEN_BASE += [115, 131, 163, 195, 227, 258]
_LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
_DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769]
_DIST_BASE += [1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
_DIST_EXTRA = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
_WINDOW = 32768
_MIN_MATCH, _MAX_MATCH = 3, 258
_CHAIN = 16  # candidates tried per position: bounded work, deterministic result


def _reverse_bits(code: int, nbits: int) -> int:
    out = 0
    for _ in range(nbits):
        out = (out << 1) | (code & 1)
        code >>= 1
    return out


def _fixed_litlen_codes() -> list[tuple[int, int]]:
    codes: list[tuple[int, int]] = []
    for sym in range(288):
        if sym < 144:
            code, n = 0x30 + sym, 8
        elif sym < 256:
            code, n = 0x190 + sym - 144, 9
        elif sym < 280:
            code, n = sym - 256, 7
        else:
            code, n = 0xC0 + sym - 280, 8
        # Huffman codes go MSB first into an LSB-first bit stream.
        codes.append((_reverse_bits(code, n), n))
    return codes


_LITLEN = _fixed_litlen_codes()
_DIST_CODES = [_reverse_bits(i, 5) for i in range(30)]
_LEN_SYMBOL = [0] * (_MAX_MATCH + 1)
for _length in range(_MIN_MATCH, _MAX_MATCH + 1):
    _LEN_SYMBOL[_length] = bisect.bisect_right(_LEN_BASE, _length) - 1
_LEN_SYMBOL[_MAX_MATCH] = len(_LEN_BASE) - 1


def _deflate_portable(data: bytes) -> bytes:
    out = bytearray()
    bitbuf = 0
    bitcount = 0

    def put(value: int, nbits: int) -> None:
        nonlocal bitbuf, bitcount
        bitbuf |= value << bitcount
        bitcount += nbits
        while bitcount >= 8:
            out.append(bitbuf & 0xFF)
            bitbuf >>= 8
            bitcount -= 8

    put(1, 1)  # BFINAL
    put(1, 2)  # BTYPE 01: fixed Huffman codes
    heads: dict[bytes, list[int]] = {}
    n = len(data)
    i = 0
    while i < n:
        best_len = 0
        best_dist = 0
        if i + _MIN_MATCH <= n:
            key = data[i : i + _MIN_MATCH]
            chain = heads.get(key)
            if chain:
                limit = min(_MAX_MATCH, n - i)
                for cand in reversed(chain):
                    dist = i - cand
                    if dist > _WINDOW:
                        break
                    length = _MIN_MATCH
                    while length < limit and data[cand + length] == data[i + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_dist = length, dist
                        if length == limit:
                            break
                chain.append(i)
                if len(chain) > _CHAIN:
                    del chain[0]
            else:
                heads[key] = [i]
        if best_len >= _MIN_MATCH:
            idx = _LEN_SYMBOL[best_len]
            code, nbits = _LITLEN[257 + idx]
            put(code, nbits)
            if _LEN_EXTRA[idx]:
                put(best_len - _LEN_BASE[idx], _LEN_EXTRA[idx])
            didx = bisect.bisect_right(_DIST_BASE, best_dist) - 1
            put(_DIST_CODES[didx], 5)
            if _DIST_EXTRA[didx]:
                put(best_dist - _DIST_BASE[didx], _DIST_EXTRA[didx])
            i += best_len
        else:
            code, nbits = _LITLEN[data[i]]
            put(code, nbits)
            i += 1
    code, nbits = _LITLEN[256]  # end of block
    put(code, nbits)
    if bitcount:
        out.append(bitbuf & 0xFF)
    return bytes(out)


def _deflate_stored(data: bytes) -> bytes:
    """Deflate "stored" blocks: no compression, fast, and the same bytes everywhere.

    zlib's own level 0 changed its block sizes between releases, so the
    blocks are framed here (at most 65,535 bytes each, RFC 1951 3.2.4).
    """
    out = bytearray()
    step = 0xFFFF
    for start in range(0, max(len(data), 1), step):
        chunk = data[start : start + step]
        final = 1 if start + step >= len(data) else 0
        out += struct.pack("<BHH", final, len(chunk), len(chunk) ^ 0xFFFF) + chunk
    return bytes(out)


def _gzip(data: bytes, compresslevel: int | None) -> bytes:
    if compresslevel is None:
        body = _deflate_portable(data)
    elif compresslevel == 0:
        body = _deflate_stored(data)
    else:
        comp = zlib.compressobj(compresslevel, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = comp.compress(data) + comp.flush()
    # Header written by hand so it is identical on every OS: no name, mtime 0,
    # XFL 0, OS 255 ("unknown") rather than the host's OS code.
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x00\xff"
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer


def gzip_layer(
    tar: bytes,
    media_type: str = OCI_LAYER_GZIP,
    *,
    compresslevel: int | None = None,
) -> Layer:
    """Gzip *tar* deterministically.

    With ``compresslevel=None`` the built-in encoder gives the same bytes on
    every machine; ``0`` stores the data uncompressed in gzip framing (fast,
    and just as portable: for big or random data); another integer uses zlib
    at that level (faster, smaller, but the bytes follow the zlib build).
    """
    blob = Blob(media_type, _gzip(tar, compresslevel))
    return Layer(blob=blob, diff_id=sha256_digest(tar), uncompressed_size=len(tar))


def zstd_layer(tar: bytes, media_type: str = OCI_LAYER_ZSTD, *, level: int = 3) -> Layer:
    """Compress *tar* with zstd (same bytes for a given ``zstandard`` version)."""
    import zstandard

    data: bytes = zstandard.ZstdCompressor(level=level).compress(tar)
    return Layer(
        blob=Blob(media_type, data), diff_id=sha256_digest(tar), uncompressed_size=len(tar)
    )


def uncompressed_layer(tar: bytes, media_type: str = OCI_LAYER) -> Layer:
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


@dataclass(frozen=True)
class Image:
    """A built image: config and layer blobs, and the manifest over them."""

    config: Blob
    layers: list[Blob]
    manifest: Blob
    platform: dict[str, str]
    diff_ids: list[str]
    format: ImageFormat

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def media_type(self) -> str:
        return self.manifest.media_type

    @property
    def size(self) -> int:
        """Bytes a pull transfers: config plus layers (what registries report)."""
        return self.config.size + sum(layer.size for layer in self.layers)

    def blobs(self) -> Iterator[Blob]:
        """The config, then each layer (not the manifest)."""
        yield self.config
        yield from self.layers


@dataclass(frozen=True)
class Index:
    """A multi-platform index (OCI) or manifest list (Docker) over images."""

    manifest: Blob
    images: list[Image]
    format: ImageFormat

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def media_type(self) -> str:
        return self.manifest.media_type

    def blobs(self) -> Iterator[Blob]:
        """Every image's config and layers, each blob once."""
        seen: set[str] = set()
        for image in self.images:
            for blob in image.blobs():
                if blob.digest not in seen:
                    seen.add(blob.digest)
                    yield blob


_DOCKER_LAYER_TYPES = {OCI_LAYER_GZIP: DOCKER_LAYER_GZIP, DOCKER_LAYER_GZIP: DOCKER_LAYER_GZIP}


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
    layer_blobs: list[Blob] = []
    for layer in layers:
        blob = layer.blob
        if format == "docker":
            if blob.media_type not in _DOCKER_LAYER_TYPES:
                raise ValueError(
                    f"a Docker v2s2 image needs gzip layers, not {blob.media_type}; "
                    "use format='oci' for zstd or uncompressed layers"
                )
            # Same bytes, so the same digest: only the label changes.
            blob = blob.with_media_type(_DOCKER_LAYER_TYPES[blob.media_type])
        layer_blobs.append(blob)
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

    config_blob = Blob(OCI_CONFIG if format == "oci" else DOCKER_CONFIG, canonical_json(config))
    manifest_type = OCI_MANIFEST if format == "oci" else DOCKER_MANIFEST
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
    media_type = OCI_INDEX if format == "oci" else DOCKER_MANIFEST_LIST
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


# -- OCI image layout -----------------------------------------------------------


def _write_blob(root: Path, blob: Blob) -> None:
    algorithm, _, hexdigest = blob.digest.partition(":")
    target = root / "blobs" / algorithm / hexdigest
    if target.exists() and target.stat().st_size == blob.size:
        return  # content addressed: an existing file of the right size is this blob
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{hexdigest}.tmp")
    tmp.write_bytes(blob.data)
    os.replace(tmp, target)


def write_oci_layout(path: Path | str, entries: Sequence[tuple[str, Image | Index]]) -> Path:
    """Write *entries* (tag, image or index) into an OCI image layout at *path*.

    Each entry is named in ``index.json`` by the
    ``org.opencontainers.image.ref.name`` annotation. Entries already in an
    existing layout are kept unless a new entry reuses their name.
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
    index_path = root / "index.json"
    manifests: list[dict[str, Any]] = []
    if index_path.exists():
        manifests = list(json.loads(index_path.read_bytes()).get("manifests", []))
    names = {tag for tag, _ in entries}
    manifests = [
        m for m in manifests if m.get("annotations", {}).get(REF_NAME_ANNOTATION) not in names
    ]
    for tag, item in entries:
        for blob in item.blobs():
            _write_blob(root, blob)
        if isinstance(item, Index):
            for image in item.images:
                _write_blob(root, image.manifest)
        _write_blob(root, item.manifest)
        manifests.append(item.manifest.descriptor(annotations={REF_NAME_ANNOTATION: tag}))
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    tmp = index_path.with_name(".index.json.tmp")
    tmp.write_bytes(canonical_json(index))
    os.replace(tmp, index_path)
    return root


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
