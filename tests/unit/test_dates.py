"""Dates you can trust (issue 12 §1): fake fixed ``created`` values never order or delete.

Images are built by the lab builder with the fixed dates reproducible tools
stamp (ko/Jib 1970-01-01T00:00:00Z, Nix 1970-01-01T00:00:01Z, buildpacks
1980-01-01T00:00:01Z, rules_oci 0001-01-01T00:00:00Z) and served by a
``FakeRegistry`` through ``Client(transport=...)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from support.fakeregistry import FakeRegistry, sample_image
from support.internals import retention, webapis

import registrykit as rk
from registrykit.lab.build import build_index

HOST = "registry.example.com"
REPO = "team/app"
SENTINELS = {
    "ko": "1970-01-01T00:00:00Z",
    "nix": "1970-01-01T00:00:01Z",
    "buildpacks": "1980-01-01T00:00:01Z",
    "rules-oci": "0001-01-01T00:00:00Z",
}
REAL = {"v1.0.0": "2024-01-10T08:00:00Z", "v1.1.0": "2024-03-05T08:00:00Z"}


def _when(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture
def fake() -> FakeRegistry:
    images = {
        tag: sample_image(created, tag.encode()) for tag, created in {**REAL, **SENTINELS}.items()
    }
    return FakeRegistry(HOST, REPO, images)


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[rk.Client]:
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake)) as c:
        yield c


@pytest.mark.parametrize("value", [*SENTINELS.values(), None, "", "not a time"])
def test_fake_fixed_dates_and_missing_are_unknown(value: str | None) -> None:
    assert webapis.trusted_time(value) is None


def test_real_dates_are_kept() -> None:
    when = webapis.trusted_time("2024-01-10T08:00:00.123456789Z")
    assert when == dt.datetime(2024, 1, 10, 8, 0, 0, 123456, tzinfo=dt.UTC)


def test_tags_newest_date_first_and_sentinels_last(client: rk.Client) -> None:
    df = rk.frames.tags(f"{HOST}/{REPO}", client=client)
    assert df["tag"].tolist()[:2] == ["v1.1.0", "v1.0.0"]
    assert set(df["tag"].tolist()[2:]) == set(SENTINELS)
    undated = df[df["tag"].isin(list(SENTINELS))]
    assert undated["created"].isna().all() and undated["date"].isna().all()
    assert undated["date_source"].isna().all()
    dated = df.set_index("tag").loc["v1.1.0"]
    assert dated["created"] == _when(REAL["v1.1.0"]) == dated["date"]
    assert dated["date_source"] == "created"
    assert pd.isna(dated["pushed"])
    assert list(df.columns)[:4] == ["tag", "date", "size", "platform"]


def test_tag_history_oldest_to_newest_undated_last(client: rk.Client) -> None:
    df = rk.frames.tag_history(f"{HOST}/{REPO}", client=client)
    assert df["tag"].tolist()[:2] == ["v1.0.0", "v1.1.0"]
    assert set(df["tag"].tolist()[2:]) == set(SENTINELS)
    assert df["date"].iloc[2:].isna().all()


def test_age_rule_never_deletes_sentinel_dated_images(client: rk.Client) -> None:
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    plan = listing_plan(client, older_than="30d", now=now)
    actions = {row.tag: row.action for row in plan.rows}
    assert actions["v1.0.0"] == actions["v1.1.0"] == "delete"
    assert all(actions[tag] == "keep" for tag in SENTINELS)
    assert plan.freed_bytes > 0


def test_keep_last_ranks_undated_images_last(client: rk.Client) -> None:
    plan = listing_plan(client, keep_last=2)
    kept = {row.tag for row in plan.rows if row.action == "keep"}
    assert kept == {"v1.0.0", "v1.1.0"}


def listing_plan(client: rk.Client, **rules: Any) -> Any:
    return retention.plan_retention(f"{HOST}/{REPO}", client=client, **rules)


def test_index_annotation_is_a_better_build_time_than_a_fake_config_date() -> None:
    image = sample_image(SENTINELS["ko"])
    index = build_index(
        [image], annotations={"org.opencontainers.image.created": "2024-05-01T00:00:00Z"}
    )
    fake = FakeRegistry(HOST, REPO, {"v2.0.0": index, "v1.0.0": sample_image(REAL["v1.1.0"])})
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake)) as c:
        df = rk.frames.tags(f"{HOST}/{REPO}", client=c)
    assert df["tag"].tolist() == ["v2.0.0", "v1.0.0"]
    assert df["created"].iloc[0] == _when("2024-05-01T00:00:00Z")
