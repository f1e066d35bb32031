"""Matplotlib figures from the registrykit frames.

Each function takes a frame (or the image or repository to build it from)
and returns a ``matplotlib.figure.Figure``. Figures are created without
pyplot, so nothing is shown or kept in pyplot's global state: Jupyter
displays the returned figure, and ``fig.savefig`` writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ._client import Client
from ._model.reference import Reference
from ._model.units import human_size
from ._ops.analysis import classify_tag
from .frames import listing

__all__ = ["audit", "largest_files", "layer_sizes", "tag_history"]

LABEL_WIDTH = 48
_REGRESSION = "tab:red"
_NORMAL = "tab:blue"


def truncate(text: str, width: int = LABEL_WIDTH) -> str:
    """One line of at most ``width`` characters, shell noise trimmed."""
    line = " ".join(str(text).split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c ", "|"):
        if line.startswith(prefix):
            line = line[len(prefix) :].lstrip()
    return line if len(line) <= width else line[: width - 1] + "…"


def _size_axis(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: human_size(v) if v >= 0 else ""))


def _frame(
    value: pd.DataFrame | str | Reference | Sequence[str | Reference],
    build: Callable[..., pd.DataFrame],
    **kwargs: Any,
) -> tuple[pd.DataFrame, str | None]:
    if isinstance(value, pd.DataFrame):
        return value, None
    return build(value, **kwargs), str(value)


def _bar_labels(ax: Any, bars: Any, sizes: list[int]) -> None:
    ax.bar_label(bars, labels=[human_size(s) for s in sizes], padding=3, fontsize=8)


def _figure(rows: int) -> tuple[Figure, Any]:
    fig = Figure(figsize=(9, max(2.5, 0.35 * rows + 1.2)), layout="constrained")
    return fig, fig.subplots()


def layer_sizes(
    df_or_image: pd.DataFrame | str | Reference,
    *,
    platform: listing.PlatformArg = None,
    client: Client | None = None,
) -> Figure:
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
) -> Figure:
    """Image size per release over time; size regressions are red triangles.

    Takes a ``tag_history()`` frame or a repository. Tags that share a digest
    are one point, labelled by their version tag (``v1.4.0 +4``). A regression
    is a release more than 10% bigger than the one before it, labelled with
    the growth. Tags without a creation time are placed in order after the
    dated ones.
    """
    df, name = _frame(df_or_repository, listing.tag_history, platform=platform, client=client)
    points = _releases(df)
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    dated = len(points) > 0 and all(p.created is not None for p in points)
    x: list[Any] = [p.created for p in points] if dated else list(range(len(points)))
    sizes = [p.size for p in points]
    ax.plot(x, sizes, color=_NORMAL, marker="o", markersize=4, label="size")
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
    for xv, point in zip(x, points, strict=True):
        label = point.label + (f"\n+{human_size(point.change)}" if point.regression else "")
        ax.annotate(
            label,
            (xv, point.size),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
            color=_REGRESSION if point.regression else "black",
        )
    if not dated:
        ax.set_xticks(list(range(len(points))), labels=[p.label for p in points], rotation=45)
    _size_axis(ax.yaxis)
    ax.set_ylabel("image size")
    ax.set_xlabel("created" if dated else "tag")
    ax.set_title(f"Tag history{f' of {name}' if name else ''}")
    ax.legend(loc="best", fontsize=8)
    return fig


REGRESSION_GROWTH = 0.10


@dataclass
class _Release:
    tags: list[str]
    created: Any
    size: int
    change: int

    @property
    def label(self) -> str:
        versions = [t for t in self.tags if classify_tag(t) == "semver"]
        first = (versions or self.tags)[0]
        return f"{first} +{len(self.tags) - 1}" if len(self.tags) > 1 else first

    @property
    def regression(self) -> bool:
        before = self.size - self.change
        return self.change > 0 and before > 0 and self.change > REGRESSION_GROWTH * before


def _releases(df: pd.DataFrame) -> list[_Release]:
    """Consecutive rows on one digest become one release."""
    out: list[_Release] = []
    last_digest = None
    for row in df.itertuples(index=False):
        created = None if pd.isna(row.created) else row.created
        if out and row.digest == last_digest:
            out[-1].tags.append(str(row.tag))
            continue
        change = 0 if pd.isna(row.size_change) else int(row.size_change)
        out.append(_Release([str(row.tag)], created, int(row.size), change))
        last_digest = row.digest
    return out


def audit(
    df_or_target: pd.DataFrame | str | Sequence[str | Reference], *, client: Client | None = None
) -> Figure:
    """Stored and shared bytes per repository, largest first.

    Takes an ``audit()`` frame, or what ``audit()`` takes: a registry host or
    repositories.
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
    ax.set_yticks(y, labels=[truncate(r, 40) for r in ordered["repository"]], fontsize=8)
    _size_axis(ax.xaxis)
    total = df.attrs.get("total_stored_size")
    suffix = f" (registry total {human_size(total)}, each blob once)" if total is not None else ""
    ax.set_title(f"Storage per repository{suffix}")
    ax.set_xlabel("bytes")
    ax.legend(loc="lower right", fontsize=8)
    ax.margins(x=0.15)
    return fig


def _directory_sizes(df: pd.DataFrame) -> pd.Series:
    totals: dict[str, int] = {}
    for path, size in zip(df["path"], df["size"], strict=True):
        parts = str(path).split("/")[:-1]
        for i in range(1, len(parts) + 1):
            key = "/".join(parts[:i])
            totals[key] = totals.get(key, 0) + int(size)
    return pd.Series(totals, dtype="int64")


def largest_files(
    df_or_image: pd.DataFrame | str | Reference,
    n: int = 20,
    by: Literal["file", "dir"] = "file",
    *,
    platform: listing.PlatformArg = None,
    client: Client | None = None,
) -> Figure:
    """The ``n`` largest files, or directories (sizes of everything beneath), in the image.

    Takes a ``files()`` frame or an image; only versions visible in the
    final filesystem count.
    """
    if by not in ("file", "dir"):
        raise ValueError(f"by must be 'file' or 'dir', not {by!r}")
    df, name = _frame(df_or_image, listing.files, platform=platform, client=client)
    visible = df[(df["visible"]) & (df["kind"] == "file")]
    if by == "file":
        top = visible.groupby("path", observed=True)["size"].sum()
    else:
        top = _directory_sizes(visible)
    top = top.sort_values(ascending=False).head(n)
    fig, ax = _figure(len(top))
    sizes = [int(s) for s in top.to_numpy()]
    bars = ax.barh(range(len(top)), sizes, color=_NORMAL)
    ax.set_yticks(range(len(top)), labels=[truncate(f"/{p}", 60) for p in top.index], fontsize=8)
    ax.invert_yaxis()
    _bar_labels(ax, bars, sizes)
    _size_axis(ax.xaxis)
    what = "files" if by == "file" else "directories"
    ax.set_title(f"Largest {what}{f' in {name}' if name else ''}")
    ax.set_xlabel("uncompressed size")
    if sizes:
        ax.set_xlim(0, max(sizes) * 1.2 if max(sizes) else 1)
    return fig
