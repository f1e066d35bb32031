"""Plots: each returns a Figure with the bars, labels and titles it should (Agg)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from matplotlib.figure import Figure

from registrykit import plots
from registrykit.frames import listing
from registrykit.frames._dtypes import typed_frame

LONG_STEP = "/bin/sh -c apt-get update && apt-get install -y build-essential curl git && rm -rf x"


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_layer_sizes_bars_and_labels() -> None:
    df = typed_frame(
        [
            {
                "index": 0,
                "digest": "sha256:" + "a" * 64,
                "media_type": "x",
                "size": 3 * 1024**2,
                "percent": 75.0,
                "created_by": "ADD rootfs /",
            },
            {
                "index": 1,
                "digest": "sha256:" + "b" * 64,
                "media_type": "x",
                "size": 1024**2,
                "percent": 25.0,
                "created_by": LONG_STEP,
            },
            {
                "index": 2,
                "digest": "sha256:" + "c" * 64,
                "media_type": "x",
                "size": 512,
                "percent": 0.0,
                "created_by": "",
            },
        ],
        listing.LAYERS,
    )
    fig = plots.layer_sizes(df)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "0: ADD rootfs /"
    assert labels[1].startswith("1: apt-get update") and labels[1].endswith("…")
    assert len(labels[1]) <= plots.LABEL_WIDTH + 3
    assert labels[2] == "2: " + "c" * 12  # no created_by: the short digest
    assert _texts(ax) == ["3 MiB", "1 MiB", "512 B"]
    assert "Layer sizes" in ax.get_title() and "4 MiB" in ax.get_title()


def _history(sizes: list[int]) -> pd.DataFrame:
    rows = []
    for i, size in enumerate(sizes):
        rows.append(
            {
                "tag": f"1.{i}.0",
                "created": pd.Timestamp(f"2024-0{i + 1}-01", tz="UTC"),
                "digest": f"sha256:{i}",
                "size": size,
                "size_change": None if i == 0 else size - sizes[i - 1],
                "layers": 2,
                "layers_added": 1,
                "layers_removed": 1,
            }
        )
    return typed_frame(rows, listing.TAG_HISTORY)


def test_tag_history_marks_regressions() -> None:
    fig = plots.tag_history(_history([100, 80, 300, 290]))
    ax = fig.axes[0]
    assert len(ax.lines) == 1 and list(ax.lines[0].get_ydata()) == [100, 80, 300, 290]
    grown = ax.collections[0].get_offsets()
    assert len(grown) == 1 and grown[0][1] == 300
    assert _texts(ax) == ["1.0.0", "1.1.0", "1.2.0\n+220 B", "1.3.0"]
    assert ax.get_title() == "Tag history"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "size regression (> 10%)" in legend
    # Only the >10% jump is a regression: 300 -> 290 and 100 -> 80 are not.
    assert [t.get_color() for t in ax.texts].count("tab:red") == 1


def test_tag_history_groups_tags_on_one_digest_and_ignores_small_growth() -> None:
    df = _history([1000, 1050, 2000, 2000])
    df.loc[3, "digest"] = df.loc[2, "digest"]
    df.loc[2, "tag"], df.loc[3, "tag"] = "latest", "v1.2.0"
    df.loc[3, "size_change"] = 0
    ax = plots.tag_history(df).axes[0]
    assert list(ax.lines[0].get_ydata()) == [1000, 1050, 2000]
    assert [t.get_text() for t in ax.texts] == ["1.0.0", "1.1.0", "v1.2.0 (+1 tag)\n+950 B"]
    marked = ax.collections[0].get_offsets()
    assert [row[1] for row in marked] == [2000]  # +5% is growth, not a regression


def test_tag_history_without_dates_uses_tag_order() -> None:
    df = _history([10, 20])
    df["created"] = pd.NaT
    ax = plots.tag_history(df).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1.0.0", "1.1.0"]


def test_audit_plot() -> None:
    df = typed_frame(
        [
            {
                "repository": "r/a",
                "tags": 2,
                "images": 2,
                "logical_size": 10,
                "stored_size": 2048,
                "shared_size": 1024,
                "unique_size": 1024,
            },
            {
                "repository": "r/b",
                "tags": 1,
                "images": 1,
                "logical_size": 5,
                "stored_size": 4096,
                "shared_size": 1024,
                "unique_size": 3072,
            },
        ],
        listing.AUDIT,
    )
    df.attrs["total_stored_size"] = 5120
    ax = plots.audit(df).axes[0]
    assert len(ax.patches) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["r/a", "r/b"]
    assert "5 KiB" in ax.get_title()
    assert {"stored", "shared"} == {t.get_text() for t in ax.get_legend().get_texts()}
    assert "4 KiB" in _texts(ax)


FILES = [
    ("usr/lib/big.so", 5000, True),
    ("usr/lib/small.so", 100, True),
    ("usr/bin/tool", 700, True),
    ("opt/old.tar", 9000, False),  # deleted later: not in the final image
    ("etc/conf", 10, True),
]


def _files() -> pd.DataFrame:
    rows = [
        {"path": p, "size": s, "layer": 0, "layer_digest": "sha256:0", "kind": "file", "visible": v}
        for p, s, v in FILES
    ]
    return typed_frame(rows, listing.FILES)


def test_largest_files() -> None:
    ax = plots.largest_files(_files(), n=2).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["/usr/lib/big.so", "/usr/bin/tool"]
    assert _texts(ax) == ["4.88 KiB", "700 B"]
    assert ax.get_title() == "Largest files"


def test_largest_directories() -> None:
    ax = plots.largest_files(_files(), by="dir").axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["/usr", "/usr/lib", "/usr/bin", "/etc"]
    assert ax.get_title() == "Largest directories"
    with pytest.raises(ValueError, match="by must be"):
        plots.largest_files(_files(), by="layer")  # type: ignore[arg-type]
