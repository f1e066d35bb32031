"""Sync and retention plans as DataFrames, to read (and filter) before ``rk.apply``.

The frame's ``attrs`` say which plan it is and which repositories it is
about, so ``rk.apply(df)`` or ``rk.apply(df[df.tag != "keep-me"])`` can carry
it out; pandas keeps ``attrs`` through filtering.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from .._client import Client
from .._model.reference import Reference
from .._ops.retention import Plan, retention_rows, sync_plan_records
from .._ops.sync import TagFilter
from ._dtypes import Kind, typed_frame

__all__ = ["plan_frame", "retention_plan", "sync_plan"]

RETENTION_SCHEMA: dict[str, Kind] = {
    "tag": "str",
    "digest": "str",
    "created": "time",
    "size": "int",
    "action": ("keep", "untag", "delete"),
    "reason": "str",
}
SYNC_SCHEMA: dict[str, Kind] = {
    "tag": "str",
    "source_digest": "str",
    "destination_digest": "str",
    "action": ("skip", "copy"),
    "reason": "str",
}


def plan_frame(plan: Plan) -> pd.DataFrame:
    """A ``Plan`` as a typed DataFrame whose ``attrs`` let ``rk.apply`` run it."""
    schema = RETENTION_SCHEMA if plan.kind == "retention" else SYNC_SCHEMA
    frame = typed_frame(plan.records(), schema)
    attrs: dict[str, Any] = {"registrykit.plan": plan.kind, **plan.meta}
    frame.attrs.update(attrs)
    return frame


def retention_plan(
    repository: str | Reference,
    keep_last: int | None = None,
    keep: TagFilter = None,
    older_than: dt.timedelta | dt.datetime | str | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """``tag, digest, created, size, action, reason`` per tag, newest first.

    ``action`` is ``keep``, ``delete`` or ``untag`` (the rules drop the tag, but
    a kept tag shares its digest, so only the tag goes). Nothing changes until
    ``rk.apply(plan)``.
    """
    return plan_frame(retention_rows(repository, keep_last, keep, older_than, client))


def sync_plan(
    src_repository: str | Reference,
    dst_repository: str | Reference,
    tags: TagFilter = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """``tag, source_digest, destination_digest, action, reason``: what rk.sync would copy."""
    return plan_frame(sync_plan_records(src_repository, dst_repository, tags, client))
