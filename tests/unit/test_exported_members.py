"""``registrykit.__all__`` is sorted, importable, and is the contract (as httpx checks its own)."""

from __future__ import annotations

import registrykit as rk

# The names of design.md, "Public API" (the contract table), in its order.
PUBLIC_API = {
    "parse_reference",
    "determine_registry",
    "detect_runtime",
    "Client",
    "login",
    "logout",
    "credentials",
    "catalog",
    "search",
    "tags",
    "tag_history",
    "history",
    "layers",
    "audit",
    "diff",
    "diff_files",
    "files",
    "waste",
    "inspect",
    "manifest",
    "config",
    "tag_report",
    "rate_limit",
    "copy",
    "sync",
    "sync_plan",
    "delete",
    "retention_plan",
    "apply",
    "tag",
    "pull",
    "push",
    "LocalRegistry",
    "samples",
    "widgets",
    "plots",
}

# Exported beside the table: what its calls return or raise, and the modules.
EXTRAS = {
    # exceptions (design.md, "Errors")
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
    # results and info objects
    "ApplyResult",
    "CopyResult",
    "DeleteResult",
    "ImageInfo",
    "LoginResult",
    "LogoutResult",
    "PullResult",
    "PushResult",
    "RateLimit",
    "RegistryInfo",
    "RuntimeInfo",
    "SyncResult",
    "TagResult",
    # model
    "Descriptor",
    "ImageConfig",
    "Index",
    "Manifest",
    "Platform",
    "Reference",
    "parse_repository",
    # the default client (the way httpx.get uses one)
    "default_client",
    "set_default_client",
    # frames helpers and public modules
    "audit_total",
    "audit_to_parquet",
    "frames",
    "lab",
    "__version__",
}


def test_all_is_sorted():
    assert rk.__all__ == sorted(rk.__all__)


def test_all_has_no_duplicates():
    assert len(rk.__all__) == len(set(rk.__all__))


def test_every_exported_name_is_importable():
    missing = [name for name in rk.__all__ if not hasattr(rk, name)]
    assert not missing


def test_all_is_the_public_api_plus_the_allowed_extras():
    assert set(rk.__all__) == PUBLIC_API | EXTRAS


def test_internals_are_not_exported():
    internals = {
        "RegistryClient",
        "CredentialStore",
        "Credential",
        "RegistrySettings",
        "credential_records",
        "register_digest_algorithm",
    }
    assert not internals & set(rk.__all__)
    assert not [name for name in internals if hasattr(rk, name)]


def test_frame_functions_are_named_once_in_frames():
    assert set(rk.frames.__all__) <= set(rk.__all__)
    assert all(callable(getattr(rk.frames, name)) for name in rk.frames.__all__)
