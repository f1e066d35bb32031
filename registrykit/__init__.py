"""registrykit: container registries as DataFrames, plots and forms in Jupyter.

It speaks the OCI Distribution API over httpx; no Docker or Podman daemon is
needed. ``import registrykit as rk``.

Two rules hold for every public function:

- ``client=`` is keyword-only and optional; without it a shared default
  ``rk.Client()`` is used (the way ``httpx.get`` uses a default client).
- Readers take ``platform`` (one ``os/arch[/variant]``: which image of a
  multi-arch tag to read); writers take ``platforms`` (one or many: which
  images of an index to copy).
"""

from typing import TYPE_CHECKING, Any

from . import frames
from ._client import Client, default_client, set_default_client
from ._model import errors as _errors
from ._model.errors import *  # noqa: F403  (the exception tree of design.md, "Errors")
from ._model.manifest import Descriptor, ImageConfig, Index, Manifest, Platform
from ._model.reference import Reference, parse_reference, parse_repository
from ._model.registries import RegistryInfo, determine_registry
from ._ops.copy import copy, pull, push
from ._ops.delete import delete
from ._ops.inspect import ImageInfo, config, inspect, manifest
from ._ops.login import LoginResult, LogoutResult, login, logout
from ._ops.results import (
    ApplyResult,
    CopyResult,
    DeleteResult,
    PullResult,
    PushResult,
    SyncResult,
    TagResult,
)
from ._ops.runtime import RuntimeInfo, detect_runtime
from ._ops.sync import sync
from ._ops.tagging import tag
from ._ops.vendors import RateLimit, rate_limit
from ._version import __version__
from .lab import samples
from .lab.local import LocalRegistry

if TYPE_CHECKING:
    from . import lab, plots, widgets
    from .frames import *  # noqa: F403

# Plots and widgets need matplotlib and ipywidgets, and the frame functions
# pandas; they load on first use so the core imports without them.
_PRESENTATION_MODULES = frozenset({"plots", "widgets"})


def __getattr__(name: str) -> Any:
    import importlib

    if name in _PRESENTATION_MODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in frames.__all__:
        value = getattr(frames, name)
    else:
        raise AttributeError(f"module 'registrykit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# Everything but the exceptions and the frame functions, whose names are written
# once each: in _model/errors.py and in frames/__init__.py.
__all__ = [
    "ApplyResult",
    "Client",
    "CopyResult",
    "DeleteResult",
    "Descriptor",
    "ImageConfig",
    "ImageInfo",
    "Index",
    "LocalRegistry",
    "LoginResult",
    "LogoutResult",
    "Manifest",
    "Platform",
    "PullResult",
    "PushResult",
    "RateLimit",
    "Reference",
    "RegistryInfo",
    "RuntimeInfo",
    "SyncResult",
    "TagResult",
    "__version__",
    "config",
    "copy",
    "default_client",
    "delete",
    "detect_runtime",
    "determine_registry",
    "frames",
    "inspect",
    "lab",
    "login",
    "logout",
    "manifest",
    "parse_reference",
    "parse_repository",
    "plots",
    "pull",
    "push",
    "rate_limit",
    "samples",
    "set_default_client",
    "sync",
    "tag",
    "widgets",
]
__all__ += _errors.__all__
__all__ += frames.__all__
__all__.sort()
