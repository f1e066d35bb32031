"""Store protocol conformance and archive-writer refusals, without a registry."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import pytest
from support.internals import LayoutStore, Store
from support.oci import OCI_INDEX

from registrykit import DigestMismatch, Unsupported

pytestmark = pytest.mark.timeout(180)


def test_archive_writer_refuses_an_index(tmp_path: Path) -> None:
    from support.internals import ArchiveWriter

    writer = ArchiveWriter(tmp_path / "a.tar")
    try:
        with pytest.raises(Unsupported, match="one platform"):
            writer.manifest_put("1", b'{"manifests":[]}', OCI_INDEX)
    finally:
        writer.abort()
    assert not (tmp_path / "a.tar").exists()
    assert list(tmp_path.iterdir()) == []


def test_stores_follow_the_protocol(tmp_path: Path) -> None:
    layout = LayoutStore(tmp_path / "l", create=True)
    assert isinstance(layout, Store)
    data = b"some blob"
    good = "sha256:" + hashlib.sha256(data).hexdigest()
    layout.blob_put(good, len(data), lambda: contextlib.nullcontext([data]))
    with layout.blob_open(good) as chunks:
        assert b"".join(chunks) == data
    bad = "sha256:" + "0" * 64
    with pytest.raises(DigestMismatch, match="not written"):
        layout.blob_put(bad, len(data), lambda: contextlib.nullcontext([data]))
    assert not layout.blob_exists(bad)
    assert sorted(p.name for p in (tmp_path / "l" / "blobs" / "sha256").iterdir()) == [good[7:]]
