"""Built images read back by skopeo and pushed byte for byte."""

from __future__ import annotations

from pathlib import Path

import httpx
from support import oci as mt
from support.images import GOLDEN_LAYERS, FixtureImages, golden_image
from support.skopeo import Skopeo

from registrykit.lab.build import (
    build_image,
    build_index,
    gzip_layer,
    tar_layer,
    write_dir,
    write_oci_layout,
)
from registrykit.lab.local import LocalRegistry


def test_skopeo_reads_the_layout(tmp_path: Path, skopeo: Skopeo) -> None:
    image = golden_image()
    layer = gzip_layer(tar_layer({"f": b"x"}))
    index = build_index([build_image([layer]), build_image([layer], architecture="arm64")])
    root = write_oci_layout(tmp_path / "layout", [("golden", image), ("multi", index)])
    info = skopeo.inspect(f"oci:{root}:golden")
    assert info["Digest"] == image.digest
    assert info["Layers"] == GOLDEN_LAYERS
    assert info["Env"] == ["A=1"]
    raw = skopeo.run("inspect", "--raw", f"oci:{root}:golden").stdout
    assert raw.encode() == image.manifest.data
    config = skopeo.run("inspect", "--config", "--raw", f"oci:{root}:golden").stdout
    assert config.encode() == image.config.data
    raw_index = skopeo.run("inspect", "--raw", f"oci:{root}:multi").stdout
    assert raw_index.encode() == index.manifest.data


def test_skopeo_reads_docker_format_from_dir(tmp_path: Path, skopeo: Skopeo) -> None:
    layer = gzip_layer(tar_layer({"f": b"x"}))
    image = build_image([layer], format="docker")
    info = skopeo.inspect(f"dir:{write_dir(tmp_path / 'd', image)}")
    assert info["Digest"] == image.digest


def test_push_fixtures_preserves_digests(
    registry: LocalRegistry, fixture_images: FixtureImages
) -> None:
    pushed = fixture_images.push_fixtures(registry, "imagebuild")
    assert set(pushed) == {"single", "docker", "multi", "manifest-list"}
    for name, (ref, digest) in pushed.items():
        assert digest == fixture_images.images[name].digest
        repo, tag = ref.split("/", 1)[1].rsplit(":", 1)
        resp = httpx.get(
            f"{registry.url}/v2/{repo}/manifests/{tag}",
            headers={"Accept": mt.MANIFEST_ACCEPT},
        )
        assert resp.status_code == 200, resp.text
        assert resp.headers["docker-content-digest"] == digest
        assert resp.content == fixture_images.images[name].manifest.data
    assert fixture_images.push_fixtures(registry, "imagebuild") is pushed
