"""Forms never keep stale state, and never run twice, driven from Python against real registries.

Also what the lab shows a learner: ``lab.host`` after ``stop()`` and the summary
``samples.push`` returns.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

import registrykit as rk
from registrykit.lab import samples
from registrykit.widgets import CopyForm, DeleteForm, LoginForm, RegistryBrowser


@pytest.fixture(scope="module")
def seeded() -> Iterator[rk.LocalRegistry]:
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        reg.pushed = samples.push(reg, client=client)  # type: ignore[attr-defined]
        yield reg


@pytest.fixture
def webapp_repo(seeded: rk.LocalRegistry, client: rk.Client) -> str:
    """The webapp samples in a repository of their own, free to delete from."""
    repository = f"state-{uuid.uuid4().hex[:12]}/webapp"
    webapp = [
        dataclasses.replace(sample, repository=repository)
        for sample in samples.samples()
        if sample.repository == "samples/webapp"
    ]
    samples.push(seeded, webapp, client=client)
    return repository


def _text(output) -> str:
    return " ".join(str(o.get("data", {})) for o in output.outputs)


def test_delete_form_drops_its_preview_when_untag_only_changes(seeded, webapp_repo, client):
    form = DeleteForm(f"{seeded.host}/{webapp_repo}:stable", client=client)
    form.preview_button.click()
    assert form.output.outputs and form.plan is not None
    form.confirm.value = True
    form.untag_only.value = True
    assert not form.output.outputs and form.plan is None  # the full-delete preview is gone
    assert form.button.disabled and not form.confirm.value
    form.preview_button.click()
    assert "Tags that would be removed" in _text(form.output) or form.plan.untag_only


def test_delete_form_never_shows_an_old_result_above_a_new_error(seeded, webapp_repo, client):
    form = DeleteForm(f"{seeded.host}/{webapp_repo}:latest", client=client)
    form.untag_only.value = True
    form.preview_button.click()
    form.confirm.value = True
    form.button.click()
    assert form.output.outputs and "Deleted" in form.status.value
    form.image.value = f"{seeded.host}/{webapp_repo}:no-such-tag"
    assert not form.output.outputs and not form.status.value
    form.preview_button.click()
    assert "not found" in form.status.value.lower()
    assert not form.output.outputs  # no "Tag removed" left above the error


def test_buttons_are_disabled_while_work_runs():
    seen: list[tuple[str, bool, bool]] = []
    forms: dict[str, object] = {}

    def copy(src, dst, **kwargs):
        form = forms["copy"]
        seen.append(("copy", form.button.disabled, form.inspect_button.disabled))
        return "copied"

    def delete(image, **kwargs):
        form = forms["delete"]
        seen.append(("delete", form.preview_button.disabled, form.button.disabled))
        return "plan"

    forms["copy"] = copy_form = CopyForm("a.example/x:1", "b.example/x:1", copy=copy)
    forms["delete"] = delete_form = DeleteForm("a.example/x:1", delete=delete)
    copy_form.button.click()
    delete_form.preview_button.click()
    assert seen == [("copy", True, True), ("delete", True, True)]
    assert not copy_form.button.disabled and not delete_form.preview_button.disabled
    copy_form.button.disabled = True  # what the browser sees mid-run: a click does nothing
    copy_form.button.click()
    assert len(seen) == 2


def test_copy_form_resets_platforms_when_the_source_changes(seeded, registry, client):
    form = CopyForm(f"{seeded.host}/samples/api:2.1.0", f"{registry.host}/x/api:1", client=client)
    form.inspect_button.click()
    form.platforms.value = ("linux/arm64/v8",)
    form.source.value = f"{seeded.host}/samples/worker:0.9.0"
    assert form.platforms.options == () and form.platforms.value == ()
    assert not form.status.value
    form.button.click()
    assert "Copied" in form.status.value
    assert form.result.platforms != ["linux/arm64/v8"]  # not the old image's choice
    form.destination.value = f"{registry.host}/x/other:1"
    assert not form.output.outputs and form.result is None


def test_login_form_error_has_no_local_registry_hint(htpasswd_registry, isolated_home):
    with rk.Client(cache_dir=None) as client:
        form = LoginForm(htpasswd_registry.host, client=client)
        form.username.value = htpasswd_registry.username
        form.password.value = "wrong-password-123"
        form.button.click()
    assert "refused the login" in form.status.value
    assert "no login is needed" not in form.status.value
    assert not form.button.disabled
    form.registry.value = "ghcr.io"
    assert not form.status.value  # the old error was about another registry


def test_browser_selects_a_repository_and_shows_a_chart_repository(seeded, client):
    browser = RegistryBrowser(seeded.host, client=client)
    browser.load_button.click()
    assert browser.repository.value == browser.repository.options[0]
    assert browser.history.outputs  # the selected repository is shown right away
    browser.repository.value = "samples/charts/webapp"
    assert browser.tag.options == ("0.1.0",)
    assert "0.1.0" in _text(browser.history)


def test_browser_given_a_registry_shows_it_without_a_click(seeded, client):
    browser = RegistryBrowser(seeded.host, client=client)
    assert browser.repository.value == browser.repository.options[0]
    assert "samples/webapp" in browser.repository.options
    assert browser.tag.options  # the first repository's tags are already there


def test_lab_host_survives_stop():
    lab = rk.LocalRegistry()
    with pytest.raises(rk.RegistryUnavailable, match="not started"):
        _ = lab.host
    lab.start()
    host = lab.host
    lab.stop()
    assert lab.host == host and host in repr(lab)
    with pytest.raises(rk.RegistryUnavailable, match="not started"):
        _ = lab.port
    with pytest.raises(rk.RegistryUnavailable):
        rk.tags(f"{host}/samples/hello", client=rk.Client(cache_dir=None))


def test_samples_push_returns_a_compact_summary(seeded):
    pushed = seeded.pushed
    lines = repr(pushed).splitlines()
    assert len(lines) == len(samples.samples()) + 2
    assert lines[0] == f"{len(pushed)} samples pushed to {seeded.host}"
    assert all(len(line) < 110 for line in lines)
    webapp = next(line for line in lines if "v1.4.0" in line)
    assert "7.34 MiB" in webapp and "sha256:8e36df74cb07…" in webapp
