"""registrykit: container registries as DataFrames, plots and forms in Jupyter.

It speaks the OCI Distribution API over httpx; no Docker or Podman daemon is
needed. ``import registrykit as rk``; every function takes ``client=`` and
otherwise uses a shared default ``rk.Client()``.
"""

from ._client import Client, default_client, set_default_client
from ._credentials import Credential, CredentialStore
from ._exceptions import (
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
from ._local import LocalRegistry
from ._login import LoginResult, credential_records, login, logout
from ._model import Descriptor, ImageConfig, Index, Manifest, Platform
from ._reference import Reference, parse_reference, parse_repository, register_digest_algorithm
from ._registries import RegistryInfo, determine_registry
from ._registry import RegistryClient
from ._runtime import RegistrySettings, RuntimeInfo, detect_runtime
from ._version import __version__

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
]
