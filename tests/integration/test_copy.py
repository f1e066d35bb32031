"""rk.copy and rk.sync against real registries, with skopeo as the referee."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.images import FixtureImages
from support.skopeo import Skopeo

import registrykit as rk
from registrykit import AuthenticationError, NotFound, SyncResult, apply, copy, sync, tag
from registrykit.frames.plans import sync_plan
from registrykit.lab.build import Image, Index
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(180)

FIXTURES = ["single", "docker", "multi", "manifest-list"]


@pytest.fixture(scope="module")
def second(skopeo: Skopeo) -> Iterator[LocalRegistry]:
    with LocalRegistry() as reg:
        skopeo.add(reg)
        yield reg


def _blob_bytes(item: Image | Index) -> int:
    return sum(b.size for b in item.blobs())


def _raw_digest(skopeo: Skopeo, ref: str) -> str:
    raw = skopeo.run("inspect", "--raw", *skopeo._flags(ref, "", None), ref).stdout
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


@pytest.mark.parametrize("name", FIXTURES)
def test_copy_between_registries_keeps_digests(
    name: str,
    registry: LocalRegistry,
    second: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
) -> None:
    src, digest = fixture_images.push_fixtures(registry)[name]
    item = fixture_images.images[name]
    dst = f"{second.host}/copied/{name}:v1"

    result = copy(src, dst, client=client)

    assert result.digest == digest
    assert not result.digest_changed
    assert result.tags == ["v1"]
    assert result.size == _blob_bytes(item)
    assert result.bytes_copied + result.bytes_skipped == _blob_bytes(item)
    # skopeo reads what we wrote, byte for byte.
    assert _raw_digest(skopeo, f"docker://{dst}") == digest
    inspected = skopeo.inspect(f"docker://{dst}")
    assert inspected["Digest"] == digest
    if isinstance(item, Index):
        assert sorted(result.platforms) == ["linux/amd64", "linux/arm64/v8"]


def test_second_copy_moves_nothing(
    registry: LocalRegistry,
    second: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
) -> None:
    src, digest = fixture_images.push_fixtures(registry)["multi"]
    dst = f"{second.host}/again/multi:1"
    first = copy(src, dst, client=client)
    again = copy(src, dst, client=client)
    assert first.bytes_copied > 0
    assert again.bytes_copied == 0
    assert again.bytes_skipped == first.size
    assert again.digest == digest


def test_mount_within_one_registry_sends_no_blob_bytes(
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    skopeo: Skopeo,
    client: rk.Client,
) -> None:
    fixture_images.push_fixtures(registry)
    with FaultProxy(registry.host) as proxy:
        src = f"{proxy.host}/fixtures/multi:1.0"
        result = copy(src, f"{proxy.host}/mounted/multi:1.0", client=client)
        assert proxy.upload_bytes == 0
        assert result.bytes_copied == 0
        assert result.bytes_mounted == result.size > 0
        assert any("mount=" in path for method, path in proxy.requests if method == "POST")
    digest = fixture_images.images["multi"].digest
    assert skopeo.inspect(f"docker://{registry.host}/mounted/multi:1.0")["Digest"] == digest


def test_platform_subset_writes_a_new_index(
    registry: LocalRegistry,
    second: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
) -> None:
    src, digest = fixture_images.push_fixtures(registry)["multi"]
    dst = f"{second.host}/subset/multi:arm"
    result = copy(src, dst, platforms=["linux/arm64"], client=client)
    assert result.digest_changed
    assert result.source_digest == digest
    assert result.digest != digest
    assert result.platforms == ["linux/arm64/v8"]
    assert "differs from the source" in str(result)
    raw = json.loads(skopeo.run("inspect", "--raw", "--tls-verify=false", f"docker://{dst}").stdout)
    assert [m["platform"]["architecture"] for m in raw["manifests"]] == ["arm64"]
    assert _raw_digest(skopeo, f"docker://{dst}") == result.digest
    # skopeo can copy it on (the index's blobs are all there).
    skopeo.copy(f"docker://{dst}", f"docker://{second.host}/subset/check:1", "--all")


def test_unknown_platform_is_a_clear_error(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client
) -> None:
    src, _ = fixture_images.push_fixtures(registry)["multi"]
    with pytest.raises(NotFound, match=r"linux/s390x.*it has: linux/amd64"):
        copy(src, f"{registry.host}/nowhere/x:1", platforms="linux/s390x", client=client)


def test_copy_all_tags(
    registry: LocalRegistry,
    second: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
) -> None:
    src, digest = fixture_images.push_fixtures(registry)["single"]
    tag(src, "all-a", "all-b", client=client)
    repo = src.rsplit(":", 1)[0]
    result = copy(repo, f"{second.host}/alltags/single", all_tags=True, client=client)
    assert set(result.tags) >= {"1.0", "all-a", "all-b"}
    assert set(result.images.values()) == {digest}
    for t in ("1.0", "all-a", "all-b"):
        assert skopeo.inspect(f"docker://{second.host}/alltags/single:{t}")["Digest"] == digest


def test_destination_without_tag_keeps_the_source_tag(
    registry: LocalRegistry, second: LocalRegistry, fixture_images: FixtureImages, client: rk.Client
) -> None:
    src, _digest = fixture_images.push_fixtures(registry)["docker"]
    result = copy(src, f"{second.host}/notag/docker", client=client)
    assert result.tags == ["1.0"]
    assert result.destination.endswith("/notag/docker:1.0")


def test_copy_between_registries_with_different_credentials(
    fixture_images: FixtureImages, skopeo: Skopeo, client: rk.Client
) -> None:
    with (
        LocalRegistry(auth="htpasswd", username="alice", password="alice-secret-1") as a,
        LocalRegistry(auth="htpasswd", username="bob", password="bob-secret-2") as b,
    ):
        skopeo.add(a)
        skopeo.add(b)
        src, digest = fixture_images.push_fixtures(a)["multi"]
        dst = f"{b.host}/creds/multi:1"
        with pytest.raises(AuthenticationError):
            copy(src, dst, client=client)  # no logins yet
        client.add_login(a.host, "alice", "alice-secret-1")
        client.add_login(b.host, "bob", "bob-secret-2")
        result = copy(src, dst, client=client)
        assert result.digest == digest
        assert skopeo.inspect(f"docker://{dst}")["Digest"] == digest
        text = str(result) + result._repr_html_()
        assert "secret" not in text


def test_result_summary(
    registry: LocalRegistry, second: LocalRegistry, fixture_images: FixtureImages, client: rk.Client
) -> None:
    src, digest = fixture_images.push_fixtures(registry)["single"]
    dst = f"{second.host}/summary/single:1.0"
    result = copy(src, dst, client=client)
    text = str(result)
    assert text.startswith("✓ Image copied successfully")
    assert f"docker pull {dst}" in text
    # The registry speaks plain http: podman and skopeo need the flag to reach it.
    assert f"podman pull --tls-verify=false {dst}" in text
    assert f"skopeo inspect --tls-verify=false docker://{dst}" in text
    assert digest in text
    assert "<table>" in result._repr_html_()


def test_missing_source_is_not_found(registry: LocalRegistry, client: rk.Client) -> None:
    with pytest.raises(NotFound):
        copy(f"{registry.host}/does/not-exist:1", f"{registry.host}/x/y:1", client=client)


# -- sync ------------------------------------------------------------------------


def test_sync_copies_only_what_differs(
    registry: LocalRegistry,
    second: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
) -> None:
    pushed = fixture_images.push_fixtures(registry)
    single_ref, _single = pushed["single"]
    docker_ref, _docker = pushed["docker"]
    repo = f"{registry.host}/syncsrc/app"
    copy(single_ref, f"{repo}:1.0", client=client)
    copy(single_ref, f"{repo}:1.1", client=client)
    copy(docker_ref, f"{repo}:2.0", client=client)
    dst = f"{second.host}/syncdst/app"
    copy(docker_ref, f"{dst}:1.1", client=client)  # differs from the source's 1.1

    plan = sync_plan(repo, dst, tags="1.*", client=client)
    assert list(plan.columns) == ["tag", "source_digest", "destination_digest", "action", "reason"]
    rows = {r["tag"]: r for r in plan.to_dict("records")}
    assert set(rows) == {"1.0", "1.1"}
    assert rows["1.1"]["action"] == "copy" and rows["1.1"]["reason"] == "digest differs"

    result = apply(plan, client=client)
    assert isinstance(result, SyncResult)
    assert sorted(result.tags) == ["1.0", "1.1"]
    again = sync_plan(repo, dst, client=client).itertuples()
    actions = {r.tag: r.action for r in again}
    assert actions == {"1.0": "skip", "1.1": "skip", "2.0": "copy"}
    final = sync(repo, dst, client=client)
    assert final.tags == ["2.0"]
    assert sorted(final.unchanged) == ["1.0", "1.1"]


def test_noop_sync_costs_tag_lists_and_heads(
    registry: LocalRegistry, fixture_images: FixtureImages, client: rk.Client
) -> None:
    fixture_images.push_fixtures(registry)
    src = f"{registry.host}/fixtures/single"
    dst = f"{registry.host}/noopsync/single"
    sync(src, dst, client=client)
    with FaultProxy(registry.host) as proxy:
        result = sync(
            f"{proxy.host}/fixtures/single", f"{proxy.host}/noopsync/single", client=client
        )
        assert result.copied == []
        methods = {(m, p.split("?")[0].rsplit("/", 2)[-2]) for m, p in proxy.requests}
        assert methods <= {("GET", "tags"), ("HEAD", "manifests"), ("GET", "v2")}


def test_copy_takes_any_pair_of_locations(
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    """Registry → layout → docker-archive → registry: the same bytes, the same digest."""
    src, digest = fixture_images.push_fixtures(registry)["single"]
    oci, tar = f"oci:{tmp_path / 'layout'}", f"docker-archive:{tmp_path / 'a.tar'}"
    layout = copy(src, oci, client=client)
    assert layout.digest == digest and layout.tags == ["1.0"]
    assert skopeo.inspect(f"{oci}:1.0")["Digest"] == digest

    archive = copy(f"{oci}:1.0", tar)
    assert archive.digest == digest and archive.destination == f"{tar}:1.0"

    back = copy(tar, f"{registry.host}/anypair/app:2", client=client)
    assert back.digest == digest
    assert back.bytes_copied + back.bytes_mounted + back.bytes_skipped == back.size
    assert skopeo.inspect(f"docker://{registry.host}/anypair/app:2")["Digest"] == digest
