"""Retention plans and apply against a real registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import registrykit as rk
from registrykit import ApplyResult, apply, push, tag
from registrykit.frames.plans import retention_plan
from registrykit.lab.build import build_image, gzip_layer, tar_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(120)

DATES = {
    "old1": "2023-01-01T00:00:00Z",
    "old2": "2023-06-01T00:00:00Z",
    "mid": "2024-01-01T00:00:00Z",
    "new": "2024-06-01T00:00:00Z",
}


@pytest.fixture
def repo(
    request: pytest.FixtureRequest, registry: LocalRegistry, client: rk.Client, tmp_path: Path
) -> tuple[str, dict[str, str]]:
    """A repository with four dated images, plus ``alias`` sharing ``new``'s digest."""
    layer = gzip_layer(tar_layer({"hello.txt": b"hello\n"}))
    images = {name: build_image([layer], created=when) for name, when in DATES.items()}
    layout = write_oci_layout(tmp_path / "layout", list(images.items()))
    name = f"{registry.host}/retention/{request.node.name.replace('_', '-').lower()[:50]}"
    push(layout, name, all_tags=True, client=client)
    tag(f"{name}:new", "alias", client=client)
    digests = {n: i.digest for n, i in images.items()}
    digests["alias"] = digests["new"]
    return name, digests


def _head(client: rk.Client, name: str, tag_name: str) -> str | None:
    ref = rk.parse_reference(f"{name}:{tag_name}")
    found = client.registry(ref).head_manifest(ref.repository, tag_name)
    return found.digest if found else None


def test_plan_never_drops_a_digest_a_kept_tag_needs(
    repo: tuple[str, dict[str, str]], client: rk.Client
) -> None:
    name, digests = repo
    plan = retention_plan(name, keep_last=1, keep=["old1"], client=client)
    assert list(plan.columns[:4]) == ["tag", "date", "size", "action"]  # contract v2
    assert str(plan["date"].dtype) == "datetime64[ns, UTC]"
    assert (plan["date_source"] == "created").all() and plan["pushed"].isna().all()
    assert plan["size"].dtype == "int64"
    assert isinstance(plan["action"].dtype, pd.CategoricalDtype)
    actions = dict(zip(plan["tag"], plan["action"].astype(str), strict=True))
    # keep_last counts images: "new" and "alias" are one image, kept with both tags.
    assert actions == {
        "new": "keep",
        "alias": "keep",
        "mid": "delete",
        "old2": "delete",
        "old1": "keep",
    }
    assert list(plan["tag"]) == ["alias", "new", "mid", "old2", "old1"]  # newest image first

    result = apply(plan, client=client)
    assert isinstance(result, ApplyResult)
    assert sorted(result.tags) == ["mid", "old2"]
    assert _head(client, name, "new") == _head(client, name, "alias") == digests["new"]
    assert _head(client, name, "old1") == digests["old1"]
    for gone in ("mid", "old2"):
        assert _head(client, name, gone) is None
    assert "garbage collection" in str(result)


def test_older_than_keeps_newer_tags(repo: tuple[str, dict[str, str]], client: rk.Client) -> None:
    name, _ = repo
    cutoff = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    plan = retention_plan(name, older_than=cutoff, client=client)
    actions = {r.tag: r.action for r in plan.itertuples()}
    assert actions == {
        "new": "keep",
        "alias": "keep",
        "mid": "keep",
        "old2": "delete",
        "old1": "delete",
    }


def test_no_rule_deletes_nothing(repo: tuple[str, dict[str, str]], client: rk.Client) -> None:
    name, _ = repo
    plan = retention_plan(name, client=client)
    assert {r.action for r in plan.itertuples()} == {"keep"}


def test_apply_respects_a_tag_added_after_planning(
    repo: tuple[str, dict[str, str]], client: rk.Client
) -> None:
    name, digests = repo
    plan = retention_plan(name, keep_last=1, client=client)  # one image: new and alias
    assert dict(zip(plan["tag"], plan["action"].astype(str), strict=True))["mid"] == "delete"
    tag(f"{name}:mid", "pinned-later", client=client)
    result = apply(plan[plan["tag"] == "mid"], client=client)  # filtering keeps attrs
    assert _head(client, name, "pinned-later") == digests["mid"]
    assert _head(client, name, "mid") is None
    assert any("pinned-later" in s for s in result.skipped)  # type: ignore[union-attr]


def test_referrers_tags_follow_their_subject(registry: LocalRegistry) -> None:
    """The sha256-<hex> referrers tag stays while its image stays, and goes with it."""
    from registrykit.lab import samples

    with rk.Client(cache_dir=None) as client:
        samples.push(registry, [*samples.webapp(), *samples.signature()], client=client)
        repo = f"{registry.host}/samples/webapp"
        subject = samples.webapp()[-1].digest
        referrers_tag = subject.replace(":", "-")
        kept = retention_plan(repo, keep_last=1, client=client).set_index("tag")
        assert kept.loc[referrers_tag, "action"] == "keep"
        assert "referrers of" in kept.loc[referrers_tag, "reason"]
        dropped = retention_plan(repo, keep=["v1.0.0"], older_than="1d", client=client)
        dropped = dropped.set_index("tag")
        assert dropped.loc[referrers_tag, "action"] == "delete"
        assert dropped.loc["v1.0.0", "action"] == "keep"
