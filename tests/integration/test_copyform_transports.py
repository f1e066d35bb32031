"""CopyForm across transports: registries, OCI layouts, docker-archives and podman's store.

podman (in a sandbox: ``registrykit.lab.podman.PodmanSandbox``) and skopeo are
the referees, and every Verify command the form's result prints is run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.podman import Podman, lab_podman

import registrykit as rk
from registrykit.lab import samples
from registrykit.widgets import CopyForm

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def seeded() -> Iterator[rk.LocalRegistry]:
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        samples.push(reg, client=client)
        yield reg


@pytest.fixture
def podman(tmp_path: Path, seeded: rk.LocalRegistry) -> Iterator[Podman]:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    with lab_podman(tmp_path, seeded.host) as sandboxed:
        yield sandboxed


def _verify(result: object) -> str:
    """The result's Verify command, after running it (it must succeed)."""
    found = re.search(r"Verify:\n\s+(.+)", str(result))
    assert found is not None, str(result)
    command = found[1].strip()
    proc = subprocess.run(command.split(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{command}: {proc.stderr}"
    return command


def _calls() -> tuple[list[tuple[str, str]], object]:
    calls: list[tuple[str, str]] = []

    def copy(src: str, dst: str, **kwargs: object) -> str:
        calls.append((src, dst))
        return "copied"

    return calls, copy


def test_a_typed_prefix_selects_the_transport() -> None:
    calls, copy = _calls()
    form = CopyForm("podman:myapp:latest", "docker://b.example/x:1", copy=copy)
    assert (form.source_transport.value, form.source.value) == ("podman", "myapp:latest")
    assert (form.destination_transport.value, form.destination.value) == ("docker", "b.example/x:1")
    form.destination.value = "oci:/tmp/layout:1"
    assert form.destination_transport.value == "oci"
    assert "DIR" in form.destination.placeholder
    form.button.click()
    assert calls == [("podman:myapp:latest", "oci:/tmp/layout:1")]


def test_an_empty_runtime_destination_is_a_pull_and_an_empty_registry_one_is_refused() -> None:
    calls, copy = _calls()
    form = CopyForm("a.example/x:1", "", copy=copy)
    form.button.click()
    assert "Enter a source and a destination" in form.status.value and not calls
    form.destination_transport.value = "podman"
    assert "empty: the source's name" in form.destination.placeholder
    form.button.click()
    assert calls == [("a.example/x:1", "podman:")]


def test_changing_a_transport_drops_the_result_and_the_platforms(
    seeded: rk.LocalRegistry, tmp_path: Path
) -> None:
    with rk.Client(cache_dir=None) as client:
        form = CopyForm(
            f"{seeded.host}/samples/api:2.1.0", f"oci:{tmp_path / 'api'}:2.1.0", client=client
        )
        form.inspect_button.click()
        assert form.platforms.options == ("linux/amd64", "linux/arm64/v8")
        form.button.click()
    assert "Copied" in form.status.value and form.output.outputs
    _verify(form.result)
    form.destination_transport.value = "docker-archive"
    assert form.result is None and not form.output.outputs and not form.status.value
    assert form.platforms.options == ("linux/amd64", "linux/arm64/v8")  # same source
    form.source_transport.value = "oci"
    assert form.platforms.options == ()  # another source: its platforms are unknown


def test_buttons_are_disabled_while_a_transport_copy_runs() -> None:
    seen: list[tuple[bool, bool]] = []
    forms: list[CopyForm] = []

    def copy(src: str, dst: str, **kwargs: object) -> str:
        seen.append((forms[0].button.disabled, forms[0].inspect_button.disabled))
        return "copied"

    forms.append(CopyForm("podman:myapp:1", "oci:/tmp/x:1", copy=copy))
    forms[0].button.click()
    assert seen == [(True, True)]
    assert not forms[0].button.disabled and not forms[0].inspect_button.disabled


def test_pull_into_podman_then_push_from_it(
    seeded: rk.LocalRegistry, podman: Podman, tmp_path: Path
) -> None:
    source = f"{seeded.host}/samples/webapp:v1.4.0"
    with rk.Client(cache_dir=None) as client:
        form = CopyForm(source, "", client=client)
        form.destination_transport.value = "podman"
        form.button.click()
        assert "Copied" in form.status.value, form.status.value
        assert source in podman.names()
        assert _verify(form.result) == f"podman image inspect {source}"
        image_id = podman.inspect(source)["Id"]

        back = CopyForm("podman:" + source, f"{seeded.host}/forms-podman/webapp:1", client=client)
        back.button.click()
        assert "Copied" in back.status.value, back.status.value
    _verify(back.result)
    # podman's image id is the config digest: the registry now holds the same config.
    raw = rk.manifest(f"{seeded.host}/forms-podman/webapp:1", client=rk.Client(cache_dir=None))
    assert raw["config"]["digest"] == f"sha256:{image_id}"


def test_layout_to_archive_to_podman(seeded: rk.LocalRegistry, podman: Podman, tmp_path: Path):
    layout, archive = tmp_path / "hello", tmp_path / "hello.tar"
    with rk.Client(cache_dir=None) as client:
        rk.pull(f"{seeded.host}/samples/hello:latest", layout, client=client)
        form = CopyForm(f"oci:{layout}:latest", f"docker-archive:{archive}", client=client)
        form.button.click()
        assert "Copied" in form.status.value, form.status.value
        _verify(form.result)
        form.source.value, form.destination.value = f"docker-archive:{archive}", "podman:hello:1"
        form.button.click()
        assert "Copied" in form.status.value, form.status.value
    assert _verify(form.result) == "podman image inspect localhost/hello:1"
    assert "localhost/hello:1" in podman.names()
