"""Hostile input on the client side (issue 10) against the hostile registry and real
processes: decompression bombs measured in a child process for peak RSS, the
CLI's exit codes and escape stripping as a subprocess, a delete that acts only
on what it previewed, credential helpers that misbehave, token realms that
redirect to plain http elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hostile import HostileRegistry
from support.internals import Helper

import registrykit as rk
from integration.test_hostile import (
    BOUND_S,
    SECRET,
    _assert_registrykit_error,
    _client,
    _image,
    _run_child,
)

BIG = 512 * 1024 * 1024
ESCAPES = "\x1b]0;pwned\x07\x1b[2J"


def _gzip(parts: Iterator[bytes]) -> bytes:
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(squeezer.compress(p) for p in parts) + squeezer.flush()


def _filler(byte: bytes, size: int) -> Iterator[bytes]:
    block = byte * (1024 * 1024)
    for _ in range(size // len(block)):
        yield block


@pytest.fixture(scope="module")
def zero_bomb() -> bytes:
    """A gzip layer of about 0.5 MB holding one 512 MiB file of zeros."""
    header = tarfile.TarInfo("zeros")
    header.size = BIG
    return _gzip(iter([header.tobuf(tarfile.USTAR_FORMAT), *_filler(b"\0", BIG), bytes(1024)]))


@pytest.fixture(scope="module")
def pax_bomb() -> bytes:
    """A gzip layer whose first tar header is a 512 MiB PAX header."""
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = BIG
    return _gzip(iter([header.tobuf(tarfile.USTAR_FORMAT), *_filler(b"a", BIG), bytes(1024)]))


# -- 9. decompression bombs: a RegistryKitError, fast, with memory flat -------------------


@pytest.mark.parametrize("bomb", ["zero_bomb", "pax_bomb"])
@pytest.mark.parametrize("call", ["rk.files", "rk.waste"])
def test_decompression_bombs_fail_fast_with_memory_flat(
    bomb: str, call: str, request: pytest.FixtureRequest
):
    layer = request.getfixturevalue(bomb)
    assert len(layer) < 1024 * 1024
    with HostileRegistry() as reg:
        _image(reg, "app", "v1", layer=layer)
        outcome, took, peak = _run_child(reg.host, f"{call}(f'{{host}}/app:v1', client=client)")
    _assert_registrykit_error(outcome)
    assert "layer 1" in outcome, outcome
    assert took < BOUND_S, took
    assert peak < 300, f"peak RSS {peak:.0f} MiB"


# -- 14. the CLI: one line, exit 1 (2 for usage), no escapes from a registry --------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registrykit", "--no-cache", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.mark.parametrize(
    "args",
    [
        ["tags", "r", "--platform", "a/b/c/d"],
        ["--concurrency", "0", "tags", "r"],
        ["diff", "a", "b", "--max-growth", "abc"],
        ["audit", "r", "--max-size", "5XB"],
    ],
    ids=["platform", "concurrency", "max-growth", "max-size"],
)
def test_cli_usage_errors_exit_2(args: list[str]):
    proc = _cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_registry_errors_are_one_line_without_escapes():
    with HostileRegistry() as reg:
        reg.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_json(
                {"errors": [{"code": "DENIED", "message": f"nope{ESCAPES}" + "z" * 9000}]}, 403
            ),
        )
        proc = _cli("tags", f"{reg.host}/app")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and len(proc.stderr) < 2000, proc.stderr
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "answer",
    [{"repositories": ["ok", f"evil{ESCAPES}"]}, {"repositories": "not-a-list"}, ["a", 1]],
    ids=["escapes", "wrong-type", "list"],
)
def test_cli_prints_no_registry_escapes_and_no_traceback(answer: object):
    with HostileRegistry() as reg:
        reg.route("GET", "/v2/_catalog", lambda h: h.send_json(answer))
        proc = _cli("catalog", reg.host)
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), text
    assert "\x1b" not in text and "\x07" not in text
    assert "Traceback" not in text


def test_cli_delete_stops_when_the_tag_moved_after_the_preview():
    with HostileRegistry() as reg:
        first = _image(reg, "app", "v1", layer=b"one")

        def move_then_answer(h):  # type: ignore[no-untyped-def]
            # The preview's last step: from now on v1 names another image.
            _image(reg, "app", "v1", layer=b"two")
            h.send_json({"errors": [{"code": "NAME_UNKNOWN"}]}, 404)

        reg.route("GET", f"^/v2/app/referrers/{first['manifest']}", move_then_answer)
        reg.route("DELETE", "^/v2/app/manifests/", lambda h: h.send_bytes(b"", 202))
        proc = _cli("delete", "--yes", f"{reg.host}/app:v1")
        deletes = reg.count("DELETE")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "moved" in proc.stderr and "Traceback" not in proc.stderr
    assert deletes == 0


def test_cli_delete_deletes_the_previewed_digest():
    with HostileRegistry() as reg:
        digests = _image(reg, "app", "v1")
        reg.route("DELETE", "^/v2/app/manifests/", lambda h: h.send_bytes(b"", 202))
        proc = _cli("delete", "--yes", f"{reg.host}/app:v1")
        deleted = [p for m, p, _, _ in reg.requests if m == "DELETE"]
    assert proc.returncode == 0, proc.stderr
    assert deleted == [f"/v2/app/manifests/{digests['manifest']}"]


# -- 4. a refresh token never follows a realm's redirect to plain http elsewhere ----------


def test_a_refresh_token_never_follows_a_realm_redirect_to_remote_plain_http():
    with HostileRegistry() as reg:
        challenge = f'Bearer realm="{reg.url}/token",service="hostile"'
        for path in ("/v2/", "/v2/app/tags/list"):
            reg.route("GET", path, lambda h: h.send_json({}, 401, {"WWW-Authenticate": challenge}))
        away = {"Location": "http://remote.invalid/token"}
        for method in ("GET", "POST"):
            reg.route(method, "/token", lambda h: h.send_bytes(b"", 307, away))
        with _client(logins={reg.host: ("<token>", SECRET)}) as client:
            with pytest.raises(rk.AuthenticationError, match="not https") as err:
                rk.tags(f"{reg.host}/app", client=client)
    assert SECRET not in f"{err.value} {err.value!r}"


# -- 5 and 13. credential helpers that misbehave ------------------------------------------


def _helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Helper:
    program = tmp_path / "docker-credential-evil"
    program.write_text(f"#!{sys.executable}\nimport sys\n{script}\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return Helper("evil", "credsStore", tmp_path / "config.json", 10.0)


def test_a_helper_that_fails_after_printing_its_json_leaks_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    helper = _helper(
        tmp_path,
        monkeypatch,
        'print(\'{"ServerURL": "r", "Username": "u", "Secret": "helper-secret-XYZ"}\')\n'
        'print("and then it broke")\nsys.exit(4)',
    )
    with pytest.raises(rk.RegistryKitError) as err:
        helper.get("registry.example.com")
    assert "helper-secret-XYZ" not in f"{err.value} {err.value!r}"
    assert "broke" in str(err.value)


def test_a_helper_printing_invalid_utf8_is_a_registrykit_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    helper = _helper(
        tmp_path,
        monkeypatch,
        'sys.stdout.buffer.write(b\'{"Username": "u", "Secret": "\\xff\\xfe-hidden"}\')',
    )
    with pytest.raises(rk.RegistryKitError, match="UTF-8") as err:
        helper.get("registry.example.com")
    assert "hidden" not in str(err.value)
