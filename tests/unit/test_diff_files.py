"""diff_files(): the merged filesystems of two images compared path by path.

Images are built in memory and written as OCI layouts (no registry, no
process). Every byte figure below follows from the file sizes written here.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import pandas as pd
import pytest

import registrykit as rk
from registrykit import plots  # loads matplotlib's font cache before HOME is isolated
from registrykit.lab import samples
from registrykit.lab.build import (
    FileSpec,
    Layer,
    build_image,
    gzip_layer,
    tar_layer,
    write_oci_layout,
)

BASE = {
    "etc/config": b"c" * 100,
    "bin/tool": b"t" * 2000,
    "opt/big/a": b"a" * 3000,
    "opt/big/sub/b": b"b" * 4000,
    "var/cache/x": b"x" * 500,
    "keep/file": b"k" * 10,
}
# Layer 1 of b: rewrites, deletes a file and a directory, hides a directory's contents.
CHANGES = {
    "etc/config": b"C" * 150,
    "bin/tool": None,
    "opt/big": None,
    "var/cache/.wh..wh..opq": b"",
    "var/cache/z": b"z" * 70,
    "bin/link": FileSpec(symlink="tool"),
}
# Layer 2 of b: a file where a's directory was.
REPLACE = {"keep": b"K" * 5}


def _layer(files: dict) -> Layer:
    return gzip_layer(tar_layer(files))


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = _layer(BASE)
    a = build_image([base], history=["ADD rootfs /"])
    b = build_image(
        [base, _layer(CHANGES), _layer(REPLACE)],
        history=["ADD rootfs /", "RUN cleanup", "COPY keep /keep"],
    )
    webapp = {s.tags[0]: s.item for s in samples.webapp()}
    path = tmp_path_factory.mktemp("diff") / "layout"
    entries = [("a", a), ("b", b), ("v1.2.0", webapp["v1.2.0"]), ("v1.3.0", webapp["v1.3.0"])]
    write_oci_layout(path, entries)
    return path


def _rows(df: pd.DataFrame) -> dict[str, dict]:
    return {r["path"]: r for r in df.to_dict("records")}


def test_webapp_regression_is_explained_by_path(layout: Path) -> None:
    df = rk.diff_files(f"oci:{layout}:v1.2.0", f"oci:{layout}:v1.3.0", progress=False)
    first = df.iloc[0]
    assert first["path"] == "webapp/debug/symbols.bin"
    assert first["status"] == "added"
    assert first["size_change"] == 6_000_000 and pd.isna(first["size_a"])
    assert first["layer"] == 2
    assert first["created_by"] == "COPY debug-assets /webapp/debug"
    rows = _rows(df)
    assert rows["webapp/app.bin"]["status"] == "changed"
    assert rows["webapp/app.bin"]["size_change"] == 600_000 - 540_000
    assert rows["webapp/app.bin"]["created_by"] == "COPY dist /webapp"
    assert rows["webapp/debug"]["kind"] == "dir"
    # The shared base layers hold nothing that changed.
    assert not any(p.startswith(("lib/", "bin/", "etc/")) for p in rows)
    assert df.attrs["size_change"] == 6_000_000 + 60_000
    assert df.attrs["removed_bytes"] == 0
    assert df.attrs["image_b"] == f"oci:{layout}:v1.3.0"


def test_whiteouts_opaque_dirs_and_replaced_dirs_remove_with_their_layer(layout: Path) -> None:
    df = rk.diff_files(f"oci:{layout}:a", f"oci:{layout}:b", progress=False)
    rows = _rows(df)
    removed = {p for p, r in rows.items() if r["status"] == "removed"}
    assert removed == {
        "bin/tool",
        "opt/big",
        "opt/big/a",
        "opt/big/sub",
        "opt/big/sub/b",
        "var/cache/x",
        "keep/file",
    }
    for path in ("bin/tool", "opt/big/sub/b", "var/cache/x"):
        assert rows[path]["layer"] == 1 and rows[path]["created_by"] == "RUN cleanup"
    assert rows["keep/file"]["layer"] == 2  # the file written over its directory
    assert rows["opt/big/sub/b"]["size_change"] == -4000 and pd.isna(
        rows["opt/big/sub/b"]["size_b"]
    )
    assert rows["etc/config"]["status"] == "changed"
    assert (rows["etc/config"]["size_a"], rows["etc/config"]["size_b"]) == (100, 150)
    assert rows["keep"]["status"] == "changed" and rows["keep"]["kind"] == "file"
    assert rows["bin/link"]["status"] == "added" and rows["bin/link"]["kind"] == "symlink"
    assert rows["var/cache/z"]["status"] == "added"
    # The bin directory entry is repeated by layer 1 but did not change.
    assert "bin" not in rows and "etc" not in rows
    changes = df["size_change"].abs().tolist()
    assert changes == sorted(changes, reverse=True)  # largest change first
    assert df.attrs["removed_bytes"] == 2000 + 3000 + 4000 + 500 + 10
    assert df.attrs["size_change"] == int(df["size_change"].sum())


def test_same_image_has_no_differences_and_typed_columns(layout: Path) -> None:
    df = rk.diff_files(f"oci:{layout}:a", f"oci:{layout}:a", progress=False)
    assert df.empty
    assert list(df.columns) == [
        "path",
        "status",
        "kind",
        "size_a",
        "size_b",
        "size_change",
        "layer",
        "created_by",
        "layer_digest",
    ]
    assert str(df["size_change"].dtype) == "int64" and str(df["size_a"].dtype) == "Int64"
    assert "net 0 B" in plots.diff_files(df).axes[0].get_title()  # an empty diff still plots


def test_readable_shows_binary_sizes(layout: Path) -> None:
    df = rk.diff_files(f"oci:{layout}:v1.2.0", f"oci:{layout}:v1.3.0", progress=False)
    shown = rk.frames.readable(df)
    assert shown.loc[0, "size_b"] == "5.72 MiB" and shown.loc[0, "size_change"] == "5.72 MiB"
    assert shown.loc[0, "size_a"] == ""


def test_plot_bars_the_largest_changes_and_renders_png(layout: Path) -> None:
    df = rk.diff_files(f"oci:{layout}:a", f"oci:{layout}:b", progress=False)
    fig = plots.diff_files(df, n=3)
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "removed /opt/big/sub/b"
    assert "net -" in ax.get_title()
    assert fig._repr_png_().startswith(b"\x89PNG")
    # Zero-byte changes (directories, same-size rewrites) get no bar.
    assert len(plots.diff_files(df, n=100).axes[0].patches) == int((df["size_change"] != 0).sum())
