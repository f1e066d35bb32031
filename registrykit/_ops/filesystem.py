"""What is inside an image's layers: file versions, whiteouts and waste.

Each layer is streamed from its Store (a registry, an OCI layout or a
docker-archive; gzip, zstd or plain tar) and only
its tar headers are kept: ``tarfile`` in stream mode (``r|``) reads forward
and skips file data by reading past it, so memory stays flat whatever the
layer size, and the blob's digest is still checked as the last chunk
arrives. A layer is untrusted: it may inflate at most ``_MAX_RATIO`` times
its compressed size (past a floor) and tar headers may carry at most 1 MiB
of extended data, so a decompression bomb fails fast with memory flat; any
corrupt, truncated or non-tar layer is a ``RegistryError`` naming the layer.

Layers are then stacked the way overlayfs stacks them (OCI image spec,
"Representing Changes"): an entry replaces the same path of lower layers; a
``.wh.<name>`` entry deletes ``<name>`` (and everything under it) from lower
layers; a ``.wh..wh..opq`` entry in directory ``D`` hides every lower-layer
entry under ``D`` but keeps ``D`` itself. Whiteouts never affect entries of
their own layer.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from .._client import Client, get_client
from .._model import mediatypes as mt
from .._model.digest import ChunkReader
from .._model.errors import RegistryError, RegistryKitError
from .._model.manifest import Descriptor, Platform
from .._model.reference import Reference
from .._stores.base import Store
from .listing import ResolvedImage, open_image, resolve_source
from .progress import BYTE_THRESHOLD, Advance, ProgressArg, bar, counted

__all__ = [
    "FileVersion",
    "WasteSummary",
    "decompressed",
    "image_files",
    "layer_entries",
    "read_image_files",
    "stack_layers",
    "summarize_waste",
    "tar_entries",
]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# Large reads let tarfile skip file data in few calls (it "seeks" a stream
# forward by reading bufsize blocks).
_TAR_BUFSIZE = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Decompression bounds. Real layers inflate 2-20x; a run of zeros inflates
# 1000x, so past a floor the output may be at most _MAX_RATIO times the input.
_MAX_RATIO = 200
_RATIO_FLOOR = 64 * 1024 * 1024
_MAX_INFLATED = 256 * 1024**3
# The most one inflate call produces, so one chunk of a bomb stays small.
_INFLATE_STEP = 1024 * 1024
# PAX and GNU long-name headers hold names and attributes: a few KiB at most.
_MAX_HEADER_DATA = 1024 * 1024
_HEADER_TYPES = frozenset(
    {
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
    }
)

_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}


@dataclass(frozen=True)
class FileVersion:
    """One tar entry of one layer, and whether it survives in the final image.

    ``kind`` is file, dir, symlink, hardlink, char, block, fifo, whiteout or
    opaque (the ``.wh..wh..opq`` marker; its ``path`` is the directory).
    For a whiteout ``path`` is the path it deletes. ``size`` is the
    uncompressed size in the tar header (0 for everything but files).
    """

    path: str
    size: int
    layer: int
    layer_digest: str
    kind: str
    visible: bool = False
    mode: int = 0
    link_target: str | None = None


@dataclass(frozen=True)
class WasteSummary:
    """Bytes that later layers overwrite or delete.

    ``wasted_bytes`` sums the sizes of file versions that are not visible in
    the final filesystem: each hidden copy once (a path written in three
    layers and kept wastes the two lower copies; a deleted file wastes every
    copy). dive's summary instead adds every copy of a duplicated path,
    including the kept one (wagoodman/dive#684). ``efficiency`` is
    ``1 - wasted_bytes / total_bytes`` over file bytes of all versions (1.0
    for an image without file bytes); dive uses the smallest copy of each
    path instead, so its score can differ slightly when copies change size.
    """

    total_bytes: int
    visible_bytes: int
    wasted_bytes: int
    efficiency: float
    versions: tuple[FileVersion, ...]


def _normalise(name: str) -> str:
    # Layers write "./etc/x", "etc/x" or "/etc/x" for the same path.
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


class _LayerFormatError(ValueError):
    """A layer that is not what it claims (bad compression, a bomb, a bad tar header)."""


class _GzipReader(io.RawIOBase):
    """Streaming gunzip over chunks; handles multi-member files like gzip(1).

    Each inflate call yields at most ``_INFLATE_STEP`` bytes (the rest of the
    input waits in ``unconsumed_tail``), so a bomb never inflates at once.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._inflater: zlib._Decompress | None = None  # None between members
        self._pending = b""
        self._out = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._out and not self._eof:
            if not self._pending:
                chunk = next(self._chunks, None)
                if chunk is None:
                    self._eof = True
                    if self._inflater is not None:
                        raise _LayerFormatError("the gzip stream is truncated")
                    return
                self._pending = chunk
                continue
            if self._inflater is None:
                self._inflater = zlib.decompressobj(wbits=47)
            self._out = memoryview(self._inflater.decompress(self._pending, _INFLATE_STEP))
            if self._inflater.eof:
                self._pending, self._inflater = self._inflater.unused_data, None
            else:
                self._pending = self._inflater.unconsumed_tail

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        self._fill()
        n = min(len(target), len(self._out))
        target[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


class _ReadsInto(Protocol):
    def readinto(self, target: bytearray | memoryview, /) -> int: ...


class _Inflated(io.RawIOBase):
    """A decompressor's output, stopped when it passes the bounds; its errors made ours."""

    def __init__(
        self,
        decompressor: Callable[[Iterator[bytes]], _ReadsInto],
        chunks: Iterator[bytes],
        errors: tuple[type[Exception], ...],
    ) -> None:
        self._compressed = 0
        self._inflated = 0
        self._errors = errors
        self._inner = decompressor(self._count(chunks))

    def _count(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._compressed += len(chunk)
            yield chunk

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            n = self._inner.readinto(target)
        except self._errors as exc:
            raise _LayerFormatError(f"it does not decompress ({exc})") from None
        self._inflated += n
        limit = min(_MAX_INFLATED, max(_RATIO_FLOOR, _MAX_RATIO * self._compressed))
        if self._inflated > limit:
            raise _LayerFormatError(
                f"it inflates past {limit // 1024**2} MiB from {self._compressed // 1024} KiB "
                f"(more than {_MAX_RATIO} times its compressed size): a decompression bomb"
            )
        return n


class _BoundedTarInfo(tarfile.TarInfo):
    """Tar headers whose extended data (PAX, GNU long names) is refused past a bound."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _HEADER_TYPES and self.size > _MAX_HEADER_DATA:
            raise _LayerFormatError(
                f"a tar header carries {self.size} bytes of extended data (at most "
                f"{_MAX_HEADER_DATA // 1024} KiB are read)"
            )
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return member


def _peek(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    first = b""
    for chunk in chunks:
        if chunk:
            first = chunk
            break

    def again() -> Iterator[bytes]:
        if first:
            yield first
        yield from chunks

    return first[:4], again()


def decompressed(chunks: Iterable[bytes], media_type: str) -> io.BufferedReader:
    """The tar stream inside a layer blob, decompressed on the fly.

    The media type decides; the first bytes decide when it says nothing
    useful (``application/octet-stream`` layers exist in the wild).
    """
    magic, stream = _peek(iter(chunks))
    if mt.is_zstd_layer(media_type) or magic.startswith(_ZSTD_MAGIC):
        import zstandard  # loaded only when a zstd layer turns up

        def unzstd(compressed: Iterator[bytes]) -> _ReadsInto:
            raw = io.BufferedReader(ChunkReader(compressed), buffer_size=_TAR_BUFSIZE)
            return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)

        inflated = _Inflated(unzstd, stream, (zstandard.ZstdError,))
    elif mt.is_gzip_layer(media_type) or magic.startswith(_GZIP_MAGIC):
        inflated = _Inflated(_GzipReader, stream, (zlib.error,))
    else:
        return io.BufferedReader(ChunkReader(stream), buffer_size=_TAR_BUFSIZE)
    return io.BufferedReader(inflated, buffer_size=_TAR_BUFSIZE)


def tar_entries(stream: io.BufferedReader, layer: int, layer_digest: str) -> list[FileVersion]:
    """The headers of a tar stream as unstacked ``FileVersion`` rows."""
    out: list[FileVersion] = []
    with tarfile.open(
        fileobj=stream, mode="r|", bufsize=_TAR_BUFSIZE, tarinfo=_BoundedTarInfo
    ) as tar:
        for info in tar:
            path = _normalise(info.name)
            if not path:
                continue  # the "./" root entry
            parent, _, base = path.rpartition("/")
            if base == OPAQUE_MARKER:
                kind, path, size = "opaque", parent, 0
            elif base.startswith(WHITEOUT_PREFIX):
                kind, size = "whiteout", 0
                deleted = base[len(WHITEOUT_PREFIX) :]
                path = f"{parent}/{deleted}" if parent else deleted
            else:
                kind = _KINDS.get(info.type, "other")
                size = info.size if kind == "file" else 0
            link = _normalise(info.linkname) if kind == "hardlink" else info.linkname or None
            out.append(
                FileVersion(
                    path=path,
                    size=size,
                    layer=layer,
                    layer_digest=layer_digest,
                    kind=kind,
                    link_target=link or None,
                    mode=info.mode,
                )
            )
    return out


def layer_entries(
    store: Store, layer: Descriptor, index: int, advance: Advance | None = None
) -> list[FileVersion]:
    """Stream one layer from ``store`` and list its tar headers.

    ``advance`` is called with the compressed bytes as they arrive (a progress bar).
    """
    try:
        with store.blob_open(layer.digest) as chunks:
            source = counted(chunks, advance) if advance is not None else chunks
            stream = decompressed(source, layer.media_type)
            entries = tar_entries(stream, index, layer.digest)
            # Drain what tar did not need (end-of-archive padding) so the digest
            # check at the end of the blob runs.
            while stream.read(_TAR_BUFSIZE):
                pass
    except RegistryKitError:
        raise
    except (tarfile.TarError, EOFError, ValueError, OSError) as exc:
        # ValueError covers _LayerFormatError; OSError a zstd reader's failures.
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise RegistryError(
            f"layer {index + 1} ({layer.digest[:19]}…, {layer.media_type or 'no media type'}) "
            f"cannot be read as a tar: {reason}. The layer is corrupt, truncated or not a "
            "filesystem layer."
        ) from None
    return entries


class _Tree:
    """The visible filesystem while layers are stacked: path -> version index."""

    def __init__(self) -> None:
        self.visible: dict[str, int] = {}
        self.children: dict[str, set[str]] = {}

    def add(self, path: str, version: int) -> int | None:
        """Make ``version`` the visible one at ``path``; returns the one it replaced."""
        previous = self.visible.get(path)
        self.visible[path] = version
        parent = path.rpartition("/")[0]
        self.children.setdefault(parent, set()).add(path)
        return previous

    def remove_subtree(self, path: str, keep_root: bool) -> list[int]:
        """Hide ``path`` (unless ``keep_root``) and everything under it."""
        hidden: list[int] = []
        stack = list(self.children.pop(path, ()))
        while stack:
            p = stack.pop()
            version = self.visible.pop(p, None)
            if version is not None:
                hidden.append(version)
            stack.extend(self.children.pop(p, ()))
        if keep_root:
            return hidden
        version = self.visible.pop(path, None)
        if version is not None:
            hidden.append(version)
            self.children.get(path.rpartition("/")[0], set()).discard(path)
        return hidden


def stack_layers(layers: Sequence[Sequence[FileVersion]]) -> list[FileVersion]:
    """Every version of every layer, with ``visible`` set by overlay rules."""
    versions: list[FileVersion] = []
    tree = _Tree()
    for entries in layers:
        # Whiteouts apply to lower layers only, so they go first.
        for e in entries:
            if e.kind == "whiteout":
                tree.remove_subtree(e.path, keep_root=False)
            elif e.kind == "opaque":
                tree.remove_subtree(e.path, keep_root=True)
        for e in entries:
            versions.append(e)
            if e.kind in ("whiteout", "opaque"):
                continue
            replaced = tree.add(e.path, len(versions) - 1)
            if replaced is not None and e.kind != "dir":
                # A file or link that replaces a directory removes its contents.
                tree.remove_subtree(e.path, keep_root=True)
    shown = set(tree.visible.values())
    return [replace(v, visible=i in shown) for i, v in enumerate(versions)]


def image_files(
    image: str | Reference,
    platform: str | Platform | None = None,
    *,
    client: Client | None = None,
    progress: ProgressArg = None,
) -> list[FileVersion]:
    """All file versions of an image's layers, stacked; layers stream in parallel.

    ``image`` is a registry reference, ``oci:DIR[:TAG]`` or
    ``docker-archive:PATH[:TAG]``. ``progress``: None shows a bar when the
    layers are large, True always, False never.
    """
    return read_image_files(image, platform, client=client, progress=progress)[1]


def read_image_files(
    image: str | Reference,
    platform: str | Platform | None = None,
    *,
    client: Client | None = None,
    progress: ProgressArg = None,
) -> tuple[ResolvedImage, list[FileVersion]]:
    """``image_files`` with the resolved image (manifest and config) it read them from."""
    c = get_client(client)
    with open_image(image, client=c) as source:
        resolved = resolve_source(source, platform)
        layers = resolved.manifest.layers
        total = sum(d.size for d in layers)
        advance = bar(
            total,
            f"reading {source.name}",
            unit="B",
            progress=progress,
            threshold=BYTE_THRESHOLD,
        )

        def one(i: int) -> list[FileVersion]:
            return layer_entries(source.store, layers[i], i, advance)

        return resolved, stack_layers(c.map(one, list(range(len(layers)))))


def summarize_waste(versions: Sequence[FileVersion]) -> WasteSummary:
    """The hidden file versions and the figures of ``WasteSummary``."""
    files = [v for v in versions if v.kind == "file"]
    total = sum(v.size for v in files)
    hidden = tuple(v for v in files if not v.visible and v.size > 0)
    wasted = sum(v.size for v in hidden)
    return WasteSummary(
        total_bytes=total,
        visible_bytes=total - wasted,
        wasted_bytes=wasted,
        efficiency=1.0 - wasted / total if total else 1.0,
        versions=hidden,
    )
