"""Deterministic image building: stable digests, tar/gzip details, skopeo interop."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from pathlib import Path

import pytest
import zstandard
from support import oci as mt
from support.images import (
    GOLDEN_CONFIG,
    GOLDEN_DIGEST,
    GOLDEN_LAYERS,
    build_fixture_images,
    golden_image,
)

from registrykit.lab.build import (
    OPAQUE_WHITEOUT,
    Blob,
    FileSpec,
    HistoryStep,
    build_image,
    build_index,
    gzip_layer,
    tar_layer,
    uncompressed_layer,
    write_oci_layout,
    zstd_layer,
)
from registrykit.lab.deflate import gzip_bytes


def _members(tar: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        return tf.getmembers()


def test_digests_are_stable_and_hard_coded() -> None:
    a, b = golden_image(), golden_image()
    assert a == b
    assert a.digest == GOLDEN_DIGEST
    assert a.config.digest == GOLDEN_CONFIG
    assert [blob.digest for blob in a.layers] == GOLDEN_LAYERS
    assert a.digest == "sha256:" + hashlib.sha256(a.manifest.data).hexdigest()


def test_fixture_set_is_deterministic() -> None:
    first = {name: item.digest for name, item in build_fixture_images().items()}
    second = {name: item.digest for name, item in build_fixture_images().items()}
    assert first == second
    assert len(set(first.values())) == 4


def test_tar_entries_sorted_with_parents_and_fixed_metadata() -> None:
    tar = tar_layer({"/b/c/file": b"x", "a.txt": b"yy", "./d/": None, "e/": FileSpec(mode=0o700)})
    members = _members(tar)
    assert [m.name for m in members] == ["a.txt", "b", "b/c", "b/c/file", "d", "e"]
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
    modes = {m.name: (m.type, m.mode) for m in members}
    assert modes["a.txt"] == (tarfile.REGTYPE, 0o644)
    assert modes["b"] == (tarfile.DIRTYPE, 0o755)
    assert modes["e"] == (tarfile.DIRTYPE, 0o700)
    assert tar == tar_layer(
        {"a.txt": b"yy", "e/": FileSpec(mode=0o700), "b/c/file": b"x", "d/": None}
    )
    assert _members(tar_layer({"f": b""}, mtime=1_700_000_000))[0].mtime == 1_700_000_000


def test_whiteouts_opaque_dirs_and_symlinks() -> None:
    tar = tar_layer(
        {
            "gone": None,
            "dir/old": None,
            "opaque/" + OPAQUE_WHITEOUT: b"",
            "bin/sh": FileSpec(symlink="busybox"),
            "bin/run": FileSpec(b"#!", mode=0o755),
        }
    )
    members = {m.name: m for m in _members(tar)}
    assert ".wh.gone" in members
    assert "dir/.wh.old" in members and members["dir/.wh.old"].size == 0
    assert "opaque/.wh..wh..opq" in members
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["bin/run"].mode == 0o755


@pytest.mark.parametrize("path", ["", "/", "../etc/passwd", "a/../../b"])
def test_bad_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError, match="bad path"):
        tar_layer({path: b"x"})


def test_gzip_header_is_fixed_and_content_round_trips() -> None:
    tar = tar_layer({"f": b"data" * 1000})
    for level in (None, 1, 6, 9):
        layer = gzip_layer(tar, compresslevel=level)
        data = layer.blob.data
        assert data[:4] == b"\x1f\x8b\x08\x00"  # magic, deflate, no flags (no name)
        assert data[4:8] == b"\x00\x00\x00\x00"  # mtime 0
        assert data[9] == 0xFF  # OS "unknown" on every host
        assert gzip.decompress(data) == tar
        assert layer.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
        assert layer.uncompressed_size == len(tar)
        assert layer.blob.media_type == mt.OCI_LAYER_GZIP


@pytest.mark.parametrize("size", [0, 1, 2, 3, 257, 258, 259, 40_000, 70_000])
def test_portable_deflate_round_trips(size: int) -> None:
    rng = random.Random(size)
    # Mixed content: repeats at long and short distances plus noise.
    chunk = bytes(rng.randrange(256) for _ in range(min(size, 5000)))
    data = (chunk + bytes(300) + chunk[: size // 3])[:size]
    assert gzip.decompress(gzip_bytes(data, None)) == data


def test_portable_deflate_compresses_tar_padding() -> None:
    tar = tar_layer({"zeros": bytes(100_000)})
    assert len(gzip_bytes(tar, None)) < len(tar) // 50


def test_zstd_and_uncompressed_layers() -> None:
    tar = tar_layer({"z": b"zstd" * 100})
    z = zstd_layer(tar)
    assert z.blob.media_type == mt.OCI_LAYER_ZSTD
    assert zstandard.ZstdDecompressor().decompress(z.blob.data) == tar
    assert z == zstd_layer(tar)
    plain = uncompressed_layer(tar)
    assert plain.blob.digest == plain.diff_id
    assert plain.blob.media_type == mt.OCI_LAYER


def test_config_and_manifest_documents() -> None:
    image = golden_image()
    config = json.loads(image.config.data)
    assert list(config) == ["created", "architecture", "os", "config", "rootfs", "history"]
    assert config["config"] == {"Env": ["A=1"], "Cmd": ["/bin/tool"], "Labels": {"k": "v"}}
    assert config["rootfs"]["diff_ids"] == image.diff_ids
    assert [h.get("empty_layer", False) for h in config["history"]] == [False, True, False]
    manifest = json.loads(image.manifest.data)
    assert manifest["mediaType"] == mt.OCI_MANIFEST
    assert manifest["config"] == {
        "mediaType": mt.OCI_CONFIG,
        "digest": image.config.digest,
        "size": image.config.size,
    }
    assert [blob.digest for blob in image.blobs()] == [image.config.digest, *GOLDEN_LAYERS]
    assert image.platform == {"architecture": "amd64", "os": "linux"}
    # Compact serialisation: no whitespace after separators.
    assert b", " not in image.manifest.data and b": " not in image.manifest.data


def test_docker_format_relabels_layers_and_refuses_zstd() -> None:
    tar = tar_layer({"f": b"x"})
    image = build_image([gzip_layer(tar)], format="docker")
    manifest = json.loads(image.manifest.data)
    assert manifest["mediaType"] == mt.DOCKER_MANIFEST
    assert manifest["config"]["mediaType"] == mt.DOCKER_CONFIG
    assert manifest["layers"][0]["mediaType"] == mt.DOCKER_LAYER_GZIP
    oci = build_image([gzip_layer(tar)])
    assert image.layers[0].digest == oci.layers[0].digest
    with pytest.raises(ValueError, match="gzip layers"):
        build_image([zstd_layer(tar)], format="docker")
    with pytest.raises(ValueError, match="annotations"):
        build_image([gzip_layer(tar)], format="docker", annotations={"a": "b"})


def test_history_must_match_layers() -> None:
    layer = gzip_layer(tar_layer({"f": b"x"}))
    with pytest.raises(ValueError, match="non-empty steps"):
        build_image([layer], history=["one", "two"])
    ok = build_image([layer], history=[HistoryStep("LABEL a=b", empty_layer=True), "ADD f /"])
    assert len(json.loads(ok.config.data)["history"]) == 2


def test_index_and_manifest_list() -> None:
    layer = gzip_layer(tar_layer({"f": b"x"}))
    amd = build_image([layer])
    arm = build_image([layer], architecture="arm64", variant="v8")
    index = build_index([amd, arm], annotations={"org.opencontainers.image.version": "1"})
    doc = json.loads(index.manifest.data)
    assert doc["mediaType"] == mt.OCI_INDEX
    assert [m["platform"] for m in doc["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    assert [m["digest"] for m in doc["manifests"]] == [amd.digest, arm.digest]
    assert index.digest == Blob(mt.OCI_INDEX, index.manifest.data).digest
    assert len(list(index.blobs())) == 3  # shared layer counted once
    with pytest.raises(ValueError, match="Docker v2s2"):
        build_index([amd, arm], format="docker")
    docker = build_index(
        [build_image([layer], format="docker"), build_image([layer], format="docker")],
        format="docker",
    )
    assert json.loads(docker.manifest.data)["mediaType"] == mt.DOCKER_MANIFEST_LIST


def test_write_oci_layout(tmp_path: Path) -> None:
    image = golden_image()
    layer = gzip_layer(tar_layer({"f": b"x"}))
    index = build_index([build_image([layer]), build_image([layer], architecture="arm64")])
    root = write_oci_layout(tmp_path / "layout", [("golden", image), ("multi", index)])
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    top = json.loads((root / "index.json").read_text())
    names = {m["annotations"][mt.REF_NAME]: m["digest"] for m in top["manifests"]}
    assert names == {"golden": image.digest, "multi": index.digest}
    for blob_file in (root / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob_file.read_bytes()).hexdigest() == blob_file.name
    for child in index.images:
        assert (root / "blobs" / "sha256" / child.digest.split(":")[1]).exists()
    # Re-writing a tag replaces its entry and keeps the others.
    write_oci_layout(root, [("golden", index)])
    top = json.loads((root / "index.json").read_text())
    names = {m["annotations"][mt.REF_NAME]: m["digest"] for m in top["manifests"]}
    assert names == {"golden": index.digest, "multi": index.digest}
