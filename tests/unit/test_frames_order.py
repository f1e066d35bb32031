"""Issue 11: one tag order, images not tags, readable frames (records faked, no registry)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from support.internals import (
    AuditResult,
    Descriptor,
    ImageRecord,
    analysis,
    audit,
    order_tags,
    referrers_subject,
    retention,
)
from support.internals import mediatypes as mt

from registrykit.frames import listing, readable
from registrykit.frames.plans import plan_frame

MiB = 1024**2
SUBJECT = "sha256:" + "5" * 64
REFERRERS_TAG = "sha256-" + "5" * 64
IMAGE = "application/vnd.oci.image.layer.v1.tar+gzip"


def _when(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day, tzinfo=dt.UTC)


def _layer(name: str, size: int) -> Descriptor:
    return Descriptor(IMAGE, "sha256:" + name * 64, size)


def _record(
    tag: str,
    digest: str,
    created: dt.datetime | None,
    layers: tuple[Descriptor, ...],
    *,
    platform: str | None = "linux/amd64",
    artifact_type: str | None = None,
) -> ImageRecord:
    return ImageRecord(
        repository="samples/app",
        tag=tag,
        digest=digest,
        media_type=mt.OCI_MANIFEST,
        platform=platform,
        image_digest=digest,
        created=created,
        size=100 + sum(d.size for d in layers),
        layers=layers,
        config_digest="sha256:c" + digest[-63:],
        artifact_type=artifact_type,
    )


BASE, APP1, APP2, APP3 = _layer("b", 4 * MiB), _layer("1", MiB), _layer("2", MiB), _layer("3", 2)
SIG = _layer("9", 300)


def _webapp() -> list[ImageRecord]:
    """Storage order, as a registry returns it: three images, one with five tags, a signature."""
    newest = "sha256:" + "5" * 64
    return [
        _record("latest", newest, _when(20), (BASE, APP3)),
        _record("v1.0.0", "sha256:" + "a" * 64, _when(1), (BASE, APP1)),
        _record("3f2a9c1", newest, _when(20), (BASE, APP3)),
        _record(REFERRERS_TAG, "sha256:" + "e" * 64, None, (SIG,), platform=None),
        _record("v1.2.0", newest, _when(20), (BASE, APP3)),
        _record("2024-01-20", newest, _when(20), (BASE, APP3)),
        _record("v1.1.0", "sha256:" + "d" * 64, _when(10), (BASE, APP1, APP2)),
        _record("stable", newest, _when(20), (BASE, APP3)),
    ]


# -- the one order --------------------------------------------------------------------


def test_order_without_dates_is_by_version_then_kind_then_natural() -> None:
    tags = ["alpha", "v1.9.0", "latest", REFERRERS_TAG, "3f2a9c1", "v1.10.0", "stable"]
    tags += ["2024-05-13", "v1.10.0-rc.1", "2024-06-01", "build2", "build10"]
    assert order_tags(tags) == [
        "v1.10.0",
        "v1.10.0-rc.1",
        "v1.9.0",
        "latest",
        "stable",
        "2024-06-01",
        "2024-05-13",
        "alpha",
        "build2",
        "build10",
        "3f2a9c1",
        REFERRERS_TAG,
    ]


def test_order_with_dates_is_newest_first_undated_last_ties_by_version() -> None:
    dates = {"old": _when(1), "v2.0.0": _when(5), "latest": _when(5), "none": None}
    assert order_tags(["none", "latest", "old", "v2.0.0", "v1.0.0"], dates) == [
        "v2.0.0",
        "latest",
        "old",
        "v1.0.0",
        "none",
    ]


def test_referrers_subject() -> None:
    assert referrers_subject(REFERRERS_TAG) == SUBJECT
    assert referrers_subject(REFERRERS_TAG + ".sig") == SUBJECT
    assert referrers_subject("sha256-1234") is None
    assert referrers_subject("v1.0.0") is None


# -- tag history: one row per image -----------------------------------------------------


def test_tag_history_is_one_row_per_image_with_the_change_on_it() -> None:
    rows = analysis.tag_history_records(_webapp())
    assert [r["tag"] for r in rows] == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert rows[-1]["tags"] == ["v1.2.0", "latest", "stable", "2024-01-20", "3f2a9c1"]
    assert rows[0]["size_change"] is None
    assert rows[1]["size_change"] == MiB
    assert rows[2]["size_change"] == APP3.size - APP1.size - APP2.size
    assert [r["layers_added"] for r in rows] == [2, 1, 1]


def test_tag_history_puts_undated_images_last() -> None:
    records = [
        _record("nodate", "sha256:" + "f" * 64, None, (BASE,)),
        _record("v2", "sha256:" + "a" * 64, _when(2), (BASE, APP1)),
        _record("v1", "sha256:" + "d" * 64, _when(1), (BASE,)),
    ]
    assert [r["tag"] for r in analysis.tag_history_records(records)] == ["v1", "v2", "nodate"]


# -- retention over images -------------------------------------------------------------


@pytest.fixture
def faked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "get_client", lambda client: None)
    monkeypatch.setattr(retention, "tag_records", lambda *a, **k: _webapp())


def _actions(plan: retention.Plan) -> dict[str, str]:
    return {r.tag: r.action for r in plan.rows}


def test_keep_last_counts_images_and_keeps_all_their_tags(faked: None) -> None:
    plan = retention.plan_retention("example.com/samples/app", keep_last=1)
    actions = _actions(plan)
    assert [r.tag for r in plan.rows] == [
        "v1.2.0",
        "latest",
        "stable",
        "2024-01-20",
        "3f2a9c1",
        REFERRERS_TAG,
        "v1.1.0",
        "v1.0.0",
    ]
    assert {actions[t] for t in ("v1.2.0", "latest", "stable", "2024-01-20", "3f2a9c1")} == {"keep"}
    assert actions[REFERRERS_TAG] == "keep"
    assert actions["v1.1.0"] == actions["v1.0.0"] == "delete"
    # APP1 is in both deleted images, APP2 in one; BASE is shared with the kept image.
    configs = 2 * 100
    assert plan.freed_bytes == APP1.size + APP2.size + configs


def test_keep_last_two_keeps_the_second_image(faked: None) -> None:
    actions = _actions(retention.plan_retention("example.com/samples/app", keep_last=2))
    assert actions["v1.1.0"] == "keep" and actions["v1.0.0"] == "delete"


def test_referrers_go_with_their_subject_and_the_plan_says_so(faked: None) -> None:
    plan = retention.plan_retention("example.com/samples/app", older_than=dt.datetime(2025, 1, 1))
    row = next(r for r in plan.rows if r.tag == REFERRERS_TAG)
    assert row.action == "delete" and "referrers of v1.2.0" in row.reason
    assert set(_actions(plan).values()) == {"delete"}
    assert plan.freed_bytes == sum(d.size for d in (BASE, APP1, APP2, APP3, SIG)) + 4 * 100


def test_a_keep_match_holds_its_image_and_untags_the_siblings(faked: None) -> None:
    plan = retention.plan_retention(
        "example.com/samples/app", keep=["stable"], older_than=dt.datetime(2025, 1, 1)
    )
    actions = _actions(plan)
    assert actions["stable"] == "keep"
    assert actions["v1.2.0"] == actions["latest"] == "untag"
    assert actions[REFERRERS_TAG] == "keep"  # its subject stays


def test_an_age_rule_never_deletes_an_undated_image(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [_record("nodate", "sha256:" + "f" * 64, None, (BASE,))]
    monkeypatch.setattr(retention, "get_client", lambda client: None)
    monkeypatch.setattr(retention, "tag_records", lambda *a, **k: records)
    plan = retention.plan_retention("example.com/x", older_than="1d")
    assert _actions(plan) == {"nodate": "keep"}
    assert "no date" in plan.rows[0].reason and plan.freed_bytes == 0


def test_retention_frame_reads_first_and_carries_freed_bytes(faked: None) -> None:
    frame = plan_frame(retention.plan_retention("example.com/samples/app", keep_last=1))
    assert list(frame.columns) == [
        "tag",
        "date",
        "size",
        "action",
        "method",
        "reason",
        "date_source",
        "created",
        "pushed",
        "digest",
    ]
    assert frame.attrs["freed_bytes"] == APP1.size + APP2.size + 200
    assert readable(frame)["tag"].iloc[5] == "sha256-555555555555…"


# -- tag report ------------------------------------------------------------------------


def test_tag_kinds_do_not_fail_on_a_signature_tag() -> None:
    records = _webapp()
    names = [r.tag for r in records if r.tag]
    rows = {r["check"]: r for r in analysis._report_rows(records, names)}
    assert rows["tag kinds"]["passed"]
    assert "1 referrers tags not counted" in rows["tag kinds"]["detail"]


# -- frames ----------------------------------------------------------------------------


def test_tags_newest_first_readable_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [r for r in _webapp() if r.platform is not None]
    monkeypatch.setattr(listing, "tag_records", lambda *a, **k: records)
    df = listing.tags("example.com/samples/app")
    assert df["tag"].tolist() == [
        "v1.2.0",
        "latest",
        "stable",
        "2024-01-20",
        "3f2a9c1",
        "v1.1.0",
        "v1.0.0",
    ]
    assert list(df.columns)[:4] == ["tag", "date", "size", "platform"]  # contract v2
    assert "repository" not in df and "artifact_type" not in df  # no NaN noise
    assert df.attrs["repository"] == "example.com/samples/app"


def test_tags_keeps_artifact_type_when_a_row_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [
        _record(REFERRERS_TAG, "sha256:" + "e" * 64, None, (SIG,), platform=None, artifact_type="x")
    ]
    monkeypatch.setattr(listing, "tag_records", lambda *a, **k: records)
    assert listing.tags("example.com/samples/app")["artifact_type"].tolist() == ["x"]


def test_tag_history_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "tag_records", lambda *a, **k: _webapp())
    df = listing.tag_history("example.com/samples/app")
    assert df["tag"].tolist() == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert pd.isna(df["size_change"].iloc[0]) and str(df["size_change"].dtype) == "Int64"
    shown = readable(df)
    assert shown["tags"].iloc[-1] == "v1.2.0, latest, stable, 2024-01-20, 3f2a9c1"
    assert shown["size_change"].iloc[1] == "1 MiB"
    assert shown["digest"].iloc[0] == "sha256:" + "a" * 12


def _audit_rows() -> list[dict[str, Any]]:
    return [
        {
            "repository": f"reg.example.com:5000/{name}",
            "tags": 1,
            "images": 1,
            "logical_size": stored,
            "stored_size": stored,
            "shared_size": 0,
            "unique_size": stored,
        }
        for name, stored in (("a", 10), ("b", 3000), ("c", 200))
    ]


class _Lab:
    """What rk.LocalRegistry looks like to the frames: a ``host``."""

    host = "reg.example.com:5000"


def test_audit_largest_first_without_the_host_and_accepts_a_registry_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(listing, "get_client", lambda client: None)
    monkeypatch.setattr(listing, "audit_targets", lambda target, client: seen.append(target) or [])
    monkeypatch.setattr(
        audit, "audit_records", lambda *a, **k: AuditResult(_audit_rows(), 3100, 3210)
    )
    df = listing.audit(_Lab())
    assert seen == ["reg.example.com:5000"]
    assert df["repository"].tolist() == ["b", "c", "a"]
    assert df.attrs["registry"] == "reg.example.com:5000"
    total = listing.audit_total(df)
    assert total.shape == (1, 4)
    assert total.index.tolist() == ["reg.example.com:5000"]
    assert total["stored_size"].dtype == "int64" and total["stored_size"].iloc[0] == 3100
    assert total["dedup_ratio"].iloc[0] == round(3210 / 3100, 2)
    assert readable(total)["stored_size"].iloc[0] == "3.03 KiB"


def test_catalog_accepts_a_registry_object(monkeypatch: pytest.MonkeyPatch) -> None:
    def records(registry: str, pattern: Any, client: Any) -> list[dict[str, str]]:
        return [{"registry": registry, "repository": "samples/app"}]

    monkeypatch.setattr(listing, "catalog_records", records)
    assert listing.catalog(_Lab())["registry"].tolist() == ["reg.example.com:5000"]


def test_readable_sizes_digests_percent_and_index() -> None:
    df = pd.DataFrame(
        {
            "size": [7_691_696, 512],
            "percent": [13.52, 86.48],
            "digest": ["sha256:" + "a" * 64, None],
        }
    )
    df.index.name = "layer"
    shown = readable(df)
    assert shown.columns.tolist() == ["layer", "size", "percent", "digest"]
    assert shown["size"].tolist() == ["7.34 MiB", "512 B"]
    assert shown["percent"].tolist() == ["13.5%", "86.5%"]
    assert shown["digest"].tolist() == ["sha256:aaaaaaaaaaaa", ""]
    assert df["size"].tolist() == [7_691_696, 512]  # the frame itself is untouched


def test_readable_shows_missing_labels_blank() -> None:
    df = pd.DataFrame(
        {
            "date_source": pd.Categorical(["pushed", None], categories=["pushed", "created"]),
            "reason": ["kept", None],
        }
    )
    shown = readable(df)
    assert shown["date_source"].tolist() == ["pushed", ""]
    assert shown["reason"].tolist() == ["kept", ""]
    assert df["reason"].isna().tolist() == [False, True]  # the frame itself is untouched


def test_readable_is_the_documented_way() -> None:
    import registrykit.frames as frames

    assert frames.readable is readable
    for name in ("tags", "tag_history", "layers", "audit", "retention_plan", "sync_plan"):
        assert "rk.frames.readable" in (getattr(frames, name).__doc__ or ""), name
