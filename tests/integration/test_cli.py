"""The ``registrykit`` command as a subprocess against a real registry."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys

import pytest

import registrykit as rk
from registrykit.cli import build_parser
from registrykit.lab import samples


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "registrykit", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    with rk.LocalRegistry() as reg, rk.Client(cache_dir=None) as client:
        samples.push(reg, client=client)
        yield reg


def test_tags_table_with_human_sizes(seeded):
    proc = run("--no-cache", "tags", f"{seeded.host}/samples/webapp")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["tag", "date", "size"]  # contract v2
    row = next(line for line in lines if " v1.3.0 " in line)
    assert "MiB" in row and "sha256:bd2d5be40a3f" in row
    assert proc.stderr == ""


def test_machine_formats(seeded):
    as_json = json.loads(
        run("--no-cache", "--format", "json", "tags", f"{seeded.host}/samples/api").stdout
    )
    assert {r["platform"] for r in as_json} == {"linux/amd64", "linux/arm64/v8"}
    assert all(isinstance(r["size"], int) for r in as_json)
    as_csv = list(
        csv.DictReader(
            io.StringIO(run("--no-cache", "--format", "csv", "catalog", seeded.host).stdout)
        )
    )
    assert {"repository": "samples/webapp", "registry": seeded.host} in as_csv
    markdown = run(
        "--no-cache", "--format", "markdown", "layers", f"{seeded.host}/samples/webapp:v1.3.0"
    ).stdout
    assert markdown.startswith("| layer | size |")
    assert "| --- |" in markdown


def test_inspect_and_raw(seeded):
    proc = run("--no-cache", "inspect", f"{seeded.host}/samples/webapp:stable")
    assert samples.webapp()[-1].digest in proc.stdout
    raw = json.loads(
        run("--no-cache", "inspect", "--raw", f"{seeded.host}/samples/webapp:stable").stdout
    )
    assert raw["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


def test_diff_gate(seeded):
    a, b = f"{seeded.host}/samples/webapp:v1.2.0", f"{seeded.host}/samples/webapp:v1.3.0"
    ok = run("--no-cache", "diff", a, b, "--max-growth", "500%")
    assert ok.returncode == 0, ok.stderr
    failed = run("--no-cache", "diff", a, b, "--max-growth", "10%")
    assert failed.returncode == 1
    assert "gate failed" in failed.stderr and "more than --max-growth 10%" in failed.stderr
    assert "added" in failed.stdout  # the table that shows why


def test_audit_gate(seeded):
    ok = run("--no-cache", "audit", seeded.host, "--max-size", "1GB")
    assert ok.returncode == 0, ok.stderr
    assert "samples/webapp" in ok.stdout
    assert "every blob counted once" in ok.stderr
    failed = run("--no-cache", "audit", seeded.host, "--max-size", "5MB")
    assert failed.returncode == 1 and "exceeds --max-size 5MB" in failed.stderr


def test_copy_tag_and_delete_with_confirmation(seeded):
    dst = f"{seeded.host}/cli/hello:1"
    copied = run("--no-cache", "copy", f"{seeded.host}/samples/hello:latest", dst)
    assert copied.returncode == 0, copied.stderr
    assert samples.hello().digest in copied.stdout and "skopeo inspect" in copied.stdout
    assert run("--no-cache", "tag", dst, "2").returncode == 0
    plan = run("--no-cache", "delete", dst, "--dry-run")
    assert plan.returncode == 0 and "1" in plan.stdout and "2" in plan.stdout
    refused = run("--no-cache", "delete", dst)  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    deleted = run("--no-cache", "delete", dst, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    with rk.Client(cache_dir=None) as client:
        assert client.registry(seeded.host).head_manifest("cli/hello", "2") is None


def test_login_with_password_stdin(htpasswd_registry, tmp_path):
    auth = tmp_path / "auth.json"
    proc = run(
        "--auth-file",
        str(auth),
        "login",
        htpasswd_registry.host,
        "-u",
        htpasswd_registry.username,
        "--password-stdin",
        stdin=htpasswd_registry.password + "\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert htpasswd_registry.password not in proc.stdout + proc.stderr
    assert htpasswd_registry.host in json.loads(auth.read_text())["auths"]
    creds = run("--auth-file", str(auth), "--format", "json", "credentials")
    assert htpasswd_registry.password not in creds.stdout
    warned = run(
        "--auth-file",
        str(auth),
        "login",
        htpasswd_registry.host,
        "-u",
        htpasswd_registry.username,
        "-p",
        htpasswd_registry.password,
    )
    assert warned.returncode == 0 and "--password-stdin" in warned.stderr
    assert htpasswd_registry.password not in warned.stdout + warned.stderr


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["tags", "Bad/Name"], 2, "lowercase"),
        (["inspect", "app@sha256:123"], 2, "digest"),
        (["nosuchcommand"], 2, "invalid choice"),
        (["diff", "a"], 2, "required"),
        (["tags", "r", "--format", "xml"], 2, "invalid choice"),
        (["tags", "r", "--concurrency", "many"], 2, "invalid int"),
    ],
)
def test_bad_usage_is_a_one_line_error_with_exit_2(args, code, text):
    proc = run(*args)
    assert proc.returncode == code
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_repository_and_registry_down_exit_1(seeded):
    missing = run("--no-cache", "tags", f"{seeded.host}/no/such/repo")
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "not found" in missing.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = run("--no-cache", "catalog", f"127.0.0.1:{port}")
    assert down.returncode == 1
    assert "cannot reach" in down.stderr and "Traceback" not in down.stderr
    debug = run("--no-cache", "--debug", "catalog", f"127.0.0.1:{port}")
    assert "Traceback" in debug.stderr


def test_runtime_and_registry_commands():
    registry = run("registry", "ghcr.io/acme/app")
    assert registry.returncode == 0 and "--password-stdin" in registry.stdout
    runtime = run("--format", "json", "runtime")
    assert runtime.returncode == 0
    assert "skopeo" in json.loads(runtime.stdout)


def test_global_options_work_after_the_command_too():
    parser = build_parser()
    before = parser.parse_args(["--format", "json", "--no-cache", "tags", "r"])
    after = parser.parse_args(["tags", "r", "--format", "json", "--no-cache"])
    assert (before.format, before.no_cache) == (after.format, after.no_cache) == ("json", True)
    mixed = parser.parse_args(["--insecure", "a:5000", "tags", "r", "--insecure", "b:5000"])
    assert mixed.insecure + mixed.insecure_after == ["a:5000", "b:5000"]
    assert parser.parse_args(["--format", "csv", "tags", "r"]).format == "csv"


def test_readers_take_one_platform_copy_takes_many():
    parser = build_parser()
    assert parser.parse_args(["tags", "r", "--platform", "linux/arm64"]).platform == "linux/arm64"
    args = parser.parse_args(
        ["copy", "a", "b", "--platform", "linux/amd64", "--platform", "linux/arm64"]
    )
    assert args.platforms == ["linux/amd64", "linux/arm64"]


def test_json_after_the_command_against_a_registry(seeded):
    proc = run("tags", f"{seeded.host}/samples/api", "--format", "json", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert {r["platform"] for r in json.loads(proc.stdout)} == {"linux/amd64", "linux/arm64/v8"}


def test_gates_are_returned_by_the_command(monkeypatch):
    import pandas as pd

    from registrykit import cli, frames

    frame = pd.DataFrame({"digest": ["a", "b"], "size": [100, 300], "status": ["common", "added"]})
    monkeypatch.setattr(frames, "diff", lambda *args, **kwargs: frame)
    args = build_parser().parse_args(["diff", "x", "y", "--max-growth", "10%"])
    gated = cli.cmd_diff(args, client=None)
    assert gated.output is frame
    assert "more than --max-growth 10%" in gated.failure
    assert not hasattr(args, "gate_failed")
    relaxed = build_parser().parse_args(["diff", "x", "y", "--max-growth", "500%"])
    assert cli.cmd_diff(relaxed, client=None).failure is None
