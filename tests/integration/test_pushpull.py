"""rk.pull / rk.push with OCI layouts and docker-archives; skopeo reads and writes them too."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from support.images import FixtureImages
from support.oci import DOCKER_LAYER_GZIP, REF_NAME
from support.skopeo import Skopeo

import registrykit as rk
from registrykit import NotFound, pull, push, tag
from registrykit.lab.build import Index
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(180)


def _index(path: Path) -> list[dict[str, object]]:
    return list(json.loads((path / "index.json").read_text())["manifests"])


@pytest.mark.parametrize("name", ["single", "multi", "docker", "manifest-list"])
def test_pull_to_oci_layout_is_read_by_skopeo(
    name: str,
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    ref, digest = fixture_images.push_fixtures(registry)[name]
    out = tmp_path / "layout"
    result = pull(ref, out, client=client)
    # Docker-format manifests get OCI media types in a layout (skopeo 1.9 and podman
    # read no other), so their digest is new; the source's is reported beside it.
    assert result.source_digest == digest
    assert (result.digest == digest) == (fixture_images.images[name].format == "oci")
    assert result.tags == ["1.0"]
    entries = _index(out)
    assert entries[0]["digest"] == result.digest
    assert entries[0]["annotations"] == {REF_NAME: "1.0"}
    for blob in fixture_images.images[name].blobs():
        data = (out / "blobs" / "sha256" / blob.digest.split(":")[1]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == blob.digest.split(":")[1]
    assert skopeo.inspect(f"oci:{out}:1.0")["Digest"] == result.digest
    copied = tmp_path / "skopeo-dir"
    extra = ["--all"] if isinstance(fixture_images.images[name], Index) else []
    skopeo.copy(f"oci:{out}:1.0", f"dir:{copied}", "--preserve-digests", *extra)
    assert hashlib.sha256((copied / "manifest.json").read_bytes()).hexdigest() in result.digest


def test_pull_one_platform_keeps_only_its_manifest(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    ref, _digest = fixture_images.push_fixtures(registry)["multi"]
    index = fixture_images.images["multi"]
    assert isinstance(index, Index)
    arm = next(i for i in index.images if i.platform["architecture"] == "arm64")
    result = pull(ref, tmp_path / "arm", platform="linux/arm64", client=client)
    assert result.digest == arm.digest
    assert result.platforms == ["linux/arm64/v8"]
    assert _index(tmp_path / "arm")[0]["digest"] == arm.digest


def test_pull_again_skips_present_blobs(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    ref, _ = fixture_images.push_fixtures(registry)["single"]
    first = pull(ref, tmp_path / "l", client=client)
    again = pull(ref, tmp_path / "l", client=client)
    assert first.bytes_copied == first.size
    assert again.bytes_copied == 0 and again.bytes_skipped == first.size
    assert len(_index(tmp_path / "l")) == 1  # the entry was replaced, not duplicated


@pytest.mark.parametrize("name", ["single", "docker", "multi"])
def test_docker_archive_round_trip_keeps_digest(
    name: str,
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    ref, _digest = fixture_images.push_fixtures(registry)[name]
    item = fixture_images.images[name]
    archive = tmp_path / "image.tar"
    result = pull(ref, archive, format="docker-archive", client=client)
    image = item.images[0] if isinstance(item, Index) else item  # linux/amd64 comes first
    assert result.digest == image.digest
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == [ref]
    assert manifest[0]["Config"] == "blobs/sha256/" + image.config.digest.split(":")[1]
    # skopeo reads the archive: same config, same diff IDs.
    config = skopeo.inspect(f"docker-archive:{archive}", "--config")
    assert config["rootfs"]["diff_ids"] == image.diff_ids
    skopeo.copy(f"docker-archive:{archive}", f"dir:{tmp_path / 'viaskopeo'}")
    # Pushing the archive back gives the very same manifest digest.
    back = push(archive, f"{registry.host}/archived/{name}:rt", client=client)
    assert back.digest == image.digest
    assert skopeo.inspect(f"docker://{registry.host}/archived/{name}:rt")["Digest"] == image.digest


def test_archive_refuses_to_keep_an_index_but_picks_a_platform(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    ref, _ = fixture_images.push_fixtures(registry)["multi"]
    result = pull(
        ref, tmp_path / "arm.tar", format="docker-archive", platform="linux/arm64/v8", client=client
    )
    assert result.platforms == ["linux/arm64/v8"]
    with pytest.raises(ValueError, match="format must be"):
        pull(ref, tmp_path / "x", format="tar", client=client)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["single", "multi"])
def test_push_a_layout_skopeo_wrote(
    name: str,
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    ref, digest = fixture_images.push_fixtures(registry)[name]
    layout = tmp_path / "from-skopeo"
    extra = ["--all"] if name == "multi" else []
    skopeo.copy(f"docker://{ref}", f"oci:{layout}:{name}", "--preserve-digests", *extra)
    result = push(layout, f"{registry.host}/skopeo-layout/{name}:{name}", client=client)
    assert result.digest == digest
    assert result.tags == [name]
    assert (
        skopeo.inspect(f"docker://{registry.host}/skopeo-layout/{name}:{name}")["Digest"] == digest
    )
    text = str(result)
    assert "✓ Image pushed successfully" in text
    verify = (
        f"skopeo inspect --tls-verify=false docker://{registry.host}/skopeo-layout/{name}:{name}"
    )
    assert verify in text


def test_push_a_docker_archive_skopeo_wrote(
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    ref, _ = fixture_images.push_fixtures(registry)["docker"]
    image = fixture_images.images["docker"]
    archive = tmp_path / "skopeo.tar"
    skopeo.copy(f"docker://{ref}", f"docker-archive:{archive}:example/app:7")
    result = push(archive, f"{registry.host}/from-archive/app:7", client=client)
    # skopeo stores layers uncompressed, so the manifest differs; the config does not.
    pushed = skopeo.inspect(f"docker://{registry.host}/from-archive/app:7", "--config")
    assert pushed["rootfs"]["diff_ids"] == image.diff_ids
    assert result.tags == ["7"]
    assert skopeo.inspect(f"docker://{registry.host}/from-archive/app:7")["Digest"] == result.digest


def test_push_picks_entry_by_tag_or_only_entry(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client
) -> None:
    layout = fixture_images.layout  # entries: single, multi
    result = push(layout, f"{registry.host}/pick/app:multi", client=client)
    assert result.digest == fixture_images.images["multi"].digest
    with pytest.raises(NotFound, match="none matches tag 'nope'"):
        push(layout, f"{registry.host}/pick/app:nope", client=client)
    with pytest.raises(ValueError, match="needs a tag"):
        push(layout, f"{registry.host}/pick/app@{result.digest}", client=client)


def test_pull_and_push_all_tags(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    fixture_images.push_fixtures(registry)
    tag(f"{registry.host}/fixtures/multi:1.0", "alltags-b", client=client)
    pulled = pull(f"{registry.host}/fixtures/multi", tmp_path / "all", all_tags=True, client=client)
    assert set(pulled.tags) >= {"1.0", "alltags-b"}
    index = json.loads((tmp_path / "all" / "index.json").read_text())
    assert {m["annotations"][REF_NAME] for m in index["manifests"]} == set(pulled.tags)
    pushed = push(tmp_path / "all", f"{registry.host}/allback/multi", all_tags=True, client=client)
    assert set(pushed.tags) == set(pulled.tags)
    assert set(pushed.images.values()) == {fixture_images.images["multi"].digest}


def test_push_from_missing_path_is_a_clear_error(registry: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="OCI layout directory"):
        push(tmp_path / "missing", f"{registry.host}/x/y:1")


def test_classic_gzipped_docker_save_archive_is_pushed(
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    """The pre-Docker-25 layout (``<id>/layer.tar``, uncompressed), gzipped as a whole."""
    image = fixture_images.images["docker"]
    assert not isinstance(image, Index)
    archive = tmp_path / "classic.tar.gz"
    config_name = image.config.digest.split(":")[1] + ".json"
    members = {config_name: image.config.data}
    layer_names = []
    for i, layer in enumerate(image.layers):
        members[f"layer{i}/layer.tar"] = gzip.decompress(layer.data)
        layer_names.append(f"layer{i}/layer.tar")
    manifest = [{"Config": config_name, "RepoTags": ["example.com/app:3"], "Layers": layer_names}]
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    result = push(archive, f"{registry.host}/classic/app:3", client=client)
    assert result.tags == ["3"]
    pushed = f"docker://{registry.host}/classic/app:3"
    assert skopeo.inspect(pushed)["Digest"] == result.digest
    assert skopeo.inspect(pushed, "--config")["rootfs"]["diff_ids"] == image.diff_ids
    # Uncompressed layers are gzipped on push, as docker and podman do (contract v2,
    # "Local images"): new digests, gzip media types, the same diff IDs.
    layers = skopeo.inspect(pushed, "--raw")["layers"]
    assert {layer["mediaType"] for layer in layers} == {DOCKER_LAYER_GZIP}
    assert not {layer["digest"] for layer in layers} & set(image.diff_ids)


def test_pull_by_digest_then_push_the_only_entry(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    ref, digest = fixture_images.push_fixtures(registry)["single"]
    by_digest = f"{ref.rsplit(':', 1)[0]}@{digest}"
    result = pull(by_digest, tmp_path / "d", client=client)
    assert result.tags == [] and result.digest == digest
    entries = _index(tmp_path / "d")
    assert [e["digest"] for e in entries] == [digest] and "annotations" not in entries[0]
    pushed = push(tmp_path / "d", f"{registry.host}/bydigest/single:pinned", client=client)
    assert pushed.digest == digest and pushed.tags == ["pinned"]


def test_all_tags_pull_counts_shared_blobs_once(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    """Two tags over the same layers: the pull's size is those layers once, not per tag."""
    refs = fixture_images.push_fixtures(registry)
    single = fixture_images.images["single"]
    repo = f"{registry.host}/shared/app"
    rk.copy(refs["single"][0], f"{repo}:a", client=client)
    rk.copy(refs["docker"][0], f"{repo}:b", client=client)  # same config and layer bytes
    blobs = {b.digest: b.size for b in single.blobs()}

    # Kept as Docker bytes: converted to OCI media types, tag b would equal tag a.
    result = pull(repo, tmp_path / "shared", all_tags=True, preserve_digests=True, client=client)

    assert sorted(result.tags) == ["a", "b"]
    assert result.size == sum(blobs.values())
    assert result.bytes_copied == result.size  # each blob downloaded once, too
    assert result.digest is None and len(set(result.images.values())) == 2


def test_push_to_a_second_repository_mounts(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client, tmp_path: Path
) -> None:
    """The second push of one layout mounts the blobs the first uploaded, and says so."""
    ref, _ = fixture_images.push_fixtures(registry)["single"]
    layout = tmp_path / "one"
    pull(ref, layout, client=client)
    first = push(layout, f"{registry.host}/mount-a/app:1", client=client)
    second = push(layout, f"{registry.host}/mount-b/app:1", client=client)

    assert first.bytes_copied == first.size > 0
    assert second.bytes_mounted == second.size
    assert second.bytes_copied == second.bytes_skipped == 0
    assert "mounted" in str(second)
