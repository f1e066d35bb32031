"""DataFrames of what registries hold: the presentation layer over the core.

Sizes are int64 bytes, times tz-aware UTC; few-valued columns are
categories. Importing this package loads nothing heavy: each frame function
(and pandas with it) loads on first use, so ``registrykit`` can re-export
``__all__`` below while the core still imports without pandas.

To read a frame, show ``rk.frames.readable(df)``: sizes in KiB/MiB/GiB,
short digests, short times (the frame itself keeps exact values). Columns a
person reads first (tag, date, size, platform) come before long digests;
what every row shares (the repository, the registry) is in ``df.attrs``.
"""

# The names in __all__ come from the star imports (for type checkers) or __getattr__.
# ruff: noqa: F405

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._format import readable as readable
    from .file_diff import *  # noqa: F403
    from .listing import *  # noqa: F403
    from .parquet import *  # noqa: F403
    from .plans import *  # noqa: F403

# The one list of frame function names; ``registrykit.__all__`` extends itself with it.
__all__ = [
    "apply",
    "audit",
    "audit_to_parquet",
    "audit_total",
    "catalog",
    "credentials",
    "diff",
    "diff_files",
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
_MODULES = (".listing", ".plans", ".file_diff", ".parquet")
# Helpers of this module only (``rk.frames.readable``), not re-exported by ``registrykit``.
_HELPERS = {"readable": "._format"}


def __getattr__(name: str) -> Any:
    if name in _HELPERS:
        value = getattr(importlib.import_module(_HELPERS[name], __name__), name)
        globals()[name] = value
        return value
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name, __name__)
            if name in vars(module):
                value = vars(module)[name]
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_HELPERS))
