"""Tag kinds, tag history, history, layers, diff, tag report and the storage audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import registrykit as rk
from registrykit.frames import listing
from registrykit.lab.build import (
    HistoryStep,
    Image,
    build_image,
    gzip_layer,
    tar_layer,
    write_oci_layout,
)

BASE = gzip_layer(tar_layer({"etc/os-release": b"ID=base\n", "bin/sh": b"#" * 700}))
APP1 = gzip_layer(tar_layer({"app/v1": b"1" * 300}))
APP2 = gzip_layer(tar_layer({"app/extra": bytes(range(256)) * 40}))
APP3 = gzip_layer(tar_layer({"app/v3": b"3" * 50}))
OTHER = gzip_layer(tar_layer({"srv/other": b"o" * 90}))


def _image(*layers, created: str = "2024-01-01T00:00:00Z") -> Image:
    return build_image(list(layers), created=created)


HISTORY_IMAGES = {
    "v1.0.0": _image(BASE, APP1, created="2024-01-01T00:00:00Z"),
    "v1.1.0": _image(BASE, APP1, APP2, created="2024-02-01T00:00:00Z"),
    "v1.2.0": _image(BASE, APP3, created="2024-03-01T00:00:00Z"),
    "repro": _image(BASE, created="1970-01-01T00:00:00Z"),
}
HISTORY_IMAGES["latest"] = HISTORY_IMAGES["v1.2.0"]


def _push(skopeo, layout: Path, host: str, repo: str, images: dict[str, Image]) -> None:
    write_oci_layout(layout, list(images.items()))
    for tag in images:
        skopeo.copy(f"oci:{layout}:{tag}", f"docker://{host}/{repo}:{tag}", "--preserve-digests")


@pytest.fixture(scope="module")
def history_repo(registry: rk.LocalRegistry, skopeo, tmp_path_factory) -> str:
    _push(skopeo, tmp_path_factory.mktemp("hist"), registry.host, "analysis/app", HISTORY_IMAGES)
    return f"{registry.host}/analysis/app"


# -- tag kinds ----------------------------------------------------------------------


# -- tag history --------------------------------------------------------------------


def test_tag_history_orders_by_created_and_diffs_layers(history_repo: str, client) -> None:
    df = listing.tag_history(history_repo, client=client)
    assert list(df.columns) == [
        "tag",
        "tags",
        "date",
        "date_source",
        "created",
        "pushed",
        "size",
        "size_change",
        "layers",
        "layers_added",
        "layers_removed",
        "digest",
    ]
    # One row per image: latest and v1.2.0 are one digest, best tag first.
    assert df["tag"].tolist() == ["v1.0.0", "v1.1.0", "v1.2.0", "repro"]
    assert df["tags"].tolist() == [["v1.0.0"], ["v1.1.0"], ["v1.2.0", "latest"], ["repro"]]
    sizes = {t: HISTORY_IMAGES[t].size for t in df["tag"]}
    assert df["size"].tolist() == list(sizes.values())
    assert pd.isna(df["size_change"].iloc[0])
    assert str(df["size_change"].dtype) == "Int64"
    assert df["size_change"].iloc[1] == sizes["v1.1.0"] - sizes["v1.0.0"] > 0
    assert df["size_change"].iloc[2] == sizes["v1.2.0"] - sizes["v1.1.0"] < 0
    assert df["layers_added"].tolist() == [2, 1, 1, 0]
    assert df["layers_removed"].tolist() == [0, 0, 2, 1]
    assert df["layers"].tolist() == [2, 3, 2, 1]
    assert pd.isna(df["created"].iloc[-1])  # the 1970 epoch means unknown
    assert df["created"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC")


# -- history and layers -------------------------------------------------------------


def test_history_matches_skopeo(registry, fixture_images, skopeo, client) -> None:
    ref, _ = fixture_images.push_fixtures(registry, "analysis-fx")["single"]
    cfg = skopeo.inspect(f"docker://{ref}", "--config", "--raw")
    layers = skopeo.inspect(f"docker://{ref}", "--raw")["layers"]
    df = listing.history(ref, client=client)
    assert df["step"].tolist() == list(range(len(cfg["history"])))
    assert df["created_by"].tolist() == [h["created_by"] for h in cfg["history"]]
    assert df["empty_layer"].tolist() == [bool(h.get("empty_layer")) for h in cfg["history"]]
    made = df[~df["empty_layer"]]
    assert made["layer_digest"].tolist() == [x["digest"] for x in layers]
    assert made["size"].tolist() == [x["size"] for x in layers]
    empty = df[df["empty_layer"]]
    assert (empty["size"] == 0).all() and empty["layer_digest"].isna().all()
    assert df["cumulative_size"].iloc[-1] == sum(x["size"] for x in layers)
    assert (df["created"] == pd.Timestamp(cfg["history"][0]["created"])).all()


def test_layers_percent_and_created_by(registry, fixture_images, client) -> None:
    ref, _ = fixture_images.push_fixtures(registry, "analysis-fx")["single"]
    df = listing.layers(ref, client=client)
    assert list(df.columns) == ["size", "percent", "created_by", "media_type", "digest"]
    assert df.index.name == "layer" and df.index.tolist() == [0, 1, 2]
    assert df["created_by"].tolist() == ["ADD rootfs /", "COPY app /app", "RUN rm /app/data.bin"]
    # One decimal per layer, so the sum is 100 up to the rounding of each.
    assert df["percent"].sum() == pytest.approx(100.0, abs=0.05 * len(df))
    assert (df["percent"] == df["percent"].round(1)).all()
    assert str(df["media_type"].dtype) == "category"


def test_history_without_history_entries(registry, client) -> None:
    image = build_image([BASE, APP1], history=[HistoryStep("ADD /"), HistoryStep("RUN x")])
    bare = build_image([BASE, APP1])
    reg = client.registry(registry.host)
    for built, tag in ((image, "with"), (bare, "without")):
        for blob in built.blobs():
            reg.upload_blob("analysis/bare", blob.digest, blob.size, blob.data)
        reg.put_manifest("analysis/bare", tag, built.manifest.data, built.media_type)
    df = listing.history(f"{registry.host}/analysis/bare:without", client=client)
    assert df["layer_digest"].tolist() == [BASE.blob.digest, APP1.blob.digest]


def test_diff(history_repo: str, client) -> None:
    df = listing.diff(f"{history_repo}:v1.1.0", f"{history_repo}:v1.2.0", client=client)
    status = dict(zip(df["digest"], df["status"].astype(str), strict=True))
    assert status == {
        BASE.blob.digest: "common",
        APP1.blob.digest: "removed",
        APP2.blob.digest: "removed",
        APP3.blob.digest: "added",
    }
    assert list(df["status"].cat.categories) == ["added", "removed", "common"]
    assert df.set_index("digest").loc[APP3.blob.digest, "size"] == APP3.blob.size


# -- tag report ---------------------------------------------------------------------


def test_tag_report(history_repo: str, client) -> None:
    df = listing.tag_report(history_repo, client=client)
    checks = dict(zip(df["check"], df["passed"], strict=True))
    assert checks["semver tags present"]
    assert checks["latest on newest semver"]
    assert not checks["stable present"]
    detail = dict(zip(df["check"], df["detail"], strict=True))
    assert "v1.2.0" in detail["latest on newest semver"]


def test_tag_report_latest_behind(registry, skopeo, tmp_path, client) -> None:
    images = {"1.0.0": _image(BASE), "2.0.0": _image(BASE, APP1), "latest": _image(BASE)}
    _push(skopeo, tmp_path / "layout", registry.host, "analysis/behind", images)
    df = listing.tag_report(f"{registry.host}/analysis/behind", client=client)
    row = df[df["check"] == "latest on newest semver"].iloc[0]
    assert not row["passed"]
    assert "2.0.0" in row["detail"] and "1.0.0" in row["detail"]


# -- audit --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit_registry(skopeo, tmp_path_factory) -> Iterator[rk.LocalRegistry]:
    with rk.LocalRegistry() as reg:
        root = tmp_path_factory.mktemp("audit")
        a = {"1.0": _image(BASE, APP1), "1.1": _image(BASE, APP1, APP2), "same": _image(BASE, APP1)}
        b = {"1.0": _image(BASE, OTHER)}
        _push(skopeo, root / "a", reg.host, "team/a", a)
        _push(skopeo, root / "b", reg.host, "team/b", b)
        yield reg


def test_audit_counts_shared_blobs_once(audit_registry: rk.LocalRegistry, client) -> None:
    df = listing.audit(audit_registry.host, client=client)
    assert list(df.columns) == [
        "repository",
        "tags",
        "images",
        "logical_size",
        "stored_size",
        "shared_size",
        "unique_size",
    ]
    for column in df.columns[1:]:
        assert str(df[column].dtype) == "int64"
    host = audit_registry.host
    a10, a11 = _image(BASE, APP1), _image(BASE, APP1, APP2)
    b10 = _image(BASE, OTHER)
    assert df.attrs["registry"] == host  # names without the host, which is in attrs
    assert df["stored_size"].is_monotonic_decreasing  # largest first
    rows = df.set_index("repository")
    a = rows.loc["team/a"]
    assert (a["tags"], a["images"]) == (3, 2)  # "1.0" and "same" are one image
    assert a["logical_size"] == 2 * a10.size + a11.size
    # base and app1 once, though three tags use them; configs of 1.0 and same are one blob.
    assert a["stored_size"] == BASE.blob.size + APP1.blob.size + APP2.blob.size + (
        a10.config.size + a11.config.size
    )
    assert a["shared_size"] == BASE.blob.size
    b = rows.loc["team/b"]
    assert b["stored_size"] == BASE.blob.size + OTHER.blob.size + b10.config.size
    assert b["shared_size"] == BASE.blob.size
    total = df.attrs["total_stored_size"]
    assert total == a["stored_size"] + b["stored_size"] - BASE.blob.size
    summary = listing.audit_total(df)
    assert summary.shape == (1, 4)
    assert summary["stored_size"].item() == total
    assert summary["logical_size"].item() == a["logical_size"] + b["logical_size"]


def test_audit_of_a_list_and_of_one_repository(audit_registry, client) -> None:
    host = audit_registry.host
    one = listing.audit(f"{host}/team/b", client=client)
    assert one["repository"].tolist() == ["team/b"] and one.attrs["registry"] == host
    assert one["shared_size"].tolist() == [0]  # nothing else audited shares it
    both = listing.audit([f"{host}/team/a", f"{host}/team/b"], client=client)
    assert len(both) == 2
