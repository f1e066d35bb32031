"""rk.tag and rk.delete against a real registry (and a 405 one), skopeo as referee."""

from __future__ import annotations

import pytest
from support.images import FixtureImages
from support.internals import delete as _delete
from support.skopeo import Skopeo

import registrykit as rk
from registrykit import RegistryError, copy, delete, tag
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def image(
    request: pytest.FixtureRequest,
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    client: rk.Client,
) -> tuple[str, str]:
    """A private copy of the single fixture, so deletes do not disturb other tests."""
    src, digest = fixture_images.push_fixtures(registry)["single"]
    repo = f"{registry.host}/tagdel/{request.node.name.replace('_', '-').lower()[:60]}"
    copy(src, f"{repo}:1.0", client=client)
    return repo, digest


def _head(client: rk.Client, repo: str, tag_name: str) -> str | None:
    ref = rk.parse_reference(f"{repo}:{tag_name}")
    found = client.registry(ref).head_manifest(ref.repository, tag_name)
    return found.digest if found else None


def test_tag_keeps_the_digest(image: tuple[str, str], client: rk.Client, skopeo: Skopeo) -> None:
    repo, digest = image
    result = tag(f"{repo}:1.0", "latest", ":stable", f"{repo}:v1", client=client)
    assert result.digest == digest
    assert result.tags == ["latest", "stable", "v1"]
    for t in result.tags:
        assert skopeo.inspect(f"docker://{repo}:{t}")["Digest"] == digest
    text = str(result)
    assert "✓ Image tagged successfully" in text and f"docker pull {repo}:latest" in text


def test_tag_refuses_other_repositories_and_bad_tags(
    image: tuple[str, str], client: rk.Client
) -> None:
    repo, _ = image
    with pytest.raises(ValueError, match=r"rk\.copy"):
        tag(f"{repo}:1.0", "127.0.0.1:1/other/repo:1", client=client)
    with pytest.raises(ValueError, match="at least one"):
        tag(f"{repo}:1.0", client=client)
    with pytest.raises(rk.InvalidReference):
        tag(f"{repo}:1.0", "bad tag!", client=client)


def test_dry_run_lists_siblings_and_deletes_nothing(
    image: tuple[str, str], client: rk.Client
) -> None:
    repo, digest = image
    tag(f"{repo}:1.0", "latest", client=client)
    plan = delete(f"{repo}:latest", dry_run=True, client=client)
    assert plan.dry_run and not plan.deleted
    assert plan.digest == digest
    assert sorted(plan.tags) == ["1.0", "latest"]
    assert _head(client, repo, "1.0") == digest
    assert "Dry run" in str(plan) and "garbage" in str(plan)


def test_delete_removes_the_manifest_and_every_sibling(
    image: tuple[str, str], client: rk.Client, skopeo: Skopeo
) -> None:
    repo, _digest = image
    tag(f"{repo}:1.0", "latest", client=client)
    result = delete(f"{repo}:1.0", client=client)
    assert result.deleted and not result.dry_run
    assert sorted(result.tags) == ["1.0", "latest"]
    assert _head(client, repo, "1.0") is None
    assert _head(client, repo, "latest") is None
    proc = skopeo.run("inspect", "--tls-verify=false", f"docker://{repo}:latest", check=False)
    assert proc.returncode != 0
    assert "garbage-collect" in str(result)


def test_untag_only_keeps_the_siblings(
    image: tuple[str, str], client: rk.Client, skopeo: Skopeo
) -> None:
    repo, digest = image
    tag(f"{repo}:1.0", "latest", "keep-me", client=client)
    result = delete(f"{repo}:latest", untag_only=True, client=client)
    assert result.deleted and result.untag_only
    assert result.removed_tags == ["latest"]
    assert _head(client, repo, "latest") is None
    assert _head(client, repo, "1.0") == digest
    assert skopeo.inspect(f"docker://{repo}:keep-me")["Digest"] == digest
    ref = rk.parse_reference(repo + ":1.0")
    assert "latest" not in client.registry(ref).tags(ref.repository)


def test_delete_by_digest(image: tuple[str, str], client: rk.Client) -> None:
    repo, digest = image
    result = delete(f"{repo}@{digest}", client=client)
    assert result.deleted and result.tags == ["1.0"]
    assert _head(client, repo, "1.0") is None


def test_tag_moved_before_delete_deletes_nothing(
    image: tuple[str, str],
    client: rk.Client,
    registry: LocalRegistry,
    fixture_images: FixtureImages,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, digest = image
    other, _ = fixture_images.push_fixtures(registry)["docker"]
    real = _delete._referrers

    def move_tag_meanwhile(*args: object) -> list[str]:
        copy(other, f"{repo}:1.0", client=client)  # someone re-pushes the tag
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_delete, "_referrers", move_tag_meanwhile)
    with pytest.raises(RegistryError, match=r"moved .* nothing was deleted"):
        delete(f"{repo}:1.0", client=client)
    assert _head(client, repo, "1.0") not in (None, digest)


def test_untag_only_needs_a_tag(image: tuple[str, str], client: rk.Client) -> None:
    repo, digest = image
    with pytest.raises(ValueError, match="needs a tag"):
        delete(f"{repo}@{digest}", untag_only=True, client=client)
