"""files() and waste(): whiteouts, opaque dirs, overwrites, gzip/zstd/plain layers.

One image is pushed with skopeo: a gzip base layer, a zstd layer that
overwrites, deletes (a file and a whole directory) and makes a directory
opaque, and a plain tar layer that overwrites once more. Every byte figure
below follows from the file sizes written here.
"""

from __future__ import annotations

import os
import pathlib
import tracemalloc

import pandas as pd
import pytest

import registrykit as rk
from registrykit.frames import listing
from registrykit.lab.build import (
    FileSpec,
    build_image,
    gzip_layer,
    tar_layer,
    uncompressed_layer,
    write_oci_layout,
    zstd_layer,
)

BASE = {
    "etc/config": b"c" * 100,
    "bin/tool": b"t" * 2000,
    "opt/big/a": b"a" * 3000,
    "opt/big/sub/b": b"b" * 4000,
    "var/cache/x": b"x" * 500,
    "var/cache/y": b"y" * 600,
    "keep/file": b"k" * 10,
}


CHANGES = {
    "etc/config": b"C" * 150,
    "bin/tool": None,  # .wh.tool
    "opt/big": None,  # .wh.big removes the whole directory
    "var/cache/.wh..wh..opq": b"",
    "var/cache/z": b"z" * 70,
    "bin/link": FileSpec(symlink="tool"),
}


FINAL = {"etc/config": b"F" * 200}


WASTED = 100 + 150 + 2000 + 3000 + 4000 + 500 + 600


TOTAL = sum(len(v) for v in BASE.values()) + 150 + 70 + 200


@pytest.fixture(scope="module")
def image(registry: rk.LocalRegistry, skopeo, tmp_path_factory: pytest.TempPathFactory) -> str:
    built = build_image(
        [
            gzip_layer(tar_layer(BASE)),
            zstd_layer(tar_layer(CHANGES)),
            uncompressed_layer(tar_layer(FINAL)),
        ],
        history=["ADD base /", "RUN cleanup", "COPY config /etc/config"],
    )
    layout = write_oci_layout(tmp_path_factory.mktemp("fs-layout"), [("layers", built)])
    ref = f"{registry.host}/fs/layers:1"
    skopeo.copy(f"oci:{layout}:layers", f"docker://{ref}", "--preserve-digests")
    return ref


def test_files_lists_every_version_with_visibility(image: str, client: rk.Client) -> None:
    df = listing.files(image, client=client)
    assert list(df.columns) == ["path", "size", "layer", "layer_digest", "kind", "visible"]
    assert str(df["size"].dtype) == "int64"
    assert str(df["kind"].dtype) == "category"
    files = df[df["kind"] == "file"]
    visible = set(files[files["visible"]]["path"])
    assert visible == {"etc/config", "var/cache/z", "keep/file"}
    config = files[files["path"] == "etc/config"].sort_values("layer")
    assert config["size"].tolist() == [100, 150, 200]
    assert config["visible"].tolist() == [False, False, True]
    assert config["layer"].tolist() == [0, 1, 2]
    # The whole opt/big tree went with one whiteout; the opaque dir hid x and y.
    hidden = set(files[~files["visible"]]["path"])
    assert {"opt/big/a", "opt/big/sub/b", "var/cache/x", "var/cache/y", "bin/tool"} <= hidden
    whiteouts = df[df["kind"] == "whiteout"]
    assert set(whiteouts["path"]) == {"bin/tool", "opt/big"}
    opaque = df[df["kind"] == "opaque"]
    assert opaque["path"].tolist() == ["var/cache"]
    link = df[df["path"] == "bin/link"]
    assert link["kind"].tolist() == ["symlink"] and link["visible"].tolist() == [True]


def test_waste_counts_each_hidden_copy_once(image: str, client: rk.Client) -> None:
    df = listing.waste(image, client=client)
    assert df.attrs["wasted_bytes"] == WASTED == int(df["size"].sum())
    assert df.attrs["total_bytes"] == TOTAL
    assert df.attrs["efficiency"] == pytest.approx(1 - WASTED / TOTAL)
    # Three copies of etc/config: the two lower ones are waste, not all three
    # (dive would report 450 here: wagoodman/dive#684).
    assert int(df[df["path"] == "etc/config"]["size"].sum()) == 250
    assert df["size"].is_monotonic_decreasing
    assert not df["visible"].any()


def test_zstd_and_plain_layers_are_read(image: str, client: rk.Client) -> None:
    df = listing.files(image, client=client)
    assert set(df[df["layer"] == 1]["path"]) >= {"etc/config", "var/cache/z", "bin/link"}
    assert set(df[df["layer"] == 2]["path"]) == {"etc", "etc/config"}


def test_large_layer_streams_with_flat_memory(registry: rk.LocalRegistry) -> None:
    SIZE = 24 * 1024 * 1024
    payload = os.urandom(SIZE)
    layer = gzip_layer(tar_layer({"big/blob.bin": payload}), compresslevel=1)
    del payload
    built = build_image([layer])
    with rk.Client(cache_dir=None) as c:
        reg = c.registry(registry.host)
        for blob in built.blobs():
            reg.upload_blob("fs/big", blob.digest, blob.size, blob.data)
        reg.put_manifest("fs/big", "1", built.manifest.data, built.media_type)
        del built, layer
        tracemalloc.start()
        try:
            df = listing.files(f"{registry.host}/fs/big:1", client=c)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert df[df["kind"] == "file"]["size"].tolist() == [SIZE]
    # About 10 MiB of 1 MiB buffers whatever the layer size; well under the layer.
    assert peak < 16 * 1024 * 1024, f"peak {peak} bytes while listing a {SIZE} byte layer"


@pytest.mark.parametrize("fmt", ["oci", "docker-archive"])
def test_files_and_waste_read_a_pulled_copy(
    fmt: str, image: str, client: rk.Client, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / ("layout" if fmt == "oci" else "image.tar")
    rk.pull(image, path, format=fmt, client=client)  # type: ignore[arg-type]
    local = f"{fmt}:{path}:1"
    pd.testing.assert_frame_equal(
        listing.files(local, client=client), listing.files(image, client=client)
    )
    assert listing.waste(local, client=client).attrs["wasted_bytes"] == WASTED


def test_files_progress_counts_every_compressed_byte(
    image: str, client: rk.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.internals import filesystem, progress

    seen: list[tuple[int, bool | None]] = []
    advanced: list[int] = []

    def recording_bar(total: int, desc: str, **kw: object) -> progress.Advance:
        seen.append((total, kw["progress"]))  # type: ignore[arg-type]
        return advanced.append

    monkeypatch.setattr(filesystem, "bar", recording_bar)
    listing.files(image, client=client, progress=True)
    layers = listing.layers(image, client=client)
    assert seen == [(int(layers["size"].sum()), True)]
    assert sum(advanced) == seen[0][0]
