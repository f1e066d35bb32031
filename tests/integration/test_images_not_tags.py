"""Issue 11 against a real registry: images not tags, one order, readable frames.

The samples' webapp has five releases; v1.4.0 also carries latest, stable,
a date and a git SHA, and a cosign signature under its ``sha256-<hex>``
referrers tag.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from support.internals import human_size, order_tags

import registrykit as rk
from registrykit.lab import samples
from registrykit.lab.build import build_image, gzip_layer, tar_layer

pytestmark = pytest.mark.timeout(180)

V140_TAGS = ["v1.4.0", "latest", "stable", "2024-05-13", "3f2a9c1"]
RELEASES = ["v1.4.0", "v1.3.0", "v1.2.0", "v1.1.0", "v1.0.0"]


def _seed(lab: rk.LocalRegistry, client: rk.Client) -> str:
    samples.push(lab, [*samples.webapp(), *samples.signature()], client=client)
    return f"{lab.host}/samples/webapp"


@pytest.fixture(scope="module")
def lab() -> Iterator[rk.LocalRegistry]:
    """A registry of its own: other modules delete from the shared one."""
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        _seed(reg, client)
        samples.push(reg, [samples.api()], client=client)
        yield reg


@pytest.fixture
def client() -> Iterator[rk.Client]:
    with rk.Client(cache_dir=None) as c:
        yield c


def _referrers_tag() -> str:
    return samples.webapp()[-1].digest.replace(":", "-", 1)


def _sizes() -> dict[str, int]:
    return {s.tags[0]: s.item.size for s in samples.webapp()}


def _blobs(tags: list[str]) -> dict[str, int]:
    return {b.digest: b.size for s in samples.webapp() if s.tags[0] in tags for b in s.item.blobs()}


def test_tag_history_credits_each_image_its_change(lab: rk.LocalRegistry, client) -> None:
    df = rk.tag_history(f"{lab.host}/samples/webapp", client=client)
    assert df["tag"].tolist() == RELEASES[::-1]  # oldest to newest, one row per image
    assert df["tags"].iloc[-1] == V140_TAGS
    sizes = _sizes()
    change = dict(zip(df["tag"], df["size_change"], strict=True))
    assert pd.isna(change["v1.0.0"])
    assert change["v1.4.0"] == sizes["v1.4.0"] - sizes["v1.3.0"] > 0
    assert human_size(change["v1.3.0"]) == "5.78 MiB"


def test_tags_newest_first_without_storage_order(lab: rk.LocalRegistry, client) -> None:
    df = rk.tags(f"{lab.host}/samples/webapp", client=client)
    assert df["tag"].tolist() == [*V140_TAGS, *RELEASES[1:], _referrers_tag()]
    assert list(df.columns[:4]) == ["tag", "date", "size", "platform"]  # contract v2
    assert "repository" not in df and df.attrs["repository"] == f"{lab.host}/samples/webapp"
    assert df["artifact_type"].notna().sum() == 1  # only the signature is an artifact
    api = rk.tags(f"{lab.host}/samples/api", client=client)
    assert "artifact_type" not in api  # no NaN noise where nothing is an artifact


def test_readable_tags_have_human_sizes_and_short_digests(lab: rk.LocalRegistry, client) -> None:
    shown = rk.frames.readable(rk.tags(f"{lab.host}/samples/webapp", client=client))
    row = shown[shown["tag"] == "v1.3.0"].iloc[0]
    assert row["size"].endswith("MiB") and row["digest"] == "sha256:bd2d5be40a3f"
    assert shown["tag"].iloc[-1].endswith("…")  # the referrers tag, shortened


def test_keep_last_keeps_images_with_all_their_tags_and_referrers(
    lab: rk.LocalRegistry, client
) -> None:
    plan = rk.retention_plan(f"{lab.host}/samples/webapp", keep_last=2, client=client)
    actions = dict(zip(plan["tag"], plan["action"].astype(str), strict=True))
    assert {actions[t] for t in [*V140_TAGS, "v1.3.0", _referrers_tag()]} == {"keep"}
    assert {actions[t] for t in ["v1.2.0", "v1.1.0", "v1.0.0"]} == {"delete"}
    kept = _blobs(["v1.4.0", "v1.3.0"])
    freed = {d: s for d, s in _blobs(["v1.2.0", "v1.1.0", "v1.0.0"]).items() if d not in kept}
    assert plan.attrs["freed_bytes"] == sum(freed.values())
    assert plan["tag"].tolist()[:6] == [*V140_TAGS, _referrers_tag()]


def test_referrers_are_deleted_with_their_subject(client) -> None:
    with rk.LocalRegistry() as own:
        repo = _seed(own, client)
        plan = rk.retention_plan(repo, keep=["v1.0.0"], older_than="1d", client=client)
        row = plan.set_index("tag").loc[_referrers_tag()]
        assert row["action"] == "delete" and "deleted with it" in row["reason"]
        rk.apply(plan, client=client)
        left = rk.tags(repo, client=client)["tag"].tolist()
        assert left == ["v1.0.0"]  # no signature left pointing at nothing


def test_a_keep_match_untags_the_other_tags_of_its_image(lab: rk.LocalRegistry, client) -> None:
    plan = rk.retention_plan(
        f"{lab.host}/samples/webapp", keep=["stable"], older_than="1d", client=client
    )
    actions = dict(zip(plan["tag"], plan["action"].astype(str), strict=True))
    assert actions["stable"] == "keep"
    assert {actions[t] for t in V140_TAGS if t != "stable"} == {"untag"}
    assert actions[_referrers_tag()] == "keep"


def test_an_age_rule_never_deletes_an_undated_image(client) -> None:
    with rk.LocalRegistry() as own:
        undated = build_image([gzip_layer(tar_layer({"a": b"a"}))], created="1970-01-01T00:00:00Z")
        reg = client.registry(own.host)
        for blob in undated.blobs():
            reg.upload_blob("app", blob.digest, blob.size, blob.data)
        reg.put_manifest("app", "repro", undated.manifest.data, undated.media_type)
        plan = rk.retention_plan(f"{own.host}/app", older_than="1d", client=client)
        assert plan["action"].astype(str).tolist() == ["keep"]
        assert plan.attrs["freed_bytes"] == 0


def test_registry_functions_take_a_local_registry(lab: rk.LocalRegistry, client) -> None:
    assert "samples/webapp" in set(rk.catalog(lab, client=client)["repository"])
    audit = rk.audit(lab, client=client)
    assert audit["repository"].tolist()[0] == "samples/webapp"  # largest first
    assert audit.attrs["registry"] == lab.host
    assert not audit["repository"].str.startswith(lab.host).any()
    total = rk.audit_total(audit)
    assert total.shape == (1, 4) and total.index.tolist() == [lab.host]


def test_tag_report_ignores_the_signature_tag(lab: rk.LocalRegistry, client) -> None:
    report = rk.tag_report(f"{lab.host}/samples/webapp", client=client).set_index("check")
    assert bool(report.loc["tag kinds", "passed"])
    assert "referrers" in report.loc["tag kinds", "detail"]


def test_sync_plan_uses_the_one_order(lab: rk.LocalRegistry, client) -> None:
    plan = rk.sync_plan(f"{lab.host}/samples/webapp", f"{lab.host}/mirror/webapp", client=client)
    assert plan["tag"].tolist() == order_tags(plan["tag"])
    assert plan["tag"].tolist()[:2] == ["v1.4.0", "v1.3.0"]
