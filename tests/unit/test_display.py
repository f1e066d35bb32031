"""What a person sees: charts that render, binary ticks, readable labels, short errors."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from support.internals import human_size, render_table_html, render_table_text

import registrykit as rk
from registrykit import plots
from registrykit.frames import listing
from registrykit.frames._dtypes import typed_frame
from registrykit.lab.samples import PushedSample, PushedSamples

MiB = 1024**2
PNG = b"\x89PNG\r\n\x1a\n"
WEBAPP_TAGS = ["2024-05-13", "3f2a9c1", "latest", "stable", "v1.4.0"]


def _history_per_tag() -> pd.DataFrame:
    """The frame as it is today: one row per tag, siblings on one digest."""
    rows = [
        ("v1.2.0", "2024-03-11", "sha256:2", int(1.51 * MiB), None),
        ("v1.3.0", "2024-04-08", "sha256:3", int(7.3 * MiB), int(5.78 * MiB)),
    ]
    rows += [(t, "2024-05-13", "sha256:4", int(7.34 * MiB), 40 * 1024) for t in WEBAPP_TAGS]
    return typed_frame(
        [
            {
                "tag": tag,
                "created": pd.Timestamp(day, tz="UTC"),
                "digest": digest,
                "size": size,
                "size_change": change if tag != "3f2a9c1" else 0,
                "layers": 3,
                "layers_added": 1,
                "layers_removed": 0,
            }
            for tag, day, digest, size, change in rows
        ],
        listing.TAG_HISTORY,
    )


def _history_per_image() -> pd.DataFrame:
    """The frame another change brings: one row per image with its ``tags``."""
    per_tag = _history_per_tag()
    first = per_tag.drop_duplicates("digest").drop(columns="tag").reset_index(drop=True)
    first["tags"] = [["v1.2.0"], ["v1.3.0"], ["v1.4.0", *WEBAPP_TAGS[:4]]]
    return first


def _files() -> pd.DataFrame:
    rows = [
        ("data/model.bin", 2 * MiB, 1, False),
        ("data/model.bin", 10, 2, True),
        ("lib/libc.so", 900 * 1024, 0, True),
    ]
    return typed_frame(
        [
            {"path": p, "size": s, "layer": n, "layer_digest": "sha256:0", "kind": "file"}
            | {"visible": v}
            for p, s, n, v in rows
        ],
        listing.FILES,
    )


def _audit() -> pd.DataFrame:
    rows = [("127.0.0.1:49153/samples/webapp", 9 * MiB), ("127.0.0.1:49153/samples/hello", 1024)]
    return typed_frame(
        [
            {"repository": r, "tags": 1, "images": 1}
            | {"logical_size": s, "stored_size": s, "shared_size": 0, "unique_size": s}
            for r, s in rows
        ],
        listing.AUDIT,
    )


def _layers() -> pd.DataFrame:
    return typed_frame(
        [
            {
                "index": 0,
                "digest": "sha256:" + "a" * 64,
                "media_type": "x",
                "size": 3 * MiB,
                "percent": 100.0,
                "created_by": "ADD rootfs /",
            }
        ],
        listing.LAYERS,
    )


ALL_PLOTS = {
    "layer_sizes": lambda: plots.layer_sizes(_layers()),
    "tag_history": lambda: plots.tag_history(_history_per_tag()),
    "audit": lambda: plots.audit(_audit()),
    "largest_files": lambda: plots.largest_files(_files()),
    "waste": lambda: plots.waste(_files()),
}


@pytest.mark.parametrize("name", sorted(ALL_PLOTS))
def test_every_plot_renders_itself_as_png(name: str) -> None:
    figure = ALL_PLOTS[name]()
    assert isinstance(figure, plots.Chart)
    assert figure._repr_png_().startswith(PNG)


def _tick_labels(axis) -> list[str]:
    locs = [v for v in axis.get_major_locator()() if v >= 0]
    formatter = axis.get_major_formatter()
    return [formatter(v, i) for i, v in enumerate(locs)]


def test_size_axes_tick_on_binary_steps() -> None:
    locator = plots.BinaryLocator()
    ticks = locator.tick_values(0, 7.5 * MiB)
    assert ticks == [0, 2 * MiB, 4 * MiB, 6 * MiB]
    assert locator.tick_values(0, 2_000_000)[:3] == [0, 512 * 1024, MiB]
    ax = plots.tag_history(_history_per_tag()).axes[0]
    labels = _tick_labels(ax.yaxis)
    assert labels[:3] == ["0 B", "2 MiB", "4 MiB"]
    assert not [label for label in labels if "977" in label or "1.91" in label]


def test_human_size_is_binary_only() -> None:
    assert human_size(7691696) == "7.34 MiB"
    assert human_size(1000 * 1024) == "1000 KiB"
    with pytest.raises(TypeError):
        human_size(1, si=True)  # type: ignore[call-arg]


@pytest.mark.parametrize("frame", [_history_per_tag, _history_per_image])
def test_tag_history_labels_start_at_zero_and_stay_inside(frame) -> None:
    figure = plots.tag_history(frame())
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["v1.2.0", "v1.3.0\n+5.78 MiB", "v1.4.0 (+4 tags)"]
    assert ax.get_ylim()[0] == 0
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    frame_box = ax.get_window_extent(renderer)
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert frame_box.x0 <= box.x0 and box.x1 <= frame_box.x1, text.get_text()
        assert box.y1 <= frame_box.y1, text.get_text()
    dates = [t for t in ax.get_xticklabels() if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in dates]
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0, "date ticks touch"


def test_titles_name_the_repository_not_the_port() -> None:
    assert plots._title_name("127.0.0.1:49153/samples/webapp") == "samples/webapp"
    assert plots._title_name("127.0.0.1:49153/samples/webapp:v1.3.0") == "samples/webapp:v1.3.0"
    labels = [t.get_text() for t in plots.audit(_audit()).axes[0].get_yticklabels()]
    assert labels == ["samples/hello", "samples/webapp"]


def test_waste_plot_shows_the_hidden_copies() -> None:
    ax = plots.waste(_files()).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["/data/model.bin"]
    assert [t.get_text() for t in ax.texts] == ["2 MiB"]
    assert "Wasted space: 2 MiB" in ax.get_title() and "%" in ax.get_title()


def test_registrykit_error_renders_as_its_message_in_ipython() -> None:
    error = rk.NotFound("repository x not found; list them with rk.catalog(host)")
    lines = error._render_traceback_()
    assert lines[0] == "NotFound: repository x not found; list them with rk.catalog(host)"
    assert len(lines) == 2 and "traceback.print_last()" in lines[1]


def test_tables_render_one_line_per_row() -> None:
    rows = [["samples/hello", "1.0.0, latest", "1.28 KiB"]]
    text = render_table_text("1 sample", ["repository", "tags", "size"], rows)
    assert text.splitlines() == [
        "1 sample",
        "  repository     tags           size",
        "  samples/hello  1.0.0, latest  1.28 KiB",
    ]
    page = render_table_html("t", ["size"], [["1.28 KiB"], ["x" * 80]])
    assert "<table>" in page and "white-space:nowrap" in page and "text-align:left" in page
    assert "overflow-wrap:anywhere" in page  # long cells may wrap, short ones never


def test_pushed_samples_show_one_line_per_image() -> None:
    digest = "sha256:" + "9" * 64
    pushed = PushedSamples(
        [
            PushedSample("127.0.0.1:5000/samples/hello", digest, ("1.0.0", "latest"), 1311),
            PushedSample("127.0.0.1:5000/samples/webapp", digest, ("sha256-" + "8" * 64,), 232),
        ]
    )
    lines = repr(pushed).splitlines()
    assert lines[0] == "2 samples pushed to 127.0.0.1:5000"
    assert len(lines) == 4 and all(len(line) < 100 for line in lines)
    assert "sha256:999999999999…" in lines[2] and "1.28 KiB" in lines[2]
    assert "<table>" in pushed._repr_html_()
    assert list(pushed) == pushed[:]  # still the list it always was
