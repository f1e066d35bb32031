"""``inspect().tags`` are the tags of this image; ``repo_tags`` (skopeo's RepoTags) all of them."""

from __future__ import annotations

import registrykit as rk


def test_inspect_lists_the_image_tags_and_keeps_repo_tags(registry, client):
    rk.samples.push(registry, rk.samples.webapp(), client=client)
    repository = f"{registry.host}/samples/webapp"
    stable = rk.inspect(f"{repository}:stable", client=client)
    assert stable.tags == ("v1.4.0", "latest", "stable", "2024-05-13", "3f2a9c1")
    assert rk.inspect(f"{repository}:v1.3.0", client=client).tags == ("v1.3.0",)
    listed = rk.tags(repository, client=client)["tag"]
    assert sorted(stable.repo_tags) == sorted(set(listed))
    assert stable.to_dict()["RepoTags"] == list(stable.repo_tags)
    assert "Tags: v1.4.0, latest, stable, 2024-05-13, 3f2a9c1" in str(stable)
