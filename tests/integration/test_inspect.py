"""inspect / manifest / config against skopeo; rate_limit and Hub search against mocks."""

from __future__ import annotations

import json

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
