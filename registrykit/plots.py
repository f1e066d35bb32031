"""Matplotlib figures from the registrykit frames.

Each function takes a frame (or the image or repository to build it from)
and returns a ``Chart``, a ``matplotlib.figure.Figure`` that shows itself as
a PNG in Jupyter. Figures are created without pyplot, so nothing is shown or
kept in pyplot's global state; ``fig.savefig`` writes one. Size axes tick on
binary steps and label in binary units (KiB, MiB, GiB).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator

from ._client import Client
from ._model.errors import InvalidReference
from ._model.reference import Reference, parse_reference
from ._model.units import human_size
from ._ops.analysis import classify_tag
from .frames import listing
from .lab.local import LocalRegistry

__all__ = [
    "Chart",
    "audit",
    "diff_files",
    "largest_files",
    "layer_sizes",
    "tag_history",
    "waste",
]

LABEL_WIDTH = 48
_REGRESSION = "tab:red"
_NORMAL = "tab:blue"
_WASTE = "tab:red"
# diff_files bars: growth in the regression colour, shrinking in green.
_CHANGE_COLORS = {"added": _REGRESSION, "changed": "tab:orange", "removed": "tab:green"}
# Room above the highest point or bar for its label, as a fraction of the data range.
_HEADROOM = 1.3


class Chart(Figure):
    """A ``Figure`` that Jupyter shows as a PNG when it is a cell's last expression.

    Figures made without pyplot never get IPython's inline formatter, so the
    chart renders itself (``_repr_png_``); ``savefig`` works as on any figure.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def truncate(text: str, width: int = LABEL_WIDTH) -> str:
    """One line of at most ``width`` characters, shell noise trimmed."""
    line = " ".join(str(text).split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c ", "|"):
        if line.startswith(prefix):
            line = line[len(prefix) :].lstrip()
    return line if len(line) <= width else line[: width - 1] + "…"


class BinaryLocator(Locator):
    """Ticks on binary steps (512 KiB, 1 MiB, 2 MiB, 4 MiB …), never 977 KiB."""

    def __init__(self, max_ticks: int = 7) -> None:
        self.max_ticks = max_ticks

    def __call__(self) -> Sequence[float]:
        if self.axis is None:
            return []
        low, high = self.axis.get_view_interval()
        return self.tick_values(low, high)

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        low, high = sorted((max(0.0, vmin), max(0.0, vmax)))
        span = high - low
        if span <= 0:
            return [low]
        step = 2.0 ** max(0, math.ceil(math.log2(span / self.max_ticks)))
        first = math.ceil(low / step)
        return [i * step for i in range(first, int(high // step) + 1)]


def _size_axis(axis: Any) -> None:
    axis.set_major_locator(BinaryLocator())
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: human_size(v) if v >= 0 else ""))


def _title_name(value: object) -> str:
    """``samples/webapp:v1.3.0`` for a reference: the repository, not the (random) port."""
    try:
        ref = (
            value if isinstance(value, Reference) else parse_reference(str(value), default_tag=None)
        )
    except (InvalidReference, ValueError):
        return str(value)
    return ref.repository + (f":{ref.tag}" if ref.tag else "")


def _frame(
    value: pd.DataFrame | str | Reference | LocalRegistry | Sequence[str | Reference],
    build: Callable[..., pd.DataFrame],
    **kwargs: Any,
) -> tuple[pd.DataFrame, str | None]:
    if isinstance(value, pd.DataFrame):
        return value, None
    if isinstance(value, LocalRegistry):
        return build(value.host, **kwargs), None
    name = _title_name(value) if isinstance(value, str | Reference) else None
    return build(value, **kwargs), name


def _bar_labels(ax: Any, bars: Any, sizes: list[int]) -> None:
    ax.bar_label(bars, labels=[human_size(s) for s in sizes], padding=3, fontsize=8)


def _figure(rows: int) -> tuple[Chart, Any]:
    fig = Chart(figsize=(9, max(2.5, 0.35 * rows + 1.2)), layout="constrained")
    return fig, fig.subplots()


def layer_sizes(
    df_or_image: pd.DataFrame | str | Reference,
    *,
    platform: listing.PlatformArg = None,
    client: Client | None = None,
) -> Chart:
    """Horizontal bars of layer sizes, labelled with each layer's ``created_by``.

    Takes a ``layers()`` frame or an image reference. The bottom bar is the
    base layer, as in a Dockerfile read top to bottom.
    """
    df, name = _frame(df_or_image, listing.layers, platform=platform, client=client)
    fig, ax = _figure(len(df))
    labels = [
        f"{int(i)}: {truncate(c) if c else str(d)[7:19]}"
        for i, c, d in zip(df.index, df["created_by"].fillna(""), df["digest"], strict=True)
    ]
    sizes = [int(s) for s in df["size"]]
    bars = ax.barh(range(len(df)), sizes, color=_NORMAL)
    ax.set_yticks(range(len(df)), labels=labels, fontsize=8)
    ax.invert_yaxis()
    _bar_labels(ax, bars, sizes)
    _size_axis(ax.xaxis)
    ax.set_xlabel("compressed size")
    ax.set_title(f"Layer sizes{f' of {name}' if name else ''} (total {human_size(sum(sizes))})")
    ax.margins(x=0.15)
    return fig


def tag_history(
    df_or_repository: pd.DataFrame | str | Reference,
    *,
    platform: listing.PlatformArg = None,
    client: Client | None = None,
) -> Chart:
    """Image size per release over time; size regressions are red triangles.

    Takes a ``tag_history()`` frame (one row per image with a ``tags``
    column, or one row per tag) or a repository. An image with several tags
    is one point, labelled by its best tag (``v1.4.0 (+4 tags)``). A
    regression is a release more than 10% bigger than the one before it,
    labelled with the growth. Tags without a creation time are placed in
    order after the dated ones. The size axis starts at 0.
    """
    df, name = _frame(df_or_repository, listing.tag_history, platform=platform, client=client)
    points = _releases(df)
    fig = Chart(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    dated = len(points) > 0 and all(p.created is not None for p in points)
    x: list[Any] = [p.created for p in points] if dated else list(range(len(points)))
    sizes = [p.size for p in points]
    ax.plot(x, sizes, color=_NORMAL, marker="o", markersize=4, label="image size")
    worse = [p.regression for p in points]
    if any(worse):
        ax.scatter(
            [v for v, w in zip(x, worse, strict=True) if w],
            [s for s, w in zip(sizes, worse, strict=True) if w],
            color=_REGRESSION,
            marker="^",
            s=60,
            zorder=3,
            label=f"size regression (> {REGRESSION_GROWTH:.0%})",
        )
    _annotate_releases(ax, x, points)
    if dated:
        # Few ticks, each a whole date ("Mar 15", not a bare "15"), so none touch.
        locator = AutoDateLocator(minticks=3, maxticks=6)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        formats = ["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"]
        ax.xaxis.set_major_formatter(
            ConciseDateFormatter(locator, formats=formats)  # type: ignore[no-untyped-call]
        )
    else:
        ax.set_xticks(x, labels=[p.label for p in points], rotation=30, ha="right")
    # Room at both ends and on top, so the end labels stay inside the frame.
    ax.margins(x=0.08)
    ax.set_ylim(0, max(sizes, default=1) * _HEADROOM or 1)
    _size_axis(ax.yaxis)
    ax.set_ylabel("image size")
    ax.set_xlabel("date" if dated else "tag")
    ax.set_title(f"Tag history{f' of {name}' if name else ''}")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def _annotate_releases(ax: Any, x: list[Any], points: list[_Release]) -> None:
    last = len(points) - 1
    for i, (xv, point) in enumerate(zip(x, points, strict=True)):
        label = point.label + (f"\n+{human_size(point.change)}" if point.regression else "")
        # The end labels lean inwards so they never cross the frame.
        align = "left" if i == 0 and last else "right" if i == last and last else "center"
        ax.annotate(
            label,
            (xv, point.size),
            textcoords="offset points",
            xytext=(-4 if align == "right" else 4 if align == "left" else 0, 8),
            ha=align,
            fontsize=7,
            color=_REGRESSION if point.regression else "black",
            annotation_clip=False,
        )


REGRESSION_GROWTH = 0.10


@dataclass
class _Release:
    tags: list[str]
    created: Any
    size: int
    change: int

    @property
    def label(self) -> str:
        first = best_tag(self.tags)
        others = len(self.tags) - 1
        return f"{first} (+{others} tag{'s' if others > 1 else ''})" if others else first

    @property
    def regression(self) -> bool:
        before = self.size - self.change
        return self.change > 0 and before > 0 and self.change > REGRESSION_GROWTH * before


def best_tag(tags: Sequence[str]) -> str:
    """The tag a person knows an image by: its first version tag, else its first tag."""
    versions = [t for t in tags if classify_tag(t) == "semver"]
    return (versions or list(tags))[0]


def tag_names(value: object) -> list[str]:
    """A ``tags`` cell as a list: a list of tags, or comma-separated text."""
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return [str(t) for t in value]  # type: ignore[attr-defined]


def _row_tags(row: Any) -> list[str]:
    """The tags of a row: its ``tags`` (one row per image), else its ``tag``."""
    tags = getattr(row, "tags", None)
    return [str(row.tag)] if tags is None else tag_names(tags)


def _releases(df: pd.DataFrame) -> list[_Release]:
    """One release per image: consecutive rows on one digest are merged."""
    out: list[_Release] = []
    last_digest = None
    for row in df.itertuples(index=False):
        # The release date (push time, else build time) where the frame has one.
        when = getattr(row, "date", row.created)
        created = None if pd.isna(when) else when
        if out and row.digest == last_digest:
            out[-1].tags.extend(_row_tags(row))
            continue
        change = 0 if pd.isna(row.size_change) else int(row.size_change)
        out.append(_Release(_row_tags(row), created, int(row.size), change))
        last_digest = row.digest
    return out


def audit(
    df_or_target: pd.DataFrame | str | LocalRegistry | Sequence[str | Reference],
    *,
    client: Client | None = None,
) -> Chart:
    """Stored and shared bytes per repository, largest first.

    Takes an ``audit()`` frame, or what ``audit()`` takes: a registry host (or
    a ``LocalRegistry``) or repositories. Bars name the repository without its
    registry host.
    """
    df, _ = _frame(df_or_target, listing.audit, client=client)
    ordered = df.sort_values("stored_size", ascending=True)
    fig, ax = _figure(2 * len(ordered))
    y = list(range(len(ordered)))
    height = 0.4
    stored = [int(s) for s in ordered["stored_size"]]
    shared = [int(s) for s in ordered["shared_size"]]
    bars_stored = ax.barh(
        [v + height / 2 for v in y], stored, height, color=_NORMAL, label="stored"
    )
    bars_shared = ax.barh(
        [v - height / 2 for v in y], shared, height, color="tab:orange", label="shared"
    )
    _bar_labels(ax, bars_stored, stored)
    _bar_labels(ax, bars_shared, shared)
    names = [truncate(_title_name(r), 40) for r in ordered["repository"]]
    ax.set_yticks(y, labels=names, fontsize=8)
    ax.set_xlim(0, max(stored + shared, default=1) * _HEADROOM or 1)
    _size_axis(ax.xaxis)
    total = df.attrs.get("total_stored_size")
    suffix = f" (registry total {human_size(total)}, each blob once)" if total is not None else ""
    ax.set_title(f"Storage per repository{suffix}")
    ax.set_xlabel("size")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def _directory_sizes(paths: pd.Series, sizes: pd.Series) -> pd.Series:
    totals: dict[str, int] = {}
    for path, size in zip(paths, sizes, strict=True):
        parts = str(path).split("/")[:-1]
        for i in range(1, len(parts) + 1):
            key = "/".join(parts[:i])
            totals[key] = totals.get(key, 0) + int(size)
    return pd.Series(totals, dtype="int64")


def _sizes_by(df: pd.DataFrame, by: str) -> pd.Series:
    if by == "file":
        return df.groupby("path", observed=True)["size"].sum().astype("int64")
    return _directory_sizes(df["path"], df["size"])


def largest_files(
    df_or_image: pd.DataFrame | str | Reference,
    n: int = 20,
    by: Literal["file", "dir"] = "file",
    *,
    platform: listing.PlatformArg = None,
    client: Client | None = None,
) -> Chart:
    """The ``n`` largest files, or directories (sizes of everything beneath), in the image.

    Takes a ``files()`` frame or an image; only versions visible in the
    final filesystem count (``waste()`` plots the hidden ones).
    """
    if by not in ("file", "dir"):
        raise ValueError(f"by must be 'file' or 'dir', not {by!r}")
    df, name = _frame(df_or_image, listing.files, platform=platform, client=client)
    visible = df[(df["visible"]) & (df["kind"] == "file")]
    top = _sizes_by(visible, by).sort_values(ascending=False).head(n)
    what = "files" if by == "file" else "directories"
    return _ranked_bars(top, _NORMAL, f"Largest {what}{f' in {name}' if name else ''}")


def waste(
    df_or_image: pd.DataFrame | str | Reference,
    n: int = 20,
    *,
    platform: listing.PlatformArg = None,
    client: Client | None = None,
) -> Chart:
    """The ``n`` paths wasting most: file copies a later layer overwrites or deletes.

    Takes a ``waste()`` or ``files()`` frame, or an image. Those bytes are
    downloaded by every pull yet invisible in the container. The title gives
    the total and its share of all file bytes (``efficiency`` is the rest).
    """
    df, name = _frame(df_or_image, listing.waste, platform=platform, client=client)
    hidden = df[(~df["visible"]) & (df["kind"] == "file")]
    top = _sizes_by(hidden, "file").sort_values(ascending=False).head(n)
    wasted = int(hidden["size"].sum())
    total = df.attrs.get("total_bytes") or int(df.loc[df["kind"] == "file", "size"].sum())
    share = f" ({wasted / total:.0%} of the file bytes)" if total else ""
    title = f"Wasted space{f' in {name}' if name else ''}: {human_size(wasted)}{share}"
    return _ranked_bars(top, _WASTE, title, "wasted (hidden copies, uncompressed)")


def diff_files(df: pd.DataFrame, n: int = 20) -> Chart:
    """The ``n`` largest path changes of a ``diff_files()`` frame, largest on top.

    Bar length is the size of the change; colour and label say whether the
    path was added (red), changed (orange) or removed (green), so what made
    an image grow stands out. The title gives the net change.
    """
    sized = df[df["size_change"] != 0]  # a path rewritten at the same size has no bar
    top = sized.reindex(
        sized["size_change"].abs().sort_values(ascending=False, kind="stable").index
    )
    top = top.head(n)
    fig, ax = _figure(len(top))
    rows = list(range(len(top)))
    changes = [int(s) for s in top["size_change"]]
    colors = [_CHANGE_COLORS.get(str(s), _NORMAL) for s in top["status"]]
    bars = ax.barh(rows, [abs(c) for c in changes], color=colors)
    labels = [f"{s} /{p}" for s, p in zip(top["status"], top["path"], strict=True)]
    ax.set_yticks(rows, labels=[truncate(t, 60) for t in labels], fontsize=8)
    ax.invert_yaxis()
    sizes = [f"{'+' if c > 0 else ''}{human_size(c)}" for c in changes]
    ax.bar_label(bars, labels=sizes, padding=3, fontsize=8)
    ax.set_xlim(0, max((abs(c) for c in changes), default=1) * _HEADROOM or 1)
    _size_axis(ax.xaxis)
    a, b = (truncate(_title_name(df.attrs.get(k, "")), 40) for k in ("image_a", "image_b"))
    names = f"\n{a} → {b}" if a and b else ""
    net = int(df.attrs.get("size_change", sum(int(c) for c in df["size_change"])))
    ax.set_title(f"Largest file changes, net {'+' if net > 0 else ''}{human_size(net)}{names}")
    ax.set_xlabel("size of the change (uncompressed)")
    return fig


def _ranked_bars(
    top: pd.Series, color: str, title: str, xlabel: str = "uncompressed size"
) -> Chart:
    """Horizontal bars, largest on top, each labelled with its size."""
    fig, ax = _figure(len(top))
    rows = list(range(len(top)))
    sizes = [int(s) for s in top.to_numpy()]
    bars = ax.barh(rows, sizes, color=color)
    ax.set_yticks(rows, labels=[truncate(f"/{p}", 60) for p in top.index], fontsize=8)
    ax.invert_yaxis()
    _bar_labels(ax, bars, sizes)
    ax.set_xlim(0, max(sizes, default=1) * _HEADROOM or 1)
    _size_axis(ax.xaxis)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return fig
