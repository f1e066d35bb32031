"""Layer stacking on in-memory tars: whiteouts, replaced directories, hardlinks, gzip members."""

from __future__ import annotations

import gzip
import io
import tarfile

from support.internals import FileVersion, decompressed, stack_layers, summarize_waste, tar_entries

from registrykit.lab.build import (
    tar_layer,
)


def _version(path: str, layer: int, kind: str = "file", size: int = 1) -> FileVersion:
    return FileVersion(path, size if kind == "file" else 0, layer, f"sha256:{layer}", kind)


def test_stack_whiteouts_apply_to_lower_layers_only() -> None:
    versions = stack_layers(
        [
            [_version("a", 0, "dir"), _version("a/x", 0)],
            # The opaque marker hides a/x from layer 0 but not a/y of its own layer.
            [_version("a", 1, "opaque"), _version("a/y", 1), _version("b", 1)],
            [_version("b", 2, "whiteout"), _version("b", 2)],
        ]
    )
    shown = {(v.path, v.layer) for v in versions if v.visible}
    assert shown == {("a", 0), ("a/y", 1), ("b", 2)}


def test_file_replacing_a_directory_hides_its_contents() -> None:
    versions = stack_layers(
        [[_version("d", 0, "dir"), _version("d/f", 0, size=9)], [_version("d", 1, size=3)]]
    )
    summary = summarize_waste(versions)
    assert summary.wasted_bytes == 9
    assert {v.path for v in versions if v.visible} == {"d"}


def test_gzip_with_several_members_is_read_whole() -> None:
    tar = tar_layer({"one": b"1", "two": b"22"})
    half = len(tar) // 2
    blob = gzip.compress(tar[:half]) + gzip.compress(tar[half:])
    chunks = [blob[i : i + 7] for i in range(0, len(blob), 7)]
    entries = tar_entries(decompressed(chunks, "application/octet-stream"), 0, "sha256:x")
    assert [(e.path, e.size) for e in entries] == [("one", 1), ("two", 2)]


def test_hardlinks_and_dot_slash_names() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("./usr/bin/python3")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"data"))
        link = tarfile.TarInfo("./usr/bin/python")
        link.type = tarfile.LNKTYPE
        link.linkname = "./usr/bin/python3"
        tar.addfile(link)
    entries = tar_entries(decompressed([buf.getvalue()], "x"), 0, "sha256:x")
    assert [(e.path, e.kind, e.size, e.link_target) for e in entries] == [
        ("usr/bin/python3", "file", 4, None),
        ("usr/bin/python", "hardlink", 0, "usr/bin/python3"),
    ]
