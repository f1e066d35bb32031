"""Retention over whole images on a real registry, skopeo as the referee for what is left.

The repository holds four images built by the sample builder: ``v1.0.0``
(2023), a two-platform index tagged ``v2.0.0`` and ``stable`` (2024-01) with a
cosign-style signature under its ``sha256-<hex>`` referrers tag, ``v3.0.0``
and ``latest`` (2024-06), and ``repro``, stamped with ko's fixed
1970-01-01 ``created`` (no date at all).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from support.internals import untag
from support.skopeo import Skopeo

import registrykit as rk
from registrykit.lab import samples
from registrykit.lab.build import Image, build_image, build_index, gzip_layer, tar_layer
from registrykit.lab.samples import Sample

pytestmark = pytest.mark.timeout(180)

REPO = "cleanup/app"
BASE = gzip_layer(tar_layer({"base/os-release": b"ID=sample\n" * 4000}))


def _image(name: str, created: str, arch: str = "amd64") -> Image:
    app = gzip_layer(tar_layer({f"app/{name}": f"{name}-{arch}\n".encode() * 3000}))
    return build_image([BASE, app], architecture=arch, created=created)


V1 = Sample(REPO, ("v1.0.0",), _image("v1", "2023-01-01T00:00:00Z"), "oldest")
V2 = Sample(
    REPO,
    ("v2.0.0", "stable"),
    build_index([_image("v2", "2024-01-01T00:00:00Z", a) for a in ("amd64", "arm64")]),
    "a multi-arch release",
)
V3 = Sample(REPO, ("v3.0.0", "latest"), _image("v3", "2024-06-01T00:00:00Z"), "newest")
REPRO = Sample(REPO, ("repro",), _image("repro", "1970-01-01T00:00:00Z"), "ko's fixed date")
SIGNED = samples.signature(V2)
REFERRERS_TAG = V2.digest.replace(":", "-", 1)
ALL = [V1, V2, V3, REPRO, *SIGNED]


@pytest.fixture
def lab(skopeo: Skopeo, client: rk.Client) -> Iterator[str]:
    """A registry of its own (these tests delete), seeded with the images above."""
    with rk.LocalRegistry() as reg:
        skopeo.add(reg)
        samples.push(reg, ALL, client=client)
        yield f"{reg.host}/{REPO}"


def _skopeo_tags(skopeo: Skopeo, repo: str) -> set[str]:
    ref = f"docker://{repo}"
    out = skopeo.run("list-tags", *skopeo._flags(ref, "", None), ref).stdout
    return set(json.loads(out)["Tags"])


def _skopeo_has(skopeo: Skopeo, repo: str, digest: str) -> bool:
    ref = f"docker://{repo}@{digest}"
    proc: subprocess.CompletedProcess[str] = skopeo.run(
        "inspect", "--raw", *skopeo._flags(ref, "", None), ref, check=False
    )
    return proc.returncode == 0


def _blobs(items: list[Sample]) -> dict[str, int]:
    return {b.digest: b.size for s in items for b in s.item.blobs()}


def test_the_plan_shows_dates_and_leaves_the_undated_image_last(lab: str, client) -> None:
    plan = rk.retention_plan(lab, older_than="1d", client=client)
    assert list(plan.columns[:5]) == ["tag", "date", "size", "action", "method"]
    assert plan["tag"].iloc[-1] == "repro"  # no date: after every dated image
    repro = plan.set_index("tag").loc["repro"]
    assert pd.isna(repro["date"]) and pd.isna(repro["created"]) and pd.isna(repro["date_source"])
    assert repro["action"] == "keep" and "no date" in repro["reason"]
    dated = plan[~plan["tag"].isin(["repro", REFERRERS_TAG])]  # a referrers list has no date
    assert dated["date"].notna().all() and (dated["date_source"] == "created").all()
    assert plan["pushed"].isna().all()  # the CNCF registry has no push time
    assert plan.attrs["freed_bytes"] > 0


def test_keep_last_keeps_images_whole_and_frees_only_what_they_alone_hold(
    lab: str, client, skopeo: Skopeo
) -> None:
    plan = rk.retention_plan(lab, keep_last=2, older_than="1d", client=client)
    actions = dict(zip(plan["tag"], plan["action"].astype(str), strict=True))
    assert actions == {
        "v3.0.0": "keep",
        "latest": "keep",
        "v2.0.0": "keep",
        "stable": "keep",
        REFERRERS_TAG: "keep",
        "v1.0.0": "delete",
        "repro": "keep",  # older than a day, but undated: an age rule never deletes it
    }
    kept = _blobs([V2, V3, REPRO, *SIGNED])
    freed = {d: s for d, s in _blobs([V1]).items() if d not in kept}
    assert BASE.blob.digest not in freed and plan.attrs["freed_bytes"] == sum(freed.values())
    assert plan.set_index("tag").loc["v1.0.0", "method"] == "manifest delete"

    result = rk.apply(plan, client=client)
    assert result.tags == ["v1.0.0"]  # type: ignore[union-attr]
    assert _skopeo_tags(skopeo, lab) == set(actions) - {"v1.0.0"}
    assert not _skopeo_has(skopeo, lab, V1.digest)
    for child in V2.item.images:  # type: ignore[union-attr]
        assert _skopeo_has(skopeo, lab, child.digest)  # the index kept its platforms
    assert _skopeo_has(skopeo, lab, SIGNED[0].digest)  # and its signature


def test_a_deleted_index_takes_its_signature_and_frees_its_platforms(
    lab: str, client, skopeo: Skopeo
) -> None:
    plan = rk.retention_plan(
        lab, keep=["v3.0.0", "v1.0.0", "repro"], older_than="1d", client=client
    )
    rows = plan.set_index("tag")
    assert rows.loc[["v2.0.0", "stable", REFERRERS_TAG], "action"].tolist() == ["delete"] * 3
    assert "deleted with it" in rows.loc[REFERRERS_TAG, "reason"]
    kept = _blobs([V1, V3, REPRO])
    freed = {d: s for d, s in _blobs([V2, *SIGNED]).items() if d not in kept}
    assert plan.attrs["freed_bytes"] == sum(freed.values())

    rk.apply(plan, client=client)
    # latest shares v3.0.0's image: the keep match holds the image, latest is untagged.
    assert _skopeo_tags(skopeo, lab) == {"v3.0.0", "v1.0.0", "repro"}
    assert not _skopeo_has(skopeo, lab, V2.digest)
    assert not _skopeo_has(skopeo, lab, SIGNED[0].digest)  # no signature of nothing


def test_untag_on_distribution_2_probes_and_uses_the_throwaway(
    lab: str, client, skopeo: Skopeo
) -> None:
    plan = rk.retention_plan(lab, keep=["stable"], older_than="1d", client=client)
    rows = plan.set_index("tag")
    assert rows.loc["v2.0.0", "action"] == "untag"
    assert rows.loc["v2.0.0", "method"] in ("tag delete, else manifest delete", "manifest delete")
    result = rk.apply(plan, client=client)
    untagged = {r.removed_tags[0]: r.method for r in result.deleted if r.untag_only}  # type: ignore[union-attr]
    # distribution 2.8 answers a tag DELETE with 400 DIGEST_INVALID (distribution#3174)
    assert untagged == {"v2.0.0": "manifest delete"}
    left = _skopeo_tags(skopeo, lab)
    assert "stable" in left and "v2.0.0" not in left and REFERRERS_TAG in left
    assert _skopeo_has(skopeo, lab, V2.digest)
    # Probed once: from now on previews name the method this registry uses.
    preview = rk.delete(f"{lab}:stable", dry_run=True, untag_only=True, client=client)
    assert preview.method == "manifest delete"


FAKE_AWS = """#!{python}
import json, os, sys
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
wanted = sys.argv[sys.argv.index("--image-ids") + 1:]
ids = [dict(p.split("=", 1) for p in a.split(",")) for a in wanted]
print(json.dumps({{"imageIds": ids, "failures": []}}))
"""


def test_ecr_untag_runs_batch_delete_image_through_the_aws_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client
) -> None:
    """A fake ``aws`` answering as BatchDeleteImage does (AWS API reference)."""
    aws = tmp_path / "aws"
    aws.write_text(FAKE_AWS.format(python=sys.executable))
    aws.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("FAKE_AWS_LOG", str(tmp_path / "argv.log"))
    ref = rk.parse_reference("123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app")
    digest = "sha256:" + "a" * 64
    done, skipped = untag.remove_tags(client, ref, {"v1": digest, "latest": digest})
    assert skipped == [] and [r.method for r in done] == ["ecr batch-delete-image"] * 2
    (argv,) = [json.loads(line) for line in (tmp_path / "argv.log").read_text().splitlines()]
    assert argv[:3] == ["ecr", "batch-delete-image", "--repository-name"]
    assert argv[-2:] == [
        f"imageDigest={digest},imageTag=v1",
        f"imageDigest={digest},imageTag=latest",
    ]
