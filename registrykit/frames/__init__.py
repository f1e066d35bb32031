"""DataFrames of what registries hold: the presentation layer over the core.

Sizes are int64 bytes, times tz-aware UTC; few-valued columns are
categories. Imported lazily by ``registrykit`` so the core never needs pandas.
"""

from .listing import (
    audit,
    audit_total,
    catalog,
    credentials,
    diff,
    files,
    history,
    layers,
    search,
    tag_history,
    tag_report,
    tags,
    waste,
)
from .plans import retention_plan, sync_plan

__all__ = [
    "audit",
    "audit_total",
    "catalog",
    "credentials",
    "diff",
    "files",
    "history",
    "layers",
    "retention_plan",
    "search",
    "sync_plan",
    "tag_history",
    "tag_report",
    "tags",
    "waste",
]
