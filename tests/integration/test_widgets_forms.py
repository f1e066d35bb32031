"""CopyForm, DeleteForm and RegistryBrowser driven from Python against real registries."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

import registrykit as rk
from registrykit.lab import samples
from registrykit.widgets import CopyForm, DeleteForm, RegistryBrowser


@pytest.fixture(scope="session")
def seeded() -> Iterator[rk.LocalRegistry]:
    """Every sample, pushed once per session. Read-only: tests that delete use ``webapp_repo``."""
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        samples.push(reg, client=client)
        yield reg


@pytest.fixture
def webapp_repo(seeded: rk.LocalRegistry, client: rk.Client) -> str:
    """The webapp samples (every tag, the siblings, the signature) in a repository of its own."""
    repository = f"forms-{uuid.uuid4().hex[:12]}/webapp"
    webapp = [
        dataclasses.replace(sample, repository=repository)
        for sample in samples.samples()
        if sample.repository == "samples/webapp"
    ]
    samples.push(seeded, webapp, client=client)
    return repository


def test_copy_form_reads_platforms_and_copies_a_subset(seeded, registry, client):
    form = CopyForm(
        f"{seeded.host}/samples/api:2.1.0", f"{registry.host}/forms/api:arm", client=client
    )
    form.inspect_button.click()
    assert form.platforms.options == ("linux/amd64", "linux/arm64/v8")
    form.platforms.value = ("linux/arm64/v8",)
    form.button.click()
    assert "Copied" in form.status.value
    assert form.result.platforms == ["linux/arm64/v8"]
    assert form.result.digest_changed
    copied = client.registry(registry.host).manifest("forms/api", "arm")
    assert copied.digest == form.result.digest
    assert [str(p) for p in copied.platforms] == ["linux/arm64/v8"]


def test_copy_form_shows_errors_with_their_remedy(seeded, client):
    form = CopyForm(f"{seeded.host}/samples/nothing:here", f"{seeded.host}/x:y", client=client)
    form.button.click()
    assert "not found" in form.status.value and "rk.tags" in form.status.value
    form.source.value = "Not A Reference"
    form.inspect_button.click()
    assert "Traceback" not in form.status.value and form.status.value


def test_delete_form_needs_a_preview_and_a_tick(seeded, webapp_repo, client):
    image = f"{seeded.host}/{webapp_repo}:stable"
    form = DeleteForm(image, client=client)
    assert form.button.disabled
    form.delete()  # refused without preview
    assert "Preview" in form.status.value
    form.preview_button.click()
    assert sorted(form.plan.tags) == sorted(["v1.4.0", *samples.WEBAPP_SIBLING_TAGS])
    assert form.plan.referrers  # the signature goes too
    assert form.button.disabled
    form.confirm.value = True
    assert not form.button.disabled
    form.image.value = f"{seeded.host}/{webapp_repo}:v1.0.0"  # changing the image resets
    assert form.button.disabled and not form.confirm.value
    form.image.value = image
    form.preview_button.click()
    form.confirm.value = True
    form.button.click()
    assert "Deleted" in form.status.value
    remaining = client.registry(seeded.host).tags(webapp_repo)
    assert not set(remaining) & {"v1.4.0", *samples.WEBAPP_SIBLING_TAGS}
    assert "v1.3.0" in remaining
    assert form.button.disabled  # a new delete needs a new preview


def test_delete_form_untag_only_keeps_siblings(seeded, webapp_repo, client):
    form = DeleteForm(f"{seeded.host}/{webapp_repo}:latest", client=client)
    form.untag_only.value = True
    form.preview_button.click()
    form.confirm.value = True
    form.button.click()
    remaining = client.registry(seeded.host).tags(webapp_repo)
    assert "latest" not in remaining and "stable" in remaining


def test_registry_browser_walks_registry_repository_tag(seeded, client):
    browser = RegistryBrowser(seeded.host, client=client)
    browser.load_button.click()
    assert "samples/webapp" in browser.repository.options
    browser.repository.value = "samples/webapp"
    assert "v1.3.0" in browser.tag.options
    browser.tag.value = "v1.3.0"
    assert browser.layers.outputs  # the layer table and plot were shown
    assert browser.history.outputs
    browser.registry.value = "127.0.0.1:1"
    browser.load_button.click()
    assert "cannot reach" in browser.status.value


def test_forms_call_the_operation_they_are_given():
    calls = []

    def fake_copy(src, dst, **kwargs):
        calls.append(("copy", src, dst, kwargs["client"]))
        return "copied"

    def fake_delete(image, **kwargs):
        calls.append(("delete", image, kwargs.get("dry_run", False), kwargs["client"]))
        return "plan" if kwargs.get("dry_run") else "deleted"

    copy_form = CopyForm("a.example/x:1", "b.example/x:1", copy=fake_copy)
    copy_form.button.click()
    assert copy_form.result == "copied"
    delete_form = DeleteForm("a.example/x:1", delete=fake_delete)
    delete_form.preview_button.click()
    delete_form.confirm.value = True
    delete_form.button.click()
    assert delete_form.result == "deleted"
    assert calls == [
        ("copy", "a.example/x:1", "b.example/x:1", None),
        ("delete", "a.example/x:1", True, None),
        ("delete", "a.example/x:1", False, None),
    ]
