"""Tag kinds and semver order, without a registry."""

from __future__ import annotations

import pytest
from support.internals import classify_tag, semver_key


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("1.2.3", "semver"),
        ("v1.2.3", "semver"),
        ("1.2", "semver"),
        ("v2", "semver"),
        ("1.2.3-rc.1", "semver"),
        ("1.2.3+build.5", "semver"),
        ("3f2a9c1", "git-sha"),
        ("sha-3f2a9c1", "git-sha"),
        ("3f2a9c1e5b7d4a6f8e9d0c1b2a3f4e5d6c7b8a9f", "git-sha"),
        ("2024-01-15", "date"),
        ("20240115", "date"),
        ("2024.01.15", "date"),
        ("20240115-1230", "date"),
        ("latest", "latest"),
        ("stable", "stable"),
        ("main", "other"),
        ("1.2.3-alpine", "semver"),
        ("alpine3.19", "other"),
        ("1234567", "semver"),  # all digits: a build number, not a SHA
    ],
)
def test_classify_tag(tag: str, kind: str) -> None:
    assert classify_tag(tag) == kind


def test_semver_order_puts_releases_after_prereleases() -> None:
    tags = ["1.10.0", "1.2.0", "v1.9.9", "1.10.0-rc.1"]
    assert sorted(tags, key=lambda t: semver_key(t) or (0, 0, 0, 0, "")) == [
        "1.2.0",
        "v1.9.9",
        "1.10.0-rc.1",
        "1.10.0",
    ]
