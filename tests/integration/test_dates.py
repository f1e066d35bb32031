"""Dates on a real registry: images stamped with reproducible builders' fake dates.

The CNCF registry has no push time, so ``date`` is the trusted ``created``;
the sentinel-dated images (ko/Jib, Nix, buildpacks, rules_oci) have none and
must neither lead a listing nor fall to an age rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import registrykit as rk
from registrykit import push
from registrykit.frames.plans import retention_plan
from registrykit.lab.build import build_image, gzip_layer, tar_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(120)

DATES = {
    "ko": "1970-01-01T00:00:00Z",
    "nix": "1970-01-01T00:00:01Z",
    "buildpacks": "1980-01-01T00:00:01Z",
    "rules-oci": "0001-01-01T00:00:00Z",
    "v1.0.0": "2023-01-01T00:00:00Z",
    "v2.0.0": "2024-06-01T00:00:00Z",
}
SENTINELS = {"ko", "nix", "buildpacks", "rules-oci"}


@pytest.fixture
def repo(
    request: pytest.FixtureRequest, registry: LocalRegistry, client: rk.Client, tmp_path: Path
) -> str:
    """Six images, one per tag, four of them with a fake fixed ``created``."""
    images = {
        name: build_image([gzip_layer(tar_layer({"app": name.encode()}))], created=when)
        for name, when in DATES.items()
    }
    layout = write_oci_layout(tmp_path / "layout", list(images.items()))
    name = f"{registry.host}/dates/{request.node.name.replace('_', '-').lower()[:50]}"
    push(layout, name, all_tags=True, client=client)
    return name


def test_tags_put_trusted_dates_first(repo: str, client: rk.Client) -> None:
    df = rk.frames.tags(repo, client=client)
    assert df["tag"].tolist()[:2] == ["v2.0.0", "v1.0.0"]
    assert set(df["tag"].tolist()[2:]) == SENTINELS
    assert df["pushed"].isna().all()  # the CNCF registry has no push time
    assert (df["date_source"].iloc[:2] == "created").all()
    assert df["date_source"].iloc[2:].isna().all()


def test_tag_history_leaves_sentinel_dated_images_last(repo: str, client: rk.Client) -> None:
    df = rk.frames.tag_history(repo, client=client)
    assert df["tag"].tolist()[:2] == ["v1.0.0", "v2.0.0"]
    assert df["date"].iloc[2:].isna().all()


def test_an_age_rule_never_deletes_a_sentinel_dated_image(repo: str, client: rk.Client) -> None:
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    plan = retention_plan(repo, older_than="30d", client=client, now=now)
    actions = dict(zip(plan["tag"], plan["action"], strict=True))
    assert actions["v1.0.0"] == actions["v2.0.0"] == "delete"
    assert {actions[t] for t in SENTINELS} == {"keep"}
