"""``diff_files``: what made an image grow, path by path.

(Not ``frames/files.py``: importing a submodule named ``files`` would bind
it over the ``files`` frame function on this package.)
"""

from __future__ import annotations

import pandas as pd

from .._client import Client
from .._model.manifest import Platform
from .._model.reference import Reference
from .._ops.diff import FILE_CHANGES, diff_file_records
from ._dtypes import Kind, typed_frame
from .listing import FILE_KINDS

__all__ = ["DIFF_FILES", "diff_files"]

DIFF_FILES: dict[str, Kind] = {
    "path": "str",
    "status": FILE_CHANGES,
    "kind": FILE_KINDS,
    "size_a": "Int64",
    "size_b": "Int64",
    "size_change": "int",
    "layer": "Int64",
    "created_by": "str",
    "layer_digest": "str",
}


def diff_files(
    image_a: str | Reference,
    image_b: str | Reference,
    *,
    platform: str | Platform | None = None,
    client: Client | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Paths ``added``, ``removed`` or ``changed`` from ``image_a`` to ``image_b``, largest
    change first: ``path, status, kind, size_a, size_b, size_change, layer, created_by,
    layer_digest``.

    Each image is a registry reference, ``oci:DIR[:TAG]`` or
    ``docker-archive:PATH[:TAG]``; their merged filesystems are compared
    from tar headers only (nothing is extracted; whiteouts and opaque
    directories applied). ``size_a``/``size_b`` are missing where the path is
    absent; ``layer`` and ``created_by`` name the layer of b (and its build
    step) that wrote the path, or that deleted it. A path rewritten by another
    layer blob is ``changed`` even at the same size: headers carry no content
    hash. ``df.attrs`` holds ``image_a``, ``image_b``, ``added_bytes``,
    ``removed_bytes`` and ``size_change`` (the sum). Show it with
    ``rk.frames.readable(df)``; plot it with ``rk.plots.diff_files(df)``.
    """
    rows = diff_file_records(image_a, image_b, platform, client=client, progress=progress)
    df = typed_frame(rows, DIFF_FILES)
    df.attrs.update(
        image_a=str(image_a),
        image_b=str(image_b),
        added_bytes=sum(r["size_change"] for r in rows if r["size_change"] > 0),
        removed_bytes=-sum(r["size_change"] for r in rows if r["size_change"] < 0),
        size_change=sum(r["size_change"] for r in rows),
    )
    return df
