"""A delete takes the image's referrers with it (design.md, "Images, not tags").

The samples sign webapp v1.4.0 the cosign way: a ``sha256-<hex>`` tag whose
index lists the signature. Deleting the image must not leave that tag behind,
pointing at nothing; removing one tag only must keep it; the preview says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import registrykit as rk


@pytest.fixture
def lab() -> Iterator[rk.LocalRegistry]:
    with rk.LocalRegistry() as registry:
        rk.samples.push(registry)
        yield registry


def _signature_tags(repository: str, client: rk.Client) -> list[str]:
    return [t for t in rk.tags(repository, client=client)["tag"] if t.startswith("sha256-")]


def test_a_full_delete_takes_the_signature_tag_along(lab, client):
    repository = f"{lab.host}/samples/webapp"
    signature = _signature_tags(repository, client)
    assert len(signature) == 1
    preview = rk.delete(f"{repository}:stable", dry_run=True, client=client)
    assert preview.removed_tags[:5] == ["v1.4.0", "latest", "stable", "2024-05-13", "3f2a9c1"]
    assert preview.removed_tags[-1] == signature[0]
    assert signature[0] in str(preview)
    result = rk.delete(f"{repository}:stable", client=client)
    assert result.deleted
    assert sorted(rk.tags(repository, client=client)["tag"]) == [
        "v1.0.0",
        "v1.1.0",
        "v1.2.0",
        "v1.3.0",
    ]


def test_removing_one_tag_keeps_the_signature(lab, client):
    repository = f"{lab.host}/samples/webapp"
    signature = _signature_tags(repository, client)
    result = rk.delete(f"{repository}:stable", untag_only=True, client=client)
    assert result.removed_tags == ["stable"]
    assert _signature_tags(repository, client) == signature
