"""``registrykit copy|pull|push`` across transports, with every printed Verify command run.

podman runs in a sandbox (``registrykit.lab.podman.PodmanSandbox``, its
registries.conf naming the test registry insecure) and is the referee with
skopeo. No docker daemon runs on these machines: ``docker-daemon:`` and
``--into docker`` use the stand-in ``docker`` script over podman from
tests/support/podman.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.podman import Podman, docker_stand_in, lab_podman

import registrykit as rk
from registrykit.lab import samples
from registrykit.lab.build import (
    Image,
    build_image,
    build_index,
    gzip_layer,
    tar_layer,
    write_oci_layout,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def seeded() -> Iterator[rk.LocalRegistry]:
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        samples.push(reg, client=client)
        yield reg


@pytest.fixture
def podman(tmp_path: Path, seeded: rk.LocalRegistry) -> Iterator[Podman]:
    if shutil.which("podman") is None or shutil.which("skopeo") is None:
        pytest.skip("podman and skopeo are the referees here")
    with lab_podman(tmp_path, seeded.host) as sandboxed:
        yield sandboxed


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registrykit", "--no-cache", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ),
    )


def ok(*args: str) -> str:
    """Run the command; it succeeds, prints a Verify command, and that command succeeds."""
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    found = re.search(r"Verify:\n\s+(.+)", proc.stdout)
    assert found is not None, proc.stdout
    command = found[1].strip()
    verify = subprocess.run(command.split(), capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, f"{command}: {verify.stderr}"
    return command


def failed(*args: str, code: int = 1) -> str:
    """Run the command; it fails with ``code`` and a one-line error."""
    proc = cli(*args)
    assert proc.returncode == code, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("registrykit: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def _config(podman: Podman, name: str) -> str:
    return "sha256:" + str(podman.inspect(name)["Id"])


def test_copy_through_every_transport(seeded: rk.LocalRegistry, podman: Podman, tmp_path: Path):
    source = f"{seeded.host}/samples/webapp:v1.4.0"
    layout, archive = tmp_path / "layout", tmp_path / "webapp.tar"
    target = f"{seeded.host}/cli-transports/webapp:round-trip"
    steps = [
        (source, "podman:myapp:1", "podman image inspect localhost/myapp:1"),
        ("podman:myapp:1", f"oci:{layout}:1", f"skopeo inspect oci:{layout}:1"),
        (
            f"oci:{layout}:1",
            f"docker-archive:{archive}",
            f"skopeo inspect docker-archive:{archive}",
        ),
        (
            f"docker-archive:{archive}",
            target,
            f"skopeo inspect --tls-verify=false docker://{target}",
        ),
    ]
    for src, dst, verify in steps:
        assert ok("copy", src, dst) == verify
    # The same image all the way: the config podman holds is the one the registry has now.
    raw = rk.manifest(target, client=rk.Client(cache_dir=None))
    assert raw["config"]["digest"] == _config(podman, "localhost/myapp:1")


def test_pull_into_podman_and_push_from_its_store(seeded: rk.LocalRegistry, podman: Podman):
    source = f"{seeded.host}/samples/hello:latest"
    assert ok("pull", source, "--into", "podman") == f"podman image inspect {source}"
    assert source in podman.names()
    podman.run("tag", source, "myapp:latest")
    target = f"{seeded.host}/cli-transports/myapp:1"
    assert ok("push", "myapp:latest", target).endswith(f"docker://{target}")
    assert ok("push", "podman:myapp:latest", f"{target}-again").endswith(f"{target}-again")
    raw = rk.manifest(target, client=rk.Client(cache_dir=None))
    assert raw["config"]["digest"] == _config(podman, "localhost/myapp:latest")
    # A runtime destination without a name takes the source's, as podman pull does.
    ok("copy", f"{seeded.host}/samples/api:2.1.0", "podman:", "--platform", "linux/arm64")
    assert f"{seeded.host}/samples/api:2.1.0" in podman.names()


def test_docker_daemon_over_a_stand_in(
    seeded: rk.LocalRegistry, podman: Podman, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No docker daemon here: "docker" is a script implementing save/load/image inspect over podman.
    docker_stand_in(tmp_path, monkeypatch)
    # Not monkeypatch: it would restore the sandbox's "podman" after the sandbox has
    # closed and leak it into later tests; the sandbox restores this variable itself.
    os.environ["CONTAINER_RUNTIME"] = "docker"
    source = f"{seeded.host}/samples/hello:latest"
    assert ok("pull", source, "--into", "docker") == f"docker image inspect {source}"
    target = f"{seeded.host}/cli-transports/from-docker:1"
    ok("copy", f"docker-daemon:{source}", target)
    ok("push", source, f"{target}-push")  # the detected runtime (docker) holds it
    assert source in podman.names()


def _docker_format(seeded: rk.LocalRegistry, tmp_path: Path) -> tuple[Image, str]:
    amd = build_image([gzip_layer(tar_layer({"a": b"cli-amd"}))], format="docker")
    arm = build_image(
        [gzip_layer(tar_layer({"a": b"cli-arm"}))], architecture="arm64", format="docker"
    )
    src = write_oci_layout(
        tmp_path / "docker-src",
        [("list", build_index([amd, arm], format="docker")), ("single", amd)],
    )
    repo = f"{seeded.host}/cli-transports/dockerformat"
    with rk.Client(cache_dir=None) as client:
        rk.push(src, repo, all_tags=True, client=client)
    return amd, repo


def test_oci_layouts_of_docker_format_images_verify(
    seeded: rk.LocalRegistry, podman: Podman, tmp_path: Path
) -> None:
    amd, repo = _docker_format(seeded, tmp_path)
    listed, single, kept = tmp_path / "list", tmp_path / "single", tmp_path / "kept"
    assert ok("copy", f"{repo}:list", f"oci:{listed}:list") == f"skopeo inspect oci:{listed}:list"
    assert ok("pull", f"{repo}:single", str(single)) == f"skopeo inspect oci:{single}:single"
    # Docker bytes kept: skopeo opens the entry only as the layout's sole image, untagged.
    assert ok("copy", f"{repo}:list", f"oci:{kept}:list", "--preserve-digests") == (
        f"skopeo inspect oci:{kept}"
    )
    every = tmp_path / "all"
    assert ok("pull", repo, str(every), "--all-tags").startswith(f"skopeo inspect oci:{every}:")
    # podman load of an all-tags layout used to say "more than one image"; by tag it opens.
    podman.run("pull", "-q", f"oci:{every}:single")
    # podman opens both layouts by tag too.
    podman.run("pull", "-q", f"oci:{listed}:list")
    podman.run("pull", "-q", f"oci:{single}:single")
    assert _config(podman, podman.run("images", "-q").stdout.split()[0]) == amd.config.digest


def test_errors_are_one_line(seeded: rk.LocalRegistry, podman: Podman, tmp_path: Path) -> None:
    source = f"{seeded.host}/samples/hello:latest"
    assert "--into" in failed("pull", source, code=2)
    assert "not both" in failed("pull", source, str(tmp_path / "x"), "--into", "podman", code=2)
    assert "invalid choice" in cli("pull", source, "--into", "containerd").stderr
    assert "image not known" in failed("push", "nothing:1", f"{seeded.host}/cli-transports/x:1")
    assert "image not known" in failed("copy", "podman:nothing:1", f"oci:{tmp_path / 'y'}")
    assert "index.json" in failed("copy", f"oci:{tmp_path / 'absent'}", "podman:")
    layout = write_oci_layout(tmp_path / "layout", [("1", build_image([]))])
    assert "name the image" in failed("copy", f"oci:{layout}:1", "podman:")
