"""``rk.tag``: new tags for an image, in the registry, without moving blobs.

The manifest's exact bytes are PUT under each new tag, so the digest stays
the same (re-serialising the JSON would change it).
"""

from __future__ import annotations

from .._client import Client, get_client
from .._model.reference import Reference, parse_reference
from .results import TagResult, speaks_http

__all__ = ["tag"]


def _new_tag(ref: Reference, new: str) -> str:
    """A bare tag (``v2``, ``:v2``) or a reference into the same repository."""
    if "/" in new or "@" in new:
        other = parse_reference(new)
        if other.name != ref.name:
            raise ValueError(
                f"{new!r} is in another repository than {ref.name}; rk.tag only adds tags "
                f"within a repository. Use rk.copy({str(ref)!r}, {new!r}) to copy it there."
            )
        if other.tag is None or other.digest is not None:
            raise ValueError(f"{new!r} must name a tag, not a digest")
        return other.tag
    return Reference(ref.registry, ref.repository, tag=new.removeprefix(":")).tag or new


def tag(image: str | Reference, *new_tags: str, client: Client | None = None) -> TagResult:
    """Point ``new_tags`` at the manifest ``image`` names; the digest is unchanged."""
    if not new_tags:
        raise ValueError("give at least one new tag, e.g. rk.tag('registry/app:1.0', 'latest')")
    c = get_client(client)
    ref = c.reference(image, write=True)
    names = [_new_tag(ref, t) for t in new_tags]  # all checked before anything is written
    registry = c.registry(ref)
    raw, media_type, digest = registry.manifest_bytes(ref.repository, ref.identifier)
    for name in names:
        registry.put_manifest(ref.repository, name, raw, media_type)
    return TagResult(
        image=str(ref),
        digest=digest,
        tags=names,
        registry=ref.registry,
        name=ref.name,
        plain_http=speaks_http(registry.base_url),
    )
