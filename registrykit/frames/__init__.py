"""DataFrames of what registries hold: the presentation layer over the core.

Sizes are int64 bytes, times tz-aware UTC; few-valued columns are
categories. Importing this package loads nothing heavy: each frame function
(and pandas with it) loads on first use, so ``registrykit`` can re-export
``__all__`` below while the core still imports without pandas.
"""

# The names in __all__ come from the star imports (for type checkers) or __getattr__.
# ruff: noqa: F405

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .listing import *  # noqa: F403
    from .plans import *  # noqa: F403

# The one list of frame function names; ``registrykit.__all__`` extends itself with it.
__all__ = [
    "apply",
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
_MODULES = (".listing", ".plans")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name, __name__)
            if name in vars(module):
                value = vars(module)[name]
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
