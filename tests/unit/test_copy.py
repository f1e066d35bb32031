"""Tag matching for rk.sync, without a registry."""

from __future__ import annotations

import pytest
from support.internals import match_tags

pytestmark = pytest.mark.timeout(180)


def test_match_tags_glob_regex_list() -> None:
    tags = ["1.0", "1.1", "2.0", "latest"]
    assert match_tags(tags, "1.*") == ["1.0", "1.1"]
    assert match_tags(tags, r"^\d+\.0$") == ["1.0", "2.0"]
    assert match_tags(tags, ["latest", "nope"]) == ["latest"]
    assert match_tags(tags, None) == tags
