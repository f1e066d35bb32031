"""inspect / manifest / config against skopeo; rate_limit and Hub search against mocks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import registrykit as rk
from registrykit import ImageInfo, config, inspect, manifest
from registrykit.frames import listing


@pytest.fixture(scope="module")
def pushed(registry: rk.LocalRegistry, fixture_images) -> dict[str, tuple[str, str]]:
    return fixture_images.push_fixtures(registry, "inspect")


@pytest.mark.parametrize("name", ["single", "docker", "multi", "manifest-list"])
def test_inspect_matches_skopeo(name: str, pushed, skopeo, client: rk.Client) -> None:
    ref, digest = pushed[name]
    expected = skopeo.inspect(f"docker://{ref}")
    info = inspect(ref, client=client)
    assert isinstance(info, ImageInfo)
    assert info.name == expected["Name"]
    assert info.digest == expected["Digest"] == digest
    assert list(info.tags) == expected["RepoTags"]
    assert info.architecture == expected["Architecture"]
    assert info.os == expected["Os"]
    assert list(info.layers) == expected["Layers"]
    ours = [(x.media_type, x.digest, x.size) for x in info.layers_data]
    if "LayersData" in expected:  # skopeo >= 1.10
        assert ours == [(x["MIMEType"], x["Digest"], x["Size"]) for x in expected["LayersData"]]
    image = f"docker://{ref.rsplit(':', 1)[0]}@{info.image_digest}"
    raw = skopeo.inspect(image, "--raw")
    assert ours == [(x["mediaType"], x["digest"], x["size"]) for x in raw["layers"]]
    assert info.size == raw["config"]["size"] + sum(x["size"] for x in raw["layers"])
    assert list(info.env) == (expected.get("Env") or [])
    assert dict(info.labels) == (expected.get("Labels") or {})
    assert info.created is not None
    assert info.created.isoformat().replace("+00:00", "Z") == expected["Created"]
    if name in ("multi", "manifest-list"):
        assert info.platforms == ("linux/amd64", "linux/arm64/v8")
        assert info.image_digest != info.digest


def test_inspect_other_platform(pushed, skopeo, client: rk.Client) -> None:
    ref, _ = pushed["multi"]
    expected = skopeo.inspect(f"docker://{ref}", "--override-arch=arm64", "--override-variant=v8")
    info = inspect(ref, platform="linux/arm64", client=client)
    assert (info.architecture, info.variant) == ("arm64", "v8")
    assert list(info.layers) == expected["Layers"]


@pytest.mark.parametrize("name", ["single", "multi", "manifest-list"])
def test_manifest_and_config_are_the_raw_documents(
    name: str, pushed, skopeo, client: rk.Client
) -> None:
    ref, _ = pushed[name]
    assert manifest(ref, client=client) == skopeo.inspect(f"docker://{ref}", "--raw")
    # The config blob exactly; plain --config re-encodes it through Go structs
    # (adding e.g. an empty "config": {}), so compare the blob itself.
    ours = config(ref, client=client)
    assert ours == skopeo.inspect(f"docker://{ref}", "--config", "--raw")
    normalised = skopeo.inspect(f"docker://{ref}", "--config")
    assert {k: v for k, v in normalised.items() if v != {}} == ours


def test_text_and_html_reprs(pushed, client: rk.Client) -> None:
    ref, digest = pushed["single"]
    info = inspect(ref, client=client)
    text = str(info)
    assert digest in text and "linux/amd64" in text and "APP=/app" in text
    html = info._repr_html_()
    assert digest in html and "<table>" in html
    assert info.to_dict()["Digest"] == digest


# -- Docker Hub through a mock transport --------------------------------------------


def test_search_elsewhere_filters_the_catalog(pushed, registry: rk.LocalRegistry) -> None:
    with rk.Client(cache_dir=None) as c:
        df = listing.search("INSPECT/MULTI", registry=registry.host, client=c)
    assert df["name"].tolist() == ["inspect/multi"]
    assert df["stars"].isna().all()


def test_config_of_a_missing_tag_says_what_to_do(pushed, client: rk.Client) -> None:
    ref, _ = pushed["single"]
    with pytest.raises(rk.NotFound, match=r"rk\.tags"):
        config(ref.rsplit(":", 1)[0] + ":nope", client=client)


def test_manifest_json_roundtrip(pushed, client: rk.Client) -> None:
    ref, digest = pushed["multi"]
    doc = manifest(ref, client=client)
    assert rk.parse_reference(ref).tag == "1.0"
    assert json.dumps(doc)  # plain JSON types
    assert doc["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert len(doc["manifests"]) == 2
    assert digest.startswith("sha256:")


# -- the same reads from a pulled copy on disk ---------------------------------------


@pytest.fixture(scope="module")
def on_disk(pushed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The multi-arch fixture pulled into an OCI layout and a docker-archive."""
    ref, _ = pushed["multi"]
    out = tmp_path_factory.mktemp("disk")
    with rk.Client(cache_dir=None) as c:
        rk.pull(ref, out / "layout", client=c)
        rk.pull(ref, out / "image.tar", format="docker-archive", client=c)
    return {
        "registry": ref,
        "oci": f"oci:{out / 'layout'}:1.0",
        "docker-archive": f"docker-archive:{out / 'image.tar'}:1.0",
        "oci-untagged": f"oci:{out / 'layout'}",
    }


@pytest.mark.parametrize("where", ["oci", "docker-archive", "oci-untagged"])
def test_reads_from_disk_equal_reads_from_the_registry(
    where: str, on_disk: dict[str, str], client: rk.Client
) -> None:
    remote, local = on_disk["registry"], on_disk[where]
    ours, theirs = inspect(local, client=client), inspect(remote, client=client)
    for name in ("image_digest", "layers", "layers_data", "env", "labels", "created", "size"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert (ours.os, ours.architecture) == ("linux", "amd64") == (theirs.os, theirs.architecture)
    assert ours.tags == ("1.0",)
    assert ours.name == local.removesuffix(":1.0")
    assert config(local, client=client) == config(remote, client=client)
    for frame in (listing.layers, listing.history, listing.files):
        pd.testing.assert_frame_equal(frame(local, client=client), frame(remote, client=client))
    assert set(listing.diff(local, remote, client=client)["status"]) == {"common"}
    wasted = listing.waste(local, client=client).attrs
    assert wasted == listing.waste(remote, client=client).attrs


def test_a_layout_keeps_the_index_and_its_platforms(
    on_disk: dict[str, str], client: rk.Client
) -> None:
    local, remote = on_disk["oci"], on_disk["registry"]
    assert manifest(local, client=client) == manifest(remote, client=client)
    info = inspect(local, platform="linux/arm64", client=client)
    assert info.digest == inspect(remote, client=client).digest
    assert info.platforms == ("linux/amd64", "linux/arm64/v8")
    assert (info.architecture, info.variant) == ("arm64", "v8")
    arm = listing.layers(remote, platform="linux/arm64", client=client)
    pd.testing.assert_frame_equal(listing.layers(local, "linux/arm64", client=client), arm)


def test_a_local_copy_with_several_images_needs_a_tag(
    pushed, tmp_path: Path, client: rk.Client
) -> None:
    layout = tmp_path / "two"
    rk.pull(pushed["single"][0], layout, client=client)
    multi, digest = pushed["multi"]
    rk.pull(f"{multi.rsplit(':', 1)[0]}@{digest}", layout, client=client)  # an untagged entry
    with pytest.raises(rk.NotFound, match=r"holds 2 images; name one"):
        inspect(f"oci:{layout}", client=client)
    with pytest.raises(rk.NotFound, match="nope"):
        inspect(f"oci:{layout}:nope", client=client)
