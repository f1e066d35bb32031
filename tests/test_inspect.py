"""inspect / manifest / config against skopeo; rate_limit and Hub search against mocks."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest

import registrykit as rk
from registrykit._model.units import human_size
from registrykit._ops.inspect import ImageInfo, config, inspect, manifest
from registrykit._ops.vendors import rate_limit, search_records
from registrykit._transport.http import RetryPolicy
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


def test_human_size() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(200 * 1024 * 1024) == "200 MiB"


# -- Docker Hub through a mock transport --------------------------------------------

TOKEN = "mock-hub-token"  # a fake token the mock issues


def _hub(headers: dict[str, str], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.docker.io":
            return httpx.Response(200, json={"token": TOKEN, "expires_in": 300})
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(
                401,
                headers={
                    "www-authenticate": 'Bearer realm="https://auth.docker.io/token",'
                    'service="registry.docker.io",scope="repository:library/alpine:pull"'
                },
                json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            )
        return httpx.Response(
            200,
            headers={
                "content-type": "application/vnd.oci.image.index.v1+json",
                "docker-content-digest": "sha256:" + "a" * 64,
                **headers,
            },
        )

    return httpx.MockTransport(handler)


def test_rate_limit_reads_the_headers_of_a_head() -> None:
    seen: list[httpx.Request] = []
    transport = _hub(
        {
            "ratelimit-limit": "100;w=21600",
            "ratelimit-remaining": "76;w=21600",
            "docker-ratelimit-source": "203.0.113.7",
        },
        seen,
    )
    with rk.Client(cache_dir=None, transport=transport) as c:
        limit = rate_limit(client=c)
    assert (limit.limit, limit.remaining, limit.window) == (100, 76, 21600)
    assert limit.source == "203.0.113.7"
    assert "76 of 100" in str(limit) and "6 h" in str(limit)
    registry_calls = [r for r in seen if r.url.host == "registry-1.docker.io"]
    assert registry_calls and {r.method for r in registry_calls} == {"HEAD"}
    assert registry_calls[-1].url.path == "/v2/library/alpine/manifests/latest"
    assert TOKEN not in str(limit) and TOKEN not in repr(limit)


def test_rate_limit_without_headers_is_unlimited() -> None:
    with rk.Client(cache_dir=None, transport=_hub({}, [])) as c:
        limit = rate_limit("nginx", client=c)
    assert limit.unlimited and limit.remaining is None
    assert "no pull limit" in str(limit)


HUB_SEARCH = {
    "num_results": 2,
    "query": "nginx",
    "results": [
        {
            "name": "nginx",
            "description": "Official build of Nginx.",
            "star_count": 20000,
            "is_official": True,
            "is_automated": False,
        },
        {
            "name": "bitnami/nginx",
            "description": "Bitnami container image for NGINX",
            "star_count": 190,
            "is_official": False,
            "is_automated": True,
        },
    ],
}


def test_hub_search_uses_the_search_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=HUB_SEARCH)

    with rk.Client(cache_dir=None, transport=httpx.MockTransport(handler)) as c:
        rows = search_records("nginx", limit=10, client=c)
        df = listing.search("nginx", client=c)
    assert seen[0].url.host == "index.docker.io" and seen[0].url.path == "/v1/search"
    assert seen[0].url.params["q"] == "nginx" and seen[0].url.params["n"] == "10"
    assert [r["name"] for r in rows] == ["nginx", "bitnami/nginx"]
    assert list(df.columns) == ["registry", "name", "description", "stars", "official", "automated"]
    assert df["stars"].tolist() == [20000, 190]
    assert df["official"].tolist() == [True, False]
    assert str(df["stars"].dtype) == "Int64"


def test_hub_search_error_keeps_the_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "30"})

    no_retry = RetryPolicy(attempts=1)
    with (
        rk.Client(cache_dir=None, transport=httpx.MockTransport(handler), retry=no_retry) as c,
        pytest.raises(rk.RateLimited, match="log"),
    ):
        search_records("nginx", client=c)


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
