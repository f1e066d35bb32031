"""registrykit: container registries as DataFrames, plots and forms in Jupyter.

It speaks the OCI Distribution API over httpx; no Docker or Podman daemon is
needed. ``import registrykit as rk``; every function takes ``client=`` and
otherwise uses a shared default ``rk.Client()``.
"""

from typing import TYPE_CHECKING, Any

from ._client import Client, default_client, set_default_client
from ._credentials.store import Credential, CredentialStore
from ._model.errors import (
    AuthenticationError,
    DigestMismatch,
    InvalidReference,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryError,
    RegistryKitError,
    RegistryUnavailable,
    TLSError,
    Unsupported,
)
from ._model.manifest import Descriptor, ImageConfig, Index, Manifest, Platform
from ._model.reference import (
    Reference,
    parse_reference,
    parse_repository,
    register_digest_algorithm,
)
from ._model.registries import RegistryInfo, determine_registry
from ._ops.copy import copy, pull, push
from ._ops.delete import delete
from ._ops.inspect import ImageInfo, RateLimit, config, inspect, manifest, rate_limit
from ._ops.login import LoginResult, credential_records, login, logout
from ._ops.results import (
    ApplyResult,
    CopyResult,
    DeleteResult,
    PullResult,
    PushResult,
    SyncResult,
    TagResult,
)
from ._ops.retention import apply
from ._ops.sync import sync
from ._ops.tagging import tag
from ._registry.api import RegistryClient
from ._transport.settings import RegistrySettings, RuntimeInfo, detect_runtime
from ._version import __version__
from .lab import samples
from .lab.local import LocalRegistry

if TYPE_CHECKING:
    from . import plots, widgets
    from .frames import (
        audit,
        audit_total,
        catalog,
        credentials,
        diff,
        files,
        history,
        layers,
        retention_plan,
        search,
        sync_plan,
        tag_history,
        tag_report,
        tags,
        waste,
    )

# DataFrame functions, plots and widgets need pandas, matplotlib and
# ipywidgets; they load on first use so the core imports without them.
_FRAMES = frozenset(
    {
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
    }
)
_SUBMODULES = frozenset({"frames", "plots", "widgets"})


def __getattr__(name: str) -> Any:
    import importlib

    if name in _FRAMES:
        value = getattr(importlib.import_module(".frames", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'registrykit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FRAMES | _SUBMODULES)


__all__ = [
    "AuthenticationError",
    "Client",
    "Credential",
    "CredentialStore",
    "Descriptor",
    "DigestMismatch",
    "ImageConfig",
    "Index",
    "InvalidReference",
    "LocalRegistry",
    "LoginResult",
    "Manifest",
    "NotFound",
    "PermissionDenied",
    "Platform",
    "RateLimited",
    "Reference",
    "RegistryClient",
    "RegistryError",
    "RegistryInfo",
    "RegistryKitError",
    "RegistrySettings",
    "RegistryUnavailable",
    "RuntimeInfo",
    "TLSError",
    "Unsupported",
    "__version__",
    "credential_records",
    "default_client",
    "detect_runtime",
    "determine_registry",
    "login",
    "logout",
    "parse_reference",
    "parse_repository",
    "register_digest_algorithm",
    "set_default_client",
    "samples",
    "ImageInfo",
    "RateLimit",
    "config",
    "inspect",
    "manifest",
    "rate_limit",
    "copy",
    "sync",
    "pull",
    "push",
    "tag",
    "delete",
    "apply",
    "ApplyResult",
    "CopyResult",
    "DeleteResult",
    "PullResult",
    "PushResult",
    "SyncResult",
    "TagResult",
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
    "frames",
    "plots",
    "widgets",
]
