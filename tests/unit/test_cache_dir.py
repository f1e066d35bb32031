"""The on-disk digest cache survives its directory being removed under a running client."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from support.internals import ContentCache


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_removed_cache_directory_is_made_again(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    first, second, third = b"one", b"two", b"three"
    cache.put(_digest(first), first)
    cache.set_marker("listed:a")
    shutil.rmtree(tmp_path / "cache")  # e.g. a user clearing ~/.cache while a notebook runs
    cache.put(_digest(second), second)  # fails quietly: the cache is only slower
    cache.set_marker("listed:b")
    cache.put(_digest(third), third)
    cache.set_marker("listed:c")
    fresh = ContentCache(tmp_path / "cache")  # another process reads what is on disk
    assert fresh.get(_digest(third)) == third
    assert fresh.has_marker("listed:c")
