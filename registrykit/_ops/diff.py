"""What changed between two images' filesystems, path by path.

Both images are read with ``filesystem.read_image_files`` (tar headers only,
bounded decompression, whiteouts and opaque directories applied), so a
diff costs one streaming read of each image's layers and no extraction.

Headers carry no content hash, so a path present in both images counts as
``changed`` when its visible version comes from a different layer blob
(the build step wrote it again; its content may or may not differ), or its
kind changed. A directory counts as changed only when its kind or mode
changed: every layer that writes beneath a directory repeats its entry.
A path whose visible version comes from the same layer blob in both
images is identical and is not listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._client import Client, get_client
from .._model.manifest import Platform
from .._model.reference import Reference
from .analysis import layer_records
from .filesystem import FileVersion, read_image_files
from .progress import ProgressArg

__all__ = ["FILE_CHANGES", "diff_file_records"]

FILE_CHANGES = ("added", "removed", "changed")
_DELETIONS = ("whiteout", "opaque")


def diff_file_records(
    image_a: str | Reference,
    image_b: str | Reference,
    platform: str | Platform | None = None,
    *,
    client: Client | None = None,
    progress: ProgressArg = None,
) -> list[dict[str, Any]]:
    """Rows of paths added, removed or changed from ``image_a`` to ``image_b``.

    Each row: ``path, status, kind, size_a, size_b, size_change, layer,
    created_by, layer_digest``. ``layer`` is the index in b of the layer
    that wrote the path (added, changed) or deleted it (removed, by a
    whiteout, an opaque directory or a file replacing a parent directory);
    None when no layer of b deleted it (b does not build on a's layers).
    Largest absolute ``size_change`` first, then by path.
    """
    c = get_client(client)
    # One image after the other: each one's layers already fan out on the pool.
    _, files_a = read_image_files(image_a, platform, client=c, progress=progress)
    resolved_b, files_b = read_image_files(image_b, platform, client=c, progress=progress)
    steps = {r["index"]: r["created_by"] for r in layer_records(resolved_b)}
    before, after = _final(files_a), _final(files_b)
    rows: list[dict[str, Any]] = []
    for path in after.keys() - before.keys():
        rows.append(_row(path, "added", None, after[path], after[path], steps))
    for path in before.keys() & after.keys():
        if _changed(before[path], after[path]):
            rows.append(_row(path, "changed", before[path], after[path], after[path], steps))
    deleted_by = _deletions(files_b)
    for path in before.keys() - after.keys():
        by = _deleter(path, deleted_by, after)
        rows.append(_row(path, "removed", before[path], None, by, steps))
    rows.sort(key=lambda r: (-abs(r["size_change"]), r["path"]))
    return rows


def _final(versions: Sequence[FileVersion]) -> dict[str, FileVersion]:
    """The merged filesystem: each path's visible version."""
    return {v.path: v for v in versions if v.visible}


def _changed(a: FileVersion, b: FileVersion) -> bool:
    if a.kind != b.kind:
        return True
    if a.kind == "dir":
        return a.mode != b.mode
    return a.layer_digest != b.layer_digest


def _deletions(versions: Sequence[FileVersion]) -> dict[tuple[str, str], FileVersion]:
    """The topmost whiteout or opaque marker per (kind, path) of one image."""
    found: dict[tuple[str, str], FileVersion] = {}
    for v in versions:
        if v.kind in _DELETIONS:
            key = (v.kind, v.path)
            if key not in found or found[key].layer < v.layer:
                found[key] = v
    return found


def _deleter(
    path: str,
    deletions: Mapping[tuple[str, str], FileVersion],
    after: Mapping[str, FileVersion],
) -> FileVersion | None:
    """The highest layer entry of b that hid ``path``: a whiteout of it or of a parent,
    an opaque parent, or a non-directory written over a parent."""
    parts = path.split("/")
    parents = ["/".join(parts[:i]) for i in range(len(parts))]  # "" is the root
    candidates = [deletions.get(("whiteout", p)) for p in [*parents[1:], path]]
    candidates += [deletions.get(("opaque", p)) for p in parents]
    candidates += [after.get(p) for p in parents[1:] if p in after and after[p].kind != "dir"]
    present = [v for v in candidates if v is not None]
    return max(present, key=lambda v: v.layer) if present else None


def _row(
    path: str,
    status: str,
    a: FileVersion | None,
    b: FileVersion | None,
    by: FileVersion | None,
    steps: Mapping[int, str],
) -> dict[str, Any]:
    size_a = a.size if a is not None else None
    size_b = b.size if b is not None else None
    kind = b.kind if b is not None else a.kind if a is not None else "other"
    return {
        "path": path,
        "status": status,
        "kind": kind,
        "size_a": size_a,
        "size_b": size_b,
        "size_change": (size_b or 0) - (size_a or 0),
        "layer": by.layer if by is not None else None,
        "created_by": steps.get(by.layer, "") if by is not None else "",
        "layer_digest": by.layer_digest if by is not None else None,
    }
