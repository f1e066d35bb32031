"""The internals that tests drive directly, imported in this one place.

Tests use the public API (``import registrykit as rk``, ``registrykit.lab``,
``registrykit.frames``, ``registrykit.widgets``) wherever it reaches. Some unit tests
must reach inside: the auth flow driven by hand, the retry policy, the credential
store, settings and helper parsers, digest and media-type helpers, a race simulated
by replacing one function. They import those names from here, so a move inside the
package is followed in this file alone.
"""

# ruff: noqa: F401

from registrykit._credentials import cloud, helpers, keychain, process, store
from registrykit._credentials import runtime as credential_runtime
from registrykit._model import (
    digest,
    errors,
    hosts,
    manifest,
    mediatypes,
    platform,
    reference,
    registries,
    render,
    units,
)
from registrykit._ops import (
    analysis,
    audit,
    clouddates,
    delete,
    filesystem,
    listing,
    login,
    partition,
    progress,
    retention,
    runtime,
    sync,
    transfer,
    untag,
    vendordates,
    vendors,
    webapis,
)
from registrykit._registry import api, cache
from registrykit._stores import archive, base, layout
from registrykit._stores import runtime as stores_runtime
from registrykit._transport import adaptive, auth, http, retry, settings, shortnames
from registrykit._transport import errors as transport_errors

_parse_token = auth._parse_token
_parse_version = runtime._parse_version
acr_access_token = cloud.acr_access_token
ACR_USERNAME = cloud.ACR_USERNAME
api_host = hosts.api_host
ArchiveReader = archive.ArchiveReader
ArchiveWriter = archive.ArchiveWriter
AuditResult = audit.AuditResult
auth_key = hosts.auth_key
AUTO_DELAY = progress.AUTO_DELAY
bar = progress.bar
canonical_host = hosts.canonical_host
choose_platform = platform.choose_platform
ChunkReader = digest.ChunkReader
classify_tag = analysis.classify_tag
cloud_login_password = cloud.cloud_login_password
ConcurrencyLimit = adaptive.ConcurrencyLimit
ContentCache = cache.ContentCache
Credential = helpers.Credential
credential_records = login.credential_records
CredentialStore = store.CredentialStore
login_scope = store.login_scope
decompressed = filesystem.decompressed
Descriptor = manifest.Descriptor
digest_problem = reference.digest_problem
DigestMismatch = errors.DigestMismatch
dockerhub_delete_tag = vendors.dockerhub_delete_tag
dockerhub_login = vendors.dockerhub_login
ecr_login_password = cloud.ecr_login_password
FileVersion = filesystem.FileVersion
gcloud_access_token = cloud.gcloud_access_token
ghcr_delete_digest = vendors.ghcr_delete_digest
Helper = helpers.Helper
HUB_API_HOST = hosts.HUB_API_HOST
HUB_AUTH_KEY = hosts.HUB_AUTH_KEY
HostTransport = http.HostTransport
human_size = units.human_size
ImageConfig = manifest.ImageConfig
ImageRecord = listing.ImageRecord
is_docker_hub = hosts.is_docker_hub
is_loopback = hosts.is_loopback
is_short_name = shortnames.is_short_name
json_key = cloud.json_key
Keychain = keychain.Keychain
KINDS = registries.KINDS
LayoutStore = layout.LayoutStore
load_registry_settings = settings.load_registry_settings
Login = keychain.Login
match_tags = sync.match_tags
normalize_host = hosts.normalize_host
normalize_location = hosts.normalize_location
order_tags = analysis.order_tags
parse_age = retention.parse_age
parse_manifest = manifest.parse_manifest
platform_matches = platform.platform_matches
prefix_match = shortnames.prefix_match
printable = process.printable
progress_bar = progress.progress_bar
raise_for_response = transport_errors.raise_for_response
referrers_subject = analysis.referrers_subject
resolve_short_name = shortnames.resolve_short_name
RegistryAuth = auth.RegistryAuth
RegistryClient = api.RegistryClient
RegistrySettings = settings.RegistrySettings
remember_secret = process.remember_secret
render_table_html = render.render_table_html
render_table_text = render.render_table_text
repository_problem = reference.repository_problem
REQUEST_THRESHOLD = progress.REQUEST_THRESHOLD
RETRYABLE_STATUSES = retry.RETRYABLE_STATUSES
RetryPolicy = http.RetryPolicy
scopes_for = auth.scopes_for
scrub = process.scrub
semver_key = analysis.semver_key
sized_chunks = digest.sized_chunks
split_host = hosts.split_host
stack_layers = filesystem.stack_layers
Store = base.Store
strip_scheme = hosts.strip_scheme
summarize_waste = filesystem.summarize_waste
tag_problem = reference.tag_problem
tar_entries = filesystem.tar_entries
TransportPolicy = http.TransportPolicy
valid_names = reference.valid_names
validate_digest = reference.validate_digest
verified_chunks = digest.verified_chunks
write_verified = digest.write_verified
