"""The local runtime bridge: images in podman's (and a stand-in docker's) store, pushed and pulled.

podman is the referee (``podman images``, ``podman image inspect``); it runs
in a sandbox per test (tests/support/podman.py). No docker daemon runs on
these machines: ``docker-daemon:`` is tested against a stand-in ``docker``
script that implements save/load/image inspect over the sandboxed podman.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import oci as mt
from support.internals import CredentialStore, credential_records
from support.podman import Podman, docker_stand_in, podman_sandbox
from support.skopeo import Skopeo

import registrykit as rk
from registrykit.lab.build import (
    Image,
    Index,
    build_image,
    build_index,
    gzip_layer,
    tar_layer,
    write_oci_layout,
)
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def podman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Podman:
    return podman_sandbox(tmp_path, monkeypatch)


def _image(text: str) -> Image:
    return build_image([gzip_layer(tar_layer({"hello.txt": text.encode()}))], cmd=["/hello"])


def _into_podman(podman: Podman, tmp_path: Path, name: str, text: str = "hi") -> Image:
    """An image in podman's store, put there by podman itself (``podman load``)."""
    image = _image(text)
    layout = write_oci_layout(tmp_path / f"layout-{text}", [("1", image)])
    podman.run("pull", "-q", f"oci:{layout}:1")
    podman.run("tag", podman.run("images", "-q").stdout.split()[0], name)
    return image


def _config_id(skopeo: Skopeo, ref: str) -> str:
    """The config digest's hex, which podman shows as the image ID."""
    raw = skopeo.inspect(f"docker://{ref}", "--raw")
    return str(raw["config"]["digest"]).removeprefix("sha256:")


def test_push_takes_an_image_from_podmans_store(
    podman: Podman,
    registry: LocalRegistry,
    skopeo: Skopeo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTAINER_RUNTIME", "podman")
    _into_podman(podman, tmp_path, "myapp:latest")
    target = f"{registry.host}/bridge/myapp:v1"
    with rk.Client(cache_dir=None) as client:
        result = rk.push("myapp:latest", target, client=client)
    assert result.digest is not None
    # The registry now holds the image podman has: the same config.
    assert _config_id(skopeo, target) == podman.inspect("localhost/myapp:latest")["Id"]


def test_pull_into_podman_loads_the_image_under_its_name(
    podman: Podman, registry: LocalRegistry, tmp_path: Path
) -> None:
    image = _image("pulled")
    layout = write_oci_layout(tmp_path / "src", [("1", image)])
    target = f"{registry.host}/bridge/pulled:v2"
    with rk.Client(cache_dir=None) as client:
        rk.push(layout, target, client=client)
        result = rk.pull(target, into="podman", client=client)
    assert result.format == "podman"
    assert target in podman.names()
    assert podman.inspect(target)["Id"] == image.config.digest.removeprefix("sha256:")


def test_copy_between_podman_names_and_layouts(podman: Podman, tmp_path: Path) -> None:
    image = _image("copied")
    layout = write_oci_layout(tmp_path / "src", [("1", image)])
    rk.copy(f"oci:{layout}:1", "podman:myapp:v3")
    assert "localhost/myapp:v3" in podman.names()
    back = rk.copy("podman:myapp:v3", f"oci:{tmp_path / 'back'}:v3")
    assert back.tags == ["v3"]
    podman.run("rmi", "localhost/myapp:v3")
    podman.run("pull", "-q", f"oci:{tmp_path / 'back'}:v3")
    assert podman.inspect(podman.run("images", "-q").stdout.split()[0])["Id"] == (
        image.config.digest.removeprefix("sha256:")
    )


def test_missing_podman_image_says_so(podman: Podman) -> None:
    with pytest.raises(rk.NotFound):
        rk.copy("podman:nothing:here", "podman:other:tag")


def test_docker_daemon_transport_over_a_stand_in(
    podman: Podman,
    registry: LocalRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No docker daemon runs here: this "docker" is a script over podman.
    docker_stand_in(tmp_path, monkeypatch)
    monkeypatch.setenv("CONTAINER_RUNTIME", "docker")
    _into_podman(podman, tmp_path, "docker.io/library/webapp:1")
    target = f"{registry.host}/bridge/webapp:1"
    with rk.Client(cache_dir=None) as client:
        rk.push("webapp:1", target, client=client)
        rk.copy("docker-daemon:webapp:1", f"{registry.host}/bridge/webapp:2", client=client)
        rk.pull(target, into="docker", client=client)
    assert target in podman.names()


# -- OCI layouts of Docker-format images open by tag in skopeo and podman ------------


def _docker_format(registry: LocalRegistry, tmp_path: Path) -> tuple[Image, Index, str]:
    """A Docker v2s2 image and manifest list in the registry; returns their repository."""
    amd = build_image([gzip_layer(tar_layer({"a": b"amd"}))], format="docker")
    arm = build_image([gzip_layer(tar_layer({"a": b"arm"}))], architecture="arm64", format="docker")
    index = build_index([amd, arm], format="docker")
    src = write_oci_layout(tmp_path / "docker-src", [("list", index), ("single", amd)])
    repo = f"{registry.host}/bridge/dockerformat"
    with rk.Client(cache_dir=None) as client:
        rk.push(src, repo, all_tags=True, client=client)
    return amd, index, repo


def test_docker_manifest_list_in_a_layout_opens_by_tag(
    podman: Podman, registry: LocalRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    _, index, repo = _docker_format(registry, tmp_path)
    out = tmp_path / "out"
    with rk.Client(cache_dir=None) as client:
        result = rk.pull(f"{repo}:list", out, client=client)
    assert result.media_type == mt.OCI_INDEX
    assert result.source_digest == index.digest
    assert result.digest != index.digest and result.digest_changed
    assert skopeo.inspect(f"oci:{out}:list", "--raw")["mediaType"] == mt.OCI_INDEX
    # The Verify command the result prints succeeds.
    verify = re.search(r"skopeo inspect oci:\S+", str(result))
    assert verify is not None
    assert subprocess.run(verify[0].split(), capture_output=True, check=False).returncode == 0
    podman.run("pull", "-q", f"oci:{out}:list")


def test_docker_image_in_a_layout_loads_in_podman(
    podman: Podman, registry: LocalRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    amd, _, repo = _docker_format(registry, tmp_path)
    out = tmp_path / "single"
    with rk.Client(cache_dir=None) as client:
        result = rk.pull(f"{repo}:single", out, client=client)
    assert (result.source_digest, result.media_type) == (amd.digest, mt.OCI_MANIFEST)
    assert skopeo.inspect(f"oci:{out}:single")["Digest"] == result.digest
    podman.run("load", "-q", "-i", str(out))
    assert podman.inspect(podman.run("images", "-q").stdout.split()[0])["Id"] == (
        amd.config.digest.removeprefix("sha256:")
    )


def test_preserve_digests_keeps_the_docker_bytes(registry: LocalRegistry, tmp_path: Path) -> None:
    _, index, repo = _docker_format(registry, tmp_path)
    with rk.Client(cache_dir=None) as client:
        result = rk.copy(
            f"{repo}:list", f"oci:{tmp_path / 'kept'}:list", preserve_digests=True, client=client
        )
    assert result.digest == index.digest and not result.digest_changed


# -- logins where podman looks ------------------------------------------------------------


def _podman_only(podman: Podman, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH with podman and no docker CLI: podman is the only runtime."""
    bin_dir = podman.root / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").symlink_to(shutil.which("podman") or "/usr/bin/podman")
    monkeypatch.setenv("PATH", str(bin_dir))


def test_podman_logout_succeeds_after_rk_login(
    podman: Podman, htpasswd_registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _podman_only(podman, monkeypatch)
    host, user = htpasswd_registry.host, htpasswd_registry.username
    with rk.Client(cache_dir=None) as client:
        result = rk.login(host, user, htpasswd_registry.password, client=client)
    assert result.stored_in == str(podman.root / "run" / "containers" / "auth.json")
    assert podman.run("login", "--get-login", host).stdout.strip() == user
    podman.run("logout", host)
    assert credential_records() == []


def test_a_podman_login_is_used_by_registrykit(
    podman: Podman, htpasswd_registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _podman_only(podman, monkeypatch)
    host, user = htpasswd_registry.host, htpasswd_registry.username
    proc = subprocess.run(
        ["podman", "login", "--tls-verify=false", "-u", user, "--password-stdin", host],
        input=htpasswd_registry.password,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    with rk.Client(cache_dir=None) as client:
        assert list(client.registry(host).catalog()) is not None
    records = credential_records()
    assert [(r["registry"], r["username"]) for r in records] == [(host, user)]


def test_podman_logs_out_of_a_docker_hub_login_registrykit_stored(
    podman: Podman, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stored directly (rk.login would verify against Docker Hub): the key must be docker.io.
    _podman_only(podman, monkeypatch)
    CredentialStore().store("docker.io", "alice", "not-a-real-secret")
    assert podman.run("login", "--get-login", "docker.io").stdout.strip() == "alice"
    podman.run("logout", "docker.io")
    assert CredentialStore().get("docker.io") is None


def test_pull_of_a_manifest_list_into_podman_loads_one_platform(
    podman: Podman, registry: LocalRegistry, tmp_path: Path
) -> None:
    amd, _, repo = _docker_format(registry, tmp_path)
    with rk.Client(cache_dir=None) as client:
        result = rk.pull(f"{repo}:list", into="podman", client=client)
    assert result.platforms == ["linux/amd64"]
    assert podman.inspect(f"{repo}:list")["Id"] == amd.config.digest.removeprefix("sha256:")
