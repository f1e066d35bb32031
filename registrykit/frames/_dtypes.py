"""Typed DataFrames from records: one schema per frame, also when empty.

A frame built from an empty list would have no columns and object dtypes;
a notebook that filters or plots it would then fail in a confusing way.
Every frame is therefore built against a schema, so an empty repository
gives the same columns and dtypes as a full one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

# pandas 3 infers its "str" dtype for text; pandas 2 keeps object (where
# "str" would turn None into the text "nan").
_STR: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
TIME = "datetime64[ns, UTC]"

# A column kind, or for a category with known values, a tuple of those values.
Kind = str | tuple[str, ...]


def _column(values: list[Any], kind: Kind) -> pd.Series:
    if isinstance(kind, tuple):
        return pd.Series(pd.Categorical(values, categories=list(kind)))
    if kind == "category":
        present = sorted({v for v in values if v is not None})
        return pd.Series(pd.Categorical(values, categories=present))
    if kind == "str":
        return pd.Series(values, dtype=_STR)
    if kind == "int":
        return pd.Series(values, dtype="int64")
    if kind == "Int64":
        return pd.Series(values, dtype="Int64")
    if kind == "float":
        return pd.Series(values, dtype="float64")
    if kind == "bool":
        return pd.Series(values, dtype="bool")
    if kind == "boolean":
        return pd.Series(values, dtype="boolean")
    if kind == "time":
        return pd.Series(pd.to_datetime(values, utc=True), dtype=TIME)
    return pd.Series(values, dtype=object)


def typed_frame(records: Sequence[Mapping[str, Any]], schema: Mapping[str, Kind]) -> pd.DataFrame:
    """A DataFrame with exactly ``schema``'s columns, in order, with its dtypes.

    Kinds: ``str``, ``int`` (int64), ``Int64`` (nullable), ``float``,
    ``bool``, ``boolean`` (nullable), ``time`` (UTC, NaT for None),
    ``category`` (categories from the data), a tuple (a category with those
    values in that order), or ``object``.
    """
    columns = {name: _column([r.get(name) for r in records], kind) for name, kind in schema.items()}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records)))
