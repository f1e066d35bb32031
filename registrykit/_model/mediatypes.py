"""Media types of the OCI image spec and the Docker v2 formats."""

from __future__ import annotations

import json

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
MANIFEST_TYPES = INDEX_TYPES | IMAGE_MANIFEST_TYPES
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
IMAGE_CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})

# Sent on every manifest GET/HEAD: without the OCI types a registry answers
# MANIFEST_UNKNOWN for OCI content, and without the Docker v2 types it
# down-converts to schema 1 (with another digest).
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST])


def is_index(media_type: str | None) -> bool:
    return media_type in INDEX_TYPES


def is_gzip_layer(media_type: str) -> bool:
    return media_type.endswith("gzip")


def is_zstd_layer(media_type: str) -> bool:
    return media_type.endswith("+zstd")


# Layer compression by the first bytes of the blob, for layers whose media
# type says nothing useful (classic docker-archives, application/octet-stream).
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
COMPRESSION_MAGIC = {"gzip": GZIP_MAGIC, "zstd": ZSTD_MAGIC}

# OCI layer whiteouts: ``.wh.<name>`` deletes a lower-layer path; the opaque
# marker in a directory hides everything lower layers put there.
WHITEOUT_PREFIX = ".wh."
OPAQUE_WHITEOUT = ".wh..wh..opq"

# The index.json annotation that names an image of a layout (skopeo: the tag).
REF_NAME = "org.opencontainers.image.ref.name"


def compression_of(head: bytes) -> str | None:
    """``"gzip"``, ``"zstd"`` or None (plain tar) from a blob's first bytes."""
    return next((name for name, magic in COMPRESSION_MAGIC.items() if head.startswith(magic)), None)


def sniff_media_type(raw: bytes, fallback: str = "") -> str:
    """The media type a manifest declares, else ``fallback`` when it is one, else its shape's."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return fallback or OCI_MANIFEST
    if isinstance(obj, dict) and obj.get("mediaType"):
        return str(obj["mediaType"])
    if fallback in MANIFEST_TYPES:
        return fallback
    return OCI_INDEX if isinstance(obj, dict) and "manifests" in obj else OCI_MANIFEST
