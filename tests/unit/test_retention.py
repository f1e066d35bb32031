"""Retention age parsing."""

from __future__ import annotations

import datetime as dt

import pytest
from support.internals import parse_age

from registrykit import apply

pytestmark = pytest.mark.timeout(120)


def test_parse_age_and_bad_input() -> None:
    now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    assert parse_age("30d", now) == now - dt.timedelta(days=30)
    assert parse_age("2w", now) == now - dt.timedelta(weeks=2)
    assert parse_age(dt.timedelta(hours=5), now) == now - dt.timedelta(hours=5)
    with pytest.raises(ValueError, match="'30d'"):
        parse_age("a month", now)
    with pytest.raises(ValueError, match=r"rk\.retention_plan"):
        apply([{"tag": "x"}])
