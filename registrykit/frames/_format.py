"""Frames for people: human sizes and short times, for terminals and reports."""

from __future__ import annotations

import pandas as pd

from .._model.units import human_size

SIZE_COLUMNS = frozenset(
    {
        "size",
        "logical_size",
        "stored_size",
        "shared_size",
        "size_change",
        "cumulative_size",
        "bytes_copied",
        "bytes_skipped",
        "bytes_mounted",
        "wasted",
        "wasted_bytes",
    }
)


def humanize(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with byte columns as ``1.2 MiB`` and times as ``2024-05-13 10:00``."""
    out = frame.copy()
    for column in out.columns:
        if column in SIZE_COLUMNS:
            out[column] = [
                "" if pd.isna(value) else human_size(int(value)) for value in out[column]
            ]
        elif column == "percent":
            out[column] = [f"{value:.1f}%" for value in out[column]]
        elif isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.strftime("%Y-%m-%d %H:%M").fillna("")
    return out
