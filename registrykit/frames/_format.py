"""``readable(df)``: the one way to show any registrykit frame to a person.

Frames hold int64 bytes, full digests and UTC datetimes, which is right
for filtering and sums but hard to read. ``readable`` returns a copy for
the eye: binary sizes (``7.34 MiB``), short digests (``sha256:3f2a9c1d5e6f``),
minute-precision times, ``13.5%`` and tag lists joined. The notebook, the
CLI and the demo report all show frames through it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._model.units import human_size
from .._ops.analysis import referrers_subject

__all__ = ["readable"]

SIZE_COLUMNS = frozenset(
    {
        "size",
        "logical_size",
        "stored_size",
        "shared_size",
        "size_change",
        "size_a",
        "size_b",
        "unique_size",
        "cumulative_size",
        "bytes_copied",
        "bytes_skipped",
        "bytes_mounted",
        "freed_bytes",
        "wasted",
        "wasted_bytes",
    }
)
DIGEST_COLUMNS = frozenset(
    {
        "digest",
        "image_digest",
        "layer_digest",
        "config_digest",
        "source_digest",
        "destination_digest",
    }
)


def _short_digest(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    # The algorithm and 12 hex digits, as docker shortens image IDs.
    algorithm, _, hexpart = text.partition(":")
    return f"{algorithm}:{hexpart[:12]}" if hexpart else text


def _short_tag(tag: Any) -> Any:
    # A referrers tag (sha256-<hex>[.sig]) is shortened like the digest it names.
    subject = referrers_subject(tag) if isinstance(tag, str) else None
    if subject is None:
        return tag
    algorithm, hexpart = subject.split(":", 1)
    return f"{algorithm}-{hexpart[:12]}…{tag[len(algorithm) + 1 + len(hexpart) :]}"


def _size(value: Any) -> str:
    return "" if pd.isna(value) else human_size(int(value))


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for reading: human sizes, short digests, short times.

    Byte columns become binary units (``7.34 MiB``), digest columns
    ``sha256:`` plus 12 hex digits (referrers tags alike), times ``2024-05-13 10:00``, ``percent``
    one decimal with ``%``, tag lists ``v1.4.0, latest``, and a named index
    (the layer number of ``layers()``) a first column. The original frame,
    with exact values for filtering and sums, is unchanged.
    """
    out = frame.reset_index() if frame.index.name is not None else frame.copy()
    for column in out.columns:
        values = out[column]
        if column in SIZE_COLUMNS:
            out[column] = [_size(v) for v in values]
        elif column in DIGEST_COLUMNS:
            out[column] = [_short_digest(v) for v in values]
        elif column == "percent":
            out[column] = ["" if pd.isna(v) else f"{v:.1f}%" for v in values]
        elif column == "tag":
            out[column] = [_short_tag(v) for v in values]
        elif column == "tags":
            out[column] = [
                ", ".join(_short_tag(t) for t in v) if isinstance(v, list | tuple) else v
                for v in values
            ]
        elif isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.strftime("%Y-%m-%d %H:%M").fillna("")
        elif isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(values):
            # A missing label reads as blank, as a missing time does, not NaN or None.
            out[column] = values.astype(object).where(values.notna(), "")
    out.attrs = dict(frame.attrs)
    return out
