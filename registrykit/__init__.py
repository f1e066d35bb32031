"""registrykit: container registries as DataFrames, plots and forms in Jupyter."""

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
from ._version import __version__

__all__ = [
    "AuthenticationError",
    "DigestMismatch",
    "InvalidReference",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RegistryError",
    "RegistryKitError",
    "RegistryUnavailable",
    "TLSError",
    "Unsupported",
    "__version__",
]
