"""``--cert-dir`` (skopeo's meaning) and clear ``--ca-bundle`` errors, against a TLS registry.

skopeo, given the same directory with ``--cert-dir``, is the referee: both
read the same image from the registry whose CA only that directory holds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.internals import TransportPolicy

import registrykit as rk
from registrykit.lab.build import build_image, gzip_layer, tar_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registrykit", "--no-cache", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.fixture
def cert_dir(tls_registry: LocalRegistry, tmp_path: Path) -> Path:
    """A directory as skopeo's --cert-dir wants it: the registry's CA as *.crt."""
    assert tls_registry.ca_file is not None
    directory = tmp_path / "certs"
    directory.mkdir()
    shutil.copyfile(tls_registry.ca_file, directory / "registry-ca.crt")
    return directory


def test_cert_dir_trusts_the_registry_as_skopeo_does(
    tls_registry: LocalRegistry, cert_dir: Path, tmp_path: Path
) -> None:
    layout = write_oci_layout(
        tmp_path / "src", [("v1", build_image([gzip_layer(tar_layer({"c": b"cert"}))]))]
    )
    ref = f"{tls_registry.host}/certdir/app:v1"
    with pytest.raises(rk.TLSError):
        with rk.Client(cache_dir=None) as plain:
            rk.inspect(ref, client=plain)
    with rk.Client(cache_dir=None, cert_dir=cert_dir) as client:
        pushed = rk.push(layout, ref, client=client)
        assert rk.inspect(ref, client=client).digest == pushed.digest
    proc = _cli("--cert-dir", str(cert_dir), "--format", "json", "tags", ref.rsplit(":", 1)[0])
    assert proc.returncode == 0 and "v1" in proc.stdout, proc.stderr
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    referee = subprocess.run(
        ["skopeo", "inspect", "--cert-dir", str(cert_dir), "--format", "{{.Digest}}",
         f"docker://{ref}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert referee.returncode == 0, referee.stderr
    assert referee.stdout.strip() == pushed.digest


def test_ca_bundle_directory_says_to_use_cert_dir(cert_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(rk.TLSError, match="--cert-dir"):
        rk.Client(cache_dir=None, ca_bundle=cert_dir)
    proc = _cli("--ca-bundle", str(cert_dir), "tags", "localhost:1/app")
    assert proc.returncode == 1
    assert "Errno" not in proc.stderr and "--cert-dir" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    missing = _cli("--ca-bundle", str(tmp_path / "nope.pem"), "tags", "localhost:1/app")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    wrong = _cli("--cert-dir", str(tmp_path / "nope"), "tags", "localhost:1/app")
    assert wrong.returncode == 1 and "not a directory" in wrong.stderr


def test_cert_dir_replaces_certs_d_and_gives_the_client_pair(tmp_path: Path) -> None:
    certs_d = tmp_path / "certs.d" / "reg.example"
    certs_d.mkdir(parents=True)
    for name in ("other.cert", "other.key"):
        (certs_d / name).write_text("x")
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("client.cert", "client.key", "lonely.cert"):
        (mine / name).write_text("x")
    policy = TransportPolicy(certs_dirs=(str(tmp_path / "certs.d"),), cert_dir=mine)
    assert policy.client_cert("reg.example") == (
        str(mine / "client.cert"),
        str(mine / "client.key"),
    )
    assert policy.client_cert("any.example") == policy.client_cert("reg.example")
    default = TransportPolicy(certs_dirs=(str(tmp_path / "certs.d"),))
    assert default.client_cert("reg.example") == (
        str(certs_d / "other.cert"),
        str(certs_d / "other.key"),
    )
