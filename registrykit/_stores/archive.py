"""docker-archive tarballs (the ``docker save`` format) as Stores.

What we write is the layout ``docker save`` has used since Docker 25: a tar
that is at once a docker-archive and an OCI image layout::

    manifest.json          [{"Config": "blobs/sha256/<c>", "RepoTags": [...],
                             "Layers": ["blobs/sha256/<l1>", ...]}]
    index.json, oci-layout the OCI layout view, with the original manifests
    blobs/sha256/<hex>     config, layers and manifests, named by digest

``docker load``, ``podman load`` and ``skopeo ... docker-archive:`` read
``manifest.json``; registrykit reads ``index.json``. Layers are stored
exactly as the registry served them (usually gzip), not decompressed as the
classic ``docker save`` does: docker, podman and skopeo all accept compressed
layers, and keeping the bytes keeps every digest, so pulling to an archive
and pushing it back yields the same manifest digest. An archive holds one
platform per tag (``docker load`` has no notion of an index).

Archives without ``index.json`` (classic ``docker save``, skopeo) are read
through ``manifest.json``: a Docker v2 schema 2 manifest is synthesised from
the config and layer files. Each layer is hashed once to get its digest;
nothing is extracted to disk.

Writing streams each blob into the tar as it arrives; a blob that fails its
digest check is cut back out of the file, and the tarball appears at its
final path only when it is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from .._model import digest as dg
from .._model import mediatypes as mt
from .._model.errors import NotFound, RegistryKitError, Unsupported
from .._model.manifest import Descriptor
from .._model.reference import Reference
from .base import BlobOpener, Closing, Store, blob_path, entry_tag, find_entry, not_found

__all__ = ["ArchiveReader", "ArchiveWriter"]

DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"


def _member_name(digest: object) -> str:
    return blob_path(digest, "docker-archive")


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0  # reproducible archives: same image, same tarball bytes
    return info


class ArchiveWriter(Closing):
    """A docker-archive being written; ``close()`` finishes it, ``abort()`` drops it."""

    def __init__(self, path: str | os.PathLike[str], *, image: Reference | None = None) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(
                f"{self.path} is a directory; a docker-archive is a file (e.g. image.tar)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".partial"
        )
        os.fchmod(fd, 0o644)
        self._tmp = Path(tmp)
        self._file: IO[bytes] = os.fdopen(fd, "w+b")
        self._tar = tarfile.TarFile(
            fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT, copybufsize=dg.CHUNK_SIZE
        )
        self._lock = threading.Lock()
        self._blobs: dict[str, int] = {}
        self._manifests: dict[str, tuple[bytes, str]] = {}
        self._tags: dict[str, str] = {}  # RepoTag -> manifest digest
        self.image = image  # names the RepoTags: docker load shows them
        self._closed = False

    def __repr__(self) -> str:
        return f"ArchiveWriter({str(self.path)!r})"

    def describe(self, ref: str | None = None) -> str:
        return f"docker-archive:{self.path}" + (f":{ref}" if ref else "")

    # -- manifests -----------------------------------------------------------------

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        digest = ref if dg.is_digest(ref) else self._tags.get(ref)
        if digest is None or digest not in self._manifests:
            raise NotFound(f"{ref} is not in {self.path}")
        raw, media_type = self._manifests[digest]
        return raw, media_type, digest

    def manifest_head(self, ref: str) -> Descriptor | None:
        try:
            raw, media_type, digest = self.manifest_get(ref)
        except NotFound:
            return None
        return Descriptor(media_type, digest, len(raw))

    def manifest_put(self, ref: str, raw: bytes, media_type: str, *, top: bool = False) -> str:
        digest = dg.compute_digest(raw)
        if mt.is_index(media_type) and not dg.is_digest(ref):
            raise Unsupported(
                "a docker-archive holds one platform per tag (docker load has no index); "
                "pass platform='linux/amd64' (or another), or use format='oci' to keep the index"
            )
        with self._lock:
            self._manifests[digest] = (raw, media_type)
            if not dg.is_digest(ref):
                name = self.image.with_tag(ref).familiar if self.image else ref
                self._tags[name] = digest
        return digest

    def tags(self) -> list[str]:
        return list(self._tags)

    def entries(self) -> list[Descriptor]:
        found: list[Descriptor] = []
        for name, digest in self._tags.items():
            raw, media_type = self._manifests[digest]
            annotations = {mt.REF_NAME: _tag_of(name)}
            found.append(Descriptor(media_type, digest, len(raw), annotations=annotations))
        return found

    # -- blobs ---------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        return digest in self._blobs

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        raise Unsupported("an archive being written cannot be read back until it is closed")

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        # A tar is one sequential stream: blobs are written one at a time.
        with self._lock:
            if digest in self._blobs:
                return
            start = self._file.tell()
            offset = self._tar.offset
            try:
                info = _tarinfo(_member_name(digest), size)
                header = info.tobuf(self._tar.format, self._tar.encoding, self._tar.errors)
                self._file.write(header)
                what = f"blob {digest[:19]}… for {self.path}"
                with opener() as chunks:
                    dg.write_verified(
                        dg.sized_chunks(chunks, size, what), self._file.write, digest, size, what
                    )
                blocks, remainder = divmod(size, tarfile.BLOCKSIZE)
                if remainder:
                    self._file.write(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))
                    blocks += 1
                # What TarFile.addfile does after a member, done here because the
                # data is pushed through the verifying writer rather than pulled.
                self._tar.offset = offset + len(header) + blocks * tarfile.BLOCKSIZE
                self._tar.members.append(info)  # type: ignore[attr-defined]
            except BaseException:
                # Cut the partial member back out: the archive never holds bad bytes.
                self._file.seek(start)
                self._file.truncate()
                self._tar.offset = offset
                raise
            self._blobs[digest] = size

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        return False

    def _add_bytes(self, name: str, data: bytes) -> None:
        self._tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))

    # -- finishing -------------------------------------------------------------------

    def close(self) -> None:
        """Write manifest.json and index.json, then move the tarball into place."""
        if self._closed:
            return
        try:
            entries: list[dict[str, Any]] = []
            index: list[dict[str, Any]] = []
            for digest, (raw, _) in self._manifests.items():
                if digest not in self._blobs:
                    self._add_bytes(_member_name(digest), raw)
                    self._blobs[digest] = len(raw)
            by_digest: dict[str, list[str]] = {}
            for name, digest in self._tags.items():
                by_digest.setdefault(digest, []).append(name)
            # Every manifest here is an image manifest (indexes are refused), so
            # each is an entry; one pulled by digest alone has no RepoTags.
            for digest, (raw, media_type) in self._manifests.items():
                names = by_digest.get(digest, [])
                entries.append({"RepoTags": names, **_member_paths(raw)})
                for name in names or [""]:
                    annotations = (
                        {"io.containerd.image.name": name, mt.REF_NAME: _tag_of(name)}
                        if name
                        else {}
                    )
                    index.append(
                        Descriptor(media_type, digest, len(raw), annotations=annotations).to_json()
                    )
            self._add_bytes("manifest.json", json.dumps(entries, separators=(",", ":")).encode())
            self._add_bytes(
                "index.json",
                json.dumps(
                    {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": index},
                    separators=(",", ":"),
                ).encode(),
            )
            self._add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            self._tar.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def abort(self) -> None:
        """Drop the unfinished archive (nothing appears at ``path``)."""
        self._closed = True
        with contextlib.suppress(Exception):
            self._tar.close()
        with contextlib.suppress(Exception):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()


def _member_paths(raw: bytes) -> dict[str, Any]:
    """manifest.json's Config and Layers for an image manifest: members of this archive only."""
    try:
        doc = json.loads(raw)
        config = doc["config"]["digest"]
        layers = [layer["digest"] for layer in doc.get("layers") or ()]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise RegistryKitError(
            "a manifest written to the docker-archive has no config or layer digests"
        ) from None
    return {"Config": _member_name(config), "Layers": [_member_name(d) for d in layers]}


def _tag_of(name: str) -> str:
    tail = name.rsplit("/", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else name


class ArchiveReader(Closing):
    """A docker-archive tarball read in place (members are streamed, not extracted)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise NotFound(f"{self.path} does not exist or is not a file")
        try:
            # Kept open for the reader's lifetime; close() closes it.
            tar = tarfile.open(self.path, "r:")  # noqa: SIM115
            self._compressed = False
        except tarfile.ReadError:
            # docker save | gzip: readable, but every blob read re-decompresses.
            try:
                tar = tarfile.open(self.path, "r:*")  # noqa: SIM115
            except tarfile.ReadError as exc:
                raise RegistryKitError(f"{self.path} is not a tar archive: {exc}") from exc
            self._compressed = True
        self._tar = tar
        self._lock = threading.Lock()
        self._members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
        self._synth: dict[str, tuple[bytes, str]] = {}  # digest -> synthesised manifest
        self._blob_paths: dict[str, str] = {}  # digest -> member name, for non-blobs/ names
        self._entries = self._read_index()

    def __repr__(self) -> str:
        return f"ArchiveReader({str(self.path)!r})"

    def close(self) -> None:
        self._tar.close()

    def describe(self, ref: str | None = None) -> str:
        return f"docker-archive:{self.path}" + (f":{ref}" if ref else "")

    def _read_member(self, name: str) -> bytes:
        member = self._members.get(name)
        if member is None:
            raise NotFound(f"{self.path} has no {name}; it is not a complete docker-archive")
        with self._lock:
            handle = self._tar.extractfile(member)
            assert handle is not None
            return handle.read()

    def _read_json(self, name: str) -> Any:
        try:
            return json.loads(self._read_member(name))
        except ValueError:
            raise RegistryKitError(f"{name} in {self.path} is not JSON") from None

    def _read_index(self) -> list[Descriptor]:
        if "index.json" in self._members:
            doc = self._read_json("index.json")
            manifests = doc.get("manifests") if isinstance(doc, dict) else None
            if not isinstance(manifests, list):
                raise RegistryKitError(f"index.json in {self.path} has no manifests list")
            try:
                entries = [Descriptor.from_json(m) for m in manifests]
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise RegistryKitError(
                    f"index.json in {self.path} lists an invalid descriptor ({exc})"
                ) from None
            if all(_member_name(e.digest) in self._members for e in entries):
                return entries
        if "manifest.json" not in self._members:
            raise RegistryKitError(
                f"{self.path} has neither manifest.json nor index.json: it is not a "
                "docker-archive (docker save) tarball"
            )
        return self._synthesise()

    def _synthesise(self) -> list[Descriptor]:
        """Docker v2s2 manifests for a classic archive, from manifest.json."""
        items = self._read_json("manifest.json")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise RegistryKitError(f"manifest.json in {self.path} is not a list of objects")
        entries: list[Descriptor] = []
        for item in items:
            config_name = self._inside(item.get("Config"))
            config = self._read_member(config_name)
            config_digest = dg.compute_digest(config)
            self._blob_paths[config_digest] = config_name
            config_type = mt.DOCKER_CONFIG
            layer_names = item.get("Layers") or []
            if not isinstance(layer_names, list):
                raise RegistryKitError(f"manifest.json in {self.path}: Layers is not a list")
            layers = [self._describe_layer(self._inside(name)) for name in layer_names]
            manifest_type = mt.DOCKER_MANIFEST
            if any(layer["mediaType"] == mt.OCI_LAYER_ZSTD for layer in layers):
                manifest_type, config_type = mt.OCI_MANIFEST, mt.OCI_CONFIG
            raw = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": manifest_type,
                    "config": {
                        "mediaType": config_type,
                        "size": len(config),
                        "digest": config_digest,
                    },
                    "layers": layers,
                },
                separators=(",", ":"),
            ).encode()
            digest = dg.compute_digest(raw)
            self._synth[digest] = (raw, manifest_type)
            repo_tags = item.get("RepoTags") or [None]
            for name in repo_tags if isinstance(repo_tags, list) else [None]:
                annotations = (
                    {mt.REF_NAME: _tag_of(name), "io.containerd.image.name": name}
                    if isinstance(name, str) and name
                    else {}
                )
                entries.append(Descriptor(manifest_type, digest, len(raw), annotations=annotations))
        return entries

    def _inside(self, name: object) -> str:
        """A member path named by manifest.json, refused when it would leave the archive."""
        if (
            not isinstance(name, str)
            or not name
            or name.startswith("/")
            or ".." in name.replace("\\", "/").split("/")
        ):
            raise RegistryKitError(
                f"manifest.json in {self.path} names {repr(name)[:80]}, which is not a "
                "path inside the archive"
            )
        return name.removeprefix("./")

    def _describe_layer(self, name: str) -> dict[str, Any]:
        hasher = hashlib.sha256()
        head = b""
        size = 0
        for chunk in self._stream_member(name):
            if not head:
                head = chunk[:4]
            hasher.update(chunk)
            size += len(chunk)
        digest = f"sha256:{hasher.hexdigest()}"
        self._blob_paths[digest] = name
        compression = mt.compression_of(head)
        media_type = {"gzip": mt.DOCKER_LAYER_GZIP, "zstd": mt.OCI_LAYER_ZSTD}.get(
            compression or "", DOCKER_LAYER_TAR
        )
        return {"mediaType": media_type, "size": size, "digest": digest}

    def _stream_member(self, name: str) -> Iterator[bytes]:
        member = self._members.get(name)
        if member is None:
            raise NotFound(f"{name} is not in {self.path}")
        if not self._compressed:
            # A separate handle per stream: blobs are read from several threads.
            with self.path.open("rb") as handle:
                handle.seek(member.offset_data)
                left = member.size
                while left > 0:
                    chunk = handle.read(min(dg.CHUNK_SIZE, left))
                    if not chunk:
                        raise RegistryKitError(f"{self.path} is truncated inside {name}")
                    left -= len(chunk)
                    yield chunk
            return
        with self._lock:
            stream = self._tar.extractfile(member)
            assert stream is not None
            while chunk := stream.read(dg.CHUNK_SIZE):
                yield chunk

    # -- Store ---------------------------------------------------------------------

    def entries(self) -> list[Descriptor]:
        return list(self._entries)

    def tags(self) -> list[str]:
        return [t for t in (entry_tag(e) for e in self._entries) if t]

    def manifest_head(self, ref: str) -> Descriptor | None:
        entry = find_entry(self._entries, ref)
        if entry is None and not dg.is_digest(ref):
            entry = next(
                (e for e in self._entries if e.annotations.get("io.containerd.image.name") == ref),
                None,
            )
        if entry is not None:
            return entry
        if dg.is_digest(ref) and (ref in self._synth or _member_name(ref) in self._members):
            raw, media_type, _ = self.manifest_get(ref)
            return Descriptor(media_type, ref, len(raw))
        return None

    def manifest_get(self, ref: str) -> tuple[bytes, str, str]:
        entry = find_entry(self._entries, ref) if not dg.is_digest(ref) else None
        if entry is None and not dg.is_digest(ref):
            entry = self.manifest_head(ref)
        digest = entry.digest if entry is not None else ref
        if not dg.is_digest(digest):
            raise not_found(self, ref)
        if digest in self._synth:
            raw, media_type = self._synth[digest]
            return raw, media_type, digest
        raw = self._read_member(_member_name(digest))
        dg.verify_digest(raw, digest, f"manifest {digest} in {self.path}")
        media_type = (
            entry.media_type if entry is not None and entry.media_type else mt.sniff_media_type(raw)
        )
        return raw, media_type, digest

    def manifest_put(self, ref: str, raw: bytes, media_type: str, *, top: bool = False) -> str:
        raise Unsupported(f"{self.path} is opened for reading; pull into a new archive instead")

    def blob_exists(self, digest: str) -> bool:
        return digest in self._blob_paths or _member_name(digest) in self._members

    def blob_open(self, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        return self._open(digest)

    @contextmanager
    def _open(self, digest: str) -> Iterator[Iterator[bytes]]:
        name = self._blob_paths.get(digest, _member_name(digest))
        what = f"blob {digest[:19]}… in {self.path}"
        yield dg.verified_chunks(self._stream_member(name), digest, what, "The archive is damaged.")

    def blob_put(self, digest: str, size: int, opener: BlobOpener) -> None:
        raise Unsupported(f"{self.path} is opened for reading")

    def blob_mount(self, digest: str, from_store: Store) -> bool:
        return False
