"""diff_files against a real registry and a docker-archive, the CLI's ``diff --files``,
and the audit's ``unique_size`` on repositories that share base layers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import registrykit as rk
from registrykit.lab import samples
from registrykit.lab.build import Image, build_image, gzip_layer, tar_layer, write_oci_layout

DEBUG_ASSETS = "webapp/debug/symbols.bin"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registrykit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.fixture(scope="module")
def seeded() -> Iterator[rk.LocalRegistry]:
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        samples.push(reg, client=client)
        yield reg


def _explains_the_regression(df) -> None:
    first = df.iloc[0]
    assert (first["path"], first["status"], first["size_change"]) == (
        DEBUG_ASSETS,
        "added",
        6_000_000,
    )
    assert first["layer"] == 2 and first["created_by"] == "COPY debug-assets /webapp/debug"


def test_registry_images_diff_by_path(seeded: rk.LocalRegistry, client) -> None:
    repo = f"{seeded.host}/samples/webapp"
    df = rk.diff_files(f"{repo}:v1.2.0", f"{repo}:v1.3.0", client=client, progress=False)
    _explains_the_regression(df)
    assert set(df["path"]) == {DEBUG_ASSETS, "webapp/debug", "webapp/app.bin", "webapp/VERSION"}
    # The layer diff and the file diff agree on what v1.3.0 added.
    layers = rk.diff(f"{repo}:v1.2.0", f"{repo}:v1.3.0", client=client)
    assert (layers["status"] == "added").sum() == df["layer_digest"].nunique()


def test_a_docker_archive_diffs_against_a_registry_image(
    seeded: rk.LocalRegistry, tmp_path: Path, client
) -> None:
    repo = f"{seeded.host}/samples/webapp"
    archive = tmp_path / "webapp.tar"
    rk.pull(f"{repo}:v1.3.0", archive, format="docker-archive", client=client, progress=False)
    df = rk.diff_files(f"{repo}:v1.2.0", f"docker-archive:{archive}", client=client)
    _explains_the_regression(df)


def test_cli_diff_files_table_json_csv(seeded: rk.LocalRegistry) -> None:
    a, b = (f"{seeded.host}/samples/webapp:{t}" for t in ("v1.2.0", "v1.3.0"))
    table = run("--no-cache", "diff", "--files", a, b)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["path", "status", "kind"]
    assert DEBUG_ASSETS in lines[1] and "5.72 MiB" in lines[1]
    assert "net +5.78 MiB" in table.stderr
    rows = json.loads(run("--no-cache", "--format", "json", "diff", "--files", a, b).stdout)
    assert rows[0]["path"] == DEBUG_ASSETS and rows[0]["size_change"] == 6_000_000
    as_csv = list(
        csv.DictReader(io.StringIO(run("--format", "csv", "diff", "--files", a, b).stdout))
    )
    assert as_csv[0]["created_by"] == "COPY debug-assets /webapp/debug"
    gated = run("diff", "--files", "--max-growth", "10%", a, b)
    assert gated.returncode == 2 and "without --files" in gated.stderr


# -- audit: unique_size -------------------------------------------------------------

BASE = gzip_layer(tar_layer({"etc/os-release": b"ID=base\n", "lib/libc.so": b"l" * 5000}))
APP1 = gzip_layer(tar_layer({"app/one": b"1" * 300}))
APP2 = gzip_layer(tar_layer({"app/two": bytes(range(256)) * 40}))
OWN = gzip_layer(tar_layer({"srv/own": b"o" * 90}))
REPOS = {
    "shared/a": {"1.0": build_image([BASE, APP1]), "1.1": build_image([BASE, APP1, APP2])},
    "shared/b": {"1.0": build_image([BASE, APP2], created="2024-02-01T00:00:00Z")},
    "shared/c": {"1.0": build_image([OWN], created="2024-03-01T00:00:00Z")},
}


def _blobs(images: dict[str, Image]) -> dict[str, int]:
    return {b.digest: b.size for image in images.values() for b in image.blobs()}


def test_audit_unique_size_is_what_only_that_repository_holds(tmp_path: Path, client) -> None:
    with rk.LocalRegistry() as reg:
        for repo, images in REPOS.items():
            layout = write_oci_layout(tmp_path / repo.replace("/", "-"), list(images.items()))
            for tag in images:
                rk.copy(f"oci:{layout}:{tag}", f"{reg.host}/{repo}:{tag}", client=client)
        df = rk.audit(reg, client=client).set_index("repository")
    held = {repo: _blobs(images) for repo, images in REPOS.items()}
    for repo, blobs in held.items():
        others = {d for name, other in held.items() if name != repo for d in other}
        unique = sum(size for digest, size in blobs.items() if digest not in others)
        assert df.loc[repo, "unique_size"] == unique
        assert (
            df.loc[repo, "unique_size"] + df.loc[repo, "shared_size"] == df.loc[repo, "stored_size"]
        )
    # The base layer and APP2 are shared, so neither counts as unique anywhere.
    assert df.loc["shared/a", "unique_size"] < df.loc["shared/a", "stored_size"] - BASE.blob.size
    assert df.loc["shared/c", "unique_size"] == df.loc["shared/c", "stored_size"]
    assert (
        df.attrs["total_stored_size"] == df["unique_size"].sum() + BASE.blob.size + APP2.blob.size
    )
