"""Sync and retention plans as DataFrames, to read (and filter) before ``rk.apply``.

The frame's ``attrs`` say which plan it is and which repositories it is
about, so ``rk.apply(df)`` or ``rk.apply(df[df.tag != "keep-me"])`` can carry
it out; pandas keeps ``attrs`` through filtering. A retention plan's
``attrs["freed_bytes"]`` is what its deletes free (blobs only the deleted
images hold). Show a plan with ``rk.frames.readable(df)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec

import pandas as pd

from .._client import Client
from .._ops import plans
from .._ops.plans import Plan, plan_sync
from .._ops.results import ApplyResult, SyncResult
from .._ops.retention import plan_retention
from .._ops.untag import DELETE_METHODS, UNPROBED
from ._dtypes import Kind, typed_frame
from .listing import DATE_SOURCES

_PLAN_KIND = "registrykit.plan"
_P = ParamSpec("_P")

RETENTION_SCHEMA: dict[str, Kind] = {
    "tag": "str",
    "date": "time",
    "size": "int",
    "action": ("keep", "untag", "delete"),
    "method": (*DELETE_METHODS, UNPROBED),
    "reason": "str",
    "date_source": DATE_SOURCES,
    "created": "time",
    "pushed": "time",
    "digest": "str",
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
    attrs: dict[str, Any] = {_PLAN_KIND: plan.kind, **plan.meta}
    if plan.kind == "retention":
        attrs["freed_bytes"] = plan.freed_bytes
    frame.attrs.update(attrs)
    return frame


def _as_frame(planner: Callable[_P, Plan], name: str, doc: str) -> Callable[_P, pd.DataFrame]:
    """``planner`` with the same arguments (and signature), returning its plan as a frame."""

    def framed(*args: _P.args, **kwargs: _P.kwargs) -> pd.DataFrame:
        return plan_frame(planner(*args, **kwargs))

    framed.__name__ = framed.__qualname__ = name
    framed.__doc__ = doc
    signature = inspect.signature(planner).replace(return_annotation="pd.DataFrame")
    framed.__signature__ = signature  # type: ignore[attr-defined]
    return framed


retention_plan = _as_frame(
    plan_retention,
    "retention_plan",
    """``tag, date, size, action, method, reason, date_source, created, pushed, digest``.

    One row per tag, newest image first and undated images last. The rules
    count and date images, not tags: ``keep_last=N`` keeps the N newest
    images with every tag on them. ``date`` is when the registry says the
    image was pushed, else its config's ``created`` (``date_source`` says
    which; NaT when neither is known: a reproducible build's fixed 1970 or
    0001 date is no date), and an age rule never deletes an undated image.
    ``action`` is ``keep``, ``delete`` or ``untag`` (the rules drop the
    image, but a ``keep`` match holds it, so only the tag goes); ``method``
    is how the registry would remove it (``"manifest delete"``, ``"tag
    delete"``, ``"gitlab bulk delete"``, ``"ecr batch-delete-image"``, ``"hub
    tag api"``, ...). Referrers tags (``sha256-<hex>``) follow their subject,
    and their ``reason`` says so. ``df.attrs["freed_bytes"]`` is what the
    deletes free once the registry collects garbage. Nothing changes until
    ``rk.apply(plan)``; read it with ``rk.frames.readable(plan)``.
    """,
)
sync_plan = _as_frame(
    plan_sync,
    "sync_plan",
    """``tag, source_digest, destination_digest, action, reason``: what rk.sync would copy.

    Rows follow the one tag order (``analysis.order_tags``, by version); read
    it with ``rk.frames.readable(plan)``.
    """,
)


def apply(
    plan: pd.DataFrame | Plan, *, client: Client | None = None, progress: bool | None = None
) -> ApplyResult | SyncResult:
    """Carry out a plan from ``retention_plan`` or ``sync_plan`` (filtered as you like).

    The frame's records and ``attrs`` go back to the core as a ``Plan``;
    ``progress`` is passed to the copies a sync plan makes.
    """
    if isinstance(plan, pd.DataFrame) and _PLAN_KIND in plan.attrs:
        meta = {k: v for k, v in plan.attrs.items() if k not in (_PLAN_KIND, "freed_bytes")}
        records = plan.to_dict("records")
        plan = Plan.from_records(str(plan.attrs[_PLAN_KIND]), records, meta)
    return plans.apply(plan, client=client, progress=progress)
