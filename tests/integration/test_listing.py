"""catalog / tags / search / credentials frames, checked against skopeo and the registry."""

from __future__ import annotations

import re

import httpx
import pandas as pd
import pytest
from support import oci as mt
from support.internals import RegistryClient

import registrykit as rk
from registrykit.frames import listing
from registrykit.lab.build import (
    Blob,
    Image,
    build_image,
    canonical_json,
    gzip_layer,
    tar_layer,
)

# What a person reads first; artifact_type only when some row is an artifact.
TAG_COLUMNS = [  # contract v2, "Time": date first, then where it came from
    "tag",
    "date",
    "size",
    "platform",
    "layers",
    "tag_kind",
    "attestation",
    "date_source",
    "created",
    "pushed",
    "media_type",
    "digest",
    "image_digest",
]
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@pytest.fixture(scope="module")
def pushed(registry: rk.LocalRegistry, fixture_images) -> dict[str, tuple[str, str]]:
    return fixture_images.push_fixtures(registry, "listing")


def _repo(ref: str) -> str:
    return ref.rsplit(":", 1)[0]


def _put(reg: RegistryClient, repo: str, blobs: list[Blob], manifest: Blob, tag: str) -> None:
    for blob in blobs:
        reg.upload_blob(repo, blob.digest, blob.size, blob.data)
    reg.put_manifest(repo, tag, manifest.data, manifest.media_type)


def _push_image(reg: RegistryClient, repo: str, tag: str, image: Image) -> None:
    _put(reg, repo, list(image.blobs()), image.manifest, tag)


# -- tags against skopeo --------------------------------------------------------------


@pytest.mark.parametrize("name", ["single", "docker", "multi", "manifest-list"])
def test_tags_match_skopeo(name: str, pushed, skopeo, client: rk.Client) -> None:
    ref, digest = pushed[name]
    df = listing.tags(_repo(ref), client=client)
    assert list(df.columns) == TAG_COLUMNS
    top = skopeo.inspect(f"docker://{ref}", "--raw")
    if "manifests" in top:
        entries = [(m["digest"], m["platform"]) for m in top["manifests"]]
    else:
        cfg = skopeo.inspect(f"docker://{ref}", "--config", "--raw")
        entries = [(digest, {"os": cfg["os"], "architecture": cfg["architecture"]})]
    assert len(df) == len(entries)
    assert set(df["digest"]) == {digest}
    assert set(df["media_type"].astype(str)) == {top["mediaType"]}
    for (image_digest, platform), (_, row) in zip(entries, df.iterrows(), strict=True):
        image_ref = f"docker://{_repo(ref)}@{image_digest}"
        raw = skopeo.inspect(image_ref, "--raw")
        info = skopeo.inspect(image_ref)
        assert row["image_digest"] == image_digest
        expected_platform = "/".join(
            p for p in (platform["os"], platform["architecture"], platform.get("variant")) if p
        )
        assert row["platform"] == expected_platform
        assert row["size"] == raw["config"]["size"] + sum(x["size"] for x in raw["layers"])
        assert row["layers"] == len(raw["layers"]) == len(info["Layers"])
        assert row["created"] == pd.Timestamp(info["Created"])
        assert row["tag"] == "1.0" and row["tag_kind"] == "semver"


def test_tags_dtypes(pushed, client: rk.Client) -> None:
    df = listing.tags(_repo(pushed["multi"][0]), client=client)
    dtypes = {c: str(t) for c, t in df.dtypes.items()}
    assert dtypes["created"] == "datetime64[ns, UTC]"
    assert dtypes["size"] == dtypes["layers"] == "int64"
    for column in ("media_type", "platform", "tag_kind"):
        assert dtypes[column] == "category", column
    assert df.attrs["repository"] == _repo(pushed["multi"][0])  # the same on every row
    assert list(df["tag_kind"].cat.categories) == [
        "semver",
        "git-sha",
        "date",
        "latest",
        "stable",
        "other",
    ]


def test_tags_platform_filter(pushed, client: rk.Client) -> None:
    df = listing.tags(_repo(pushed["multi"][0]), platform="linux/arm64", client=client)
    assert df["platform"].tolist() == ["linux/arm64/v8"]


def test_empty_repository_gives_typed_empty_frame(
    registry: rk.LocalRegistry, client: rk.Client
) -> None:
    reg = client.registry(registry.host)
    image = build_image([gzip_layer(tar_layer({"a": b"a"}))])
    _push_image(reg, "listing/emptied", "gone", image)
    reg.delete_manifest("listing/emptied", image.digest)
    answer = httpx.get(f"{registry.url}/v2/listing/emptied/tags/list").json()
    assert answer["tags"] is None  # what distribution says once every tag is deleted
    df = listing.tags(f"{registry.host}/listing/emptied", client=client)
    assert df.empty and list(df.columns) == TAG_COLUMNS
    assert str(df["created"].dtype) == "datetime64[ns, UTC]"
    assert str(df["size"].dtype) == "int64"
    assert str(df["platform"].dtype) == "category"
    history = listing.tag_history(f"{registry.host}/listing/emptied", client=client)
    assert history.empty and str(history["size_change"].dtype) == "Int64"


def test_epoch_created_is_nat(registry: rk.LocalRegistry, client: rk.Client) -> None:
    reg = client.registry(registry.host)
    image = build_image([gzip_layer(tar_layer({"r": b"r"}))], created="1970-01-01T00:00:00Z")
    _push_image(reg, "listing/reproducible", "1.0", image)
    df = listing.tags(f"{registry.host}/listing/reproducible", client=client)
    assert df["created"].isna().all() and len(df) == 1
    history = listing.history(f"{registry.host}/listing/reproducible:1.0", client=client)
    assert history["created"].isna().all()


def test_helm_chart_appears_with_its_media_type_and_no_platform(
    registry: rk.LocalRegistry, client: rk.Client
) -> None:
    reg = client.registry(registry.host)
    cfg = Blob(HELM_CONFIG, canonical_json({"name": "demo", "version": "0.1.0"}))
    chart = Blob(HELM_CHART, gzip_layer(tar_layer({"demo/Chart.yaml": b"name: demo\n"})).blob.data)
    manifest = Blob(
        mt.OCI_MANIFEST,
        canonical_json(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": cfg.descriptor(),
                "layers": [chart.descriptor()],
            }
        ),
    )
    _put(reg, "listing/charts/demo", [cfg, chart], manifest, "0.1.0")
    df = listing.tags(f"{registry.host}/listing/charts/demo", client=client)
    assert len(df) == 1
    row = df.iloc[0]
    assert pd.isna(row["platform"]) and pd.isna(row["created"])
    assert row["artifact_type"] == HELM_CONFIG
    assert row["media_type"] == mt.OCI_MANIFEST
    assert row["size"] == cfg.size + chart.size
    assert listing.tag_history(f"{registry.host}/listing/charts/demo", client=client).empty
    assert rk_config(f"{registry.host}/listing/charts/demo:0.1.0", client) == {
        "name": "demo",
        "version": "0.1.0",
    }


def rk_config(ref: str, client: rk.Client) -> dict[str, object]:
    from registrykit import config

    return config(ref, client=client)


def test_attestations_are_labelled_not_platforms(
    registry: rk.LocalRegistry, client: rk.Client
) -> None:
    reg = client.registry(registry.host)
    image = build_image([gzip_layer(tar_layer({"bin/app": b"app"}))])
    attestation = build_image(
        [gzip_layer(tar_layer({"provenance.json": b"{}"}))], architecture="unknown", os="unknown"
    )
    _push_image(reg, "listing/attested", image.digest, image)
    _push_image(reg, "listing/attested", attestation.digest, attestation)
    index = Blob(
        mt.OCI_INDEX,
        canonical_json(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_INDEX,
                "manifests": [
                    image.manifest.descriptor(platform={"architecture": "amd64", "os": "linux"}),
                    attestation.manifest.descriptor(
                        platform={"architecture": "unknown", "os": "unknown"},
                        annotations={
                            "vnd.docker.reference.type": "attestation-manifest",
                            "vnd.docker.reference.digest": image.digest,
                        },
                    ),
                ],
            }
        ),
    )
    reg.put_manifest("listing/attested", "latest", index.data, index.media_type)
    df = listing.tags(f"{registry.host}/listing/attested", client=client)
    assert df["attestation"].tolist() == [False, True]
    assert df["platform"].tolist() == ["linux/amd64", "unknown/unknown"]
    platforms = df[~df["attestation"]]["platform"]
    assert platforms.tolist() == ["linux/amd64"]
    audit = listing.audit([f"{registry.host}/listing/attested"], client=client)
    assert audit["images"].tolist() == [1]


# -- catalog ------------------------------------------------------------------------


def test_catalog_with_glob_and_regex(pushed, registry: rk.LocalRegistry, client: rk.Client) -> None:
    df = listing.catalog(registry.host, client=client)
    assert list(df.columns) == ["registry", "repository"]
    names = set(df["repository"])
    assert {"listing/single", "listing/multi", "listing/manifest-list"} <= names
    assert set(df["registry"]) == {registry.host}
    globbed = listing.catalog(registry.host, "listing/m*", client=client)
    assert set(globbed["repository"]) >= {"listing/multi", "listing/manifest-list"}
    assert "listing/single" not in set(globbed["repository"])
    regex = listing.catalog(registry.host, r"^listing/(single|docker)$", client=client)
    assert sorted(regex["repository"]) == ["listing/docker", "listing/single"]
    compiled = listing.catalog(registry.host, re.compile("^listing/manifest-"), client=client)
    assert compiled["repository"].tolist() == ["listing/manifest-list"]


# -- errors -------------------------------------------------------------------------


def test_missing_repository_raises_not_found_with_remedy(
    registry: rk.LocalRegistry, client: rk.Client
) -> None:
    with pytest.raises(rk.NotFound, match=r"rk\.catalog") as info:
        listing.tags(f"{registry.host}/listing/does-not-exist", client=client)
    assert "NAME_UNKNOWN" in info.value.codes


def test_private_repository_without_credentials(htpasswd_registry: rk.LocalRegistry) -> None:
    with (
        rk.Client(cache_dir=None) as c,
        pytest.raises(rk.AuthenticationError, match=r"rk\.login") as info,
    ):
        listing.tags(f"{htpasswd_registry.host}/private/app", client=c)
    assert htpasswd_registry.password not in str(info.value)


def test_private_repository_with_credentials(htpasswd_registry: rk.LocalRegistry) -> None:
    logins = {htpasswd_registry.host: ("reader", "reader-pass")}
    with rk.Client(cache_dir=None, logins=logins) as c:
        # The session registry is shared: push a repository of our own to look for.
        rk.samples.push(htpasswd_registry, [rk.samples.hello()], client=c)
        frame = listing.catalog(htpasswd_registry.host, client=c)
    assert "samples/hello" in set(frame["repository"])
    assert set(frame["registry"]) == {htpasswd_registry.host}


# -- credentials --------------------------------------------------------------------
