"""Hostile input on the client side (issue 10), where no server or process is needed:
credentials bound to their host across redirects, realm rules on every hop,
secrets and control characters out of messages, layouts and archives that
stay inside themselves, bounded decompression, CLI usage errors.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import subprocess
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.internals import (
    ArchiveReader,
    ArchiveWriter,
    Descriptor,
    Helper,
    LayoutStore,
    _parse_token,
    filesystem,
    printable,
    raise_for_response,
    remember_secret,
    scrub,
)

import registrykit as rk
from registrykit.cli import _output

SECRET = "hunter2-Secret-Pa55"
HOST = "registry.example.com"
STORAGE = "storage.example.net"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _client(handler, **kw: object) -> rk.Client:  # type: ignore[no-untyped-def]
    kw.setdefault("logins", {HOST: ("alice", SECRET)})
    return rk.Client(cache_dir=None, transport=httpx.MockTransport(handler), **kw)  # type: ignore[arg-type]


# -- 3 and 4. credentials stay with their host; realm rules on every hop -----------------


def test_a_redirected_blob_challenged_by_another_host_gets_none_of_the_registrys_credentials():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == HOST:
            if "authorization" not in request.headers:
                return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
            return httpx.Response(307, headers={"Location": f"https://{STORAGE}/blob"})
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": "storage-token-123"})
        if request.headers.get("authorization") == "Bearer storage-token-123":
            return httpx.Response(200, content=b"blob")
        challenge = f'Bearer realm="https://{STORAGE}/token",service="storage"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    with _client(handler) as client:
        response = client.http.get(f"https://{HOST}/v2/app/blobs/sha256:00")
    assert response.content == b"blob"
    to_storage = [r for r in seen if r.url.host == STORAGE]
    assert to_storage and not any("Basic" in r.headers.get("authorization", "") for r in to_storage)
    assert not any("account" in r.url.params for r in to_storage)


def test_a_token_request_redirected_to_plain_http_elsewhere_is_refused():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "127.0.0.1":  # the loopback realm hands on to a remote host
            return httpx.Response(307, headers={"Location": "http://remote.example.org/token"})
        challenge = 'Bearer realm="http://127.0.0.1:5999/token",service="r"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    with _client(handler, logins={HOST: ("<token>", SECRET)}) as client:
        with pytest.raises(rk.AuthenticationError) as err:
            client.registry(HOST).tags("app")
    assert not any("remote.example.org" in url for url in seen), seen
    assert "https" in str(err.value)


def test_naming_a_registry_insecure_does_not_make_its_realms_insecure():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        challenge = 'Bearer realm="http://auth.example.org/token",service="r"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    with _client(handler, insecure=[HOST]) as client:
        with pytest.raises(rk.AuthenticationError):
            client.registry(HOST).tags("app")
    assert not any("auth.example.org" in url for url in seen)


def test_a_redirect_loop_and_an_invalid_url_are_registrykit_errors():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": request.url.path})

    with _client(handler) as client:
        with pytest.raises(rk.RegistryError, match="redirect"):
            client.http.get(f"https://{HOST}/v2/app/tags/list")
        with pytest.raises(rk.RegistryKitError):
            client.http.get(f"https://{HOST}/v2/app\x00/tags/list")


def test_an_oversized_token_body_stops_at_its_bound():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, content=b'{"token": "' + b"x" * (2 * 1024 * 1024))
        challenge = f'Bearer realm="https://{HOST}/token",service="r"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    with _client(handler) as client, pytest.raises(rk.RegistryKitError, match="larger"):
        client.registry(HOST).tags("app")


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"token"',
        b"not json",
        b'{"token": 5}',
        b'{"token": ["a"]}',
        b'{"token": "t", "expires_in": "soon"}',
        b'{"token": "t", "expires_in": NaN}',
        b'{"token": "t\\r\\nX-Evil: 1"}',
    ],
)
def test_garbage_token_bodies_are_refused(body: bytes):
    assert _parse_token(body) is None


_TOKEN_KEYS = st.sampled_from(["token", "access_token", "expires_in", "x"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(_TOKEN_KEYS, inner),
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_any_token_body_parses_or_is_refused_without_raising(doc: object):
    token = _parse_token(json.dumps(doc).encode())
    assert token is None or (token.value.isascii() and token.value.isprintable())


# -- 5. secrets and control characters never reach a message --------------------------------


def test_scrub_removes_remembered_secrets_their_base64_and_escapes():
    remember_secret(SECRET)
    remember_secret(f"alice:{SECRET}")
    b64 = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    text = scrub(f"got {SECRET} and Basic {b64}\x1b]0;pwned\x07\x1b[2J\r\nend" + "x" * 5000)
    assert SECRET not in text and b64 not in text
    assert "\x1b" not in text and "\x07" not in text and "\n" not in text
    assert len(text) <= 300


def test_a_short_bearer_value_does_not_blank_every_letter():
    remember_secret("Bearer t")  # long enough whole; "t" alone is not a secret to scrub
    assert scrub("digest/tag combination") == "digest/tag combination"


def test_printable_strips_terminal_sequences():
    assert printable("\x1b]0;title\x07name\x1b[2Jok\x9b") == "nameok "


def test_registry_errors_echoing_secrets_are_scrubbed():
    remember_secret(SECRET)
    request = httpx.Request("GET", f"https://{HOST}/v2/app/tags/list")
    body = {
        "errors": [
            {"code": "DENIED", "message": f"you sent {SECRET}\x1b[2J", "detail": {"p": SECRET}}
        ]
    }
    response = httpx.Response(403, json=body, request=request)
    with pytest.raises(rk.PermissionDenied) as err:
        raise_for_response(response, "tag list")
    texts = [str(err.value), repr(err.value), json.dumps(err.value.errors)]
    assert all(SECRET not in t and "\x1b" not in t for t in texts), texts


def test_a_helper_failing_after_printing_its_json_keeps_the_secret_out():
    helper = Helper("evil", "credsStore", Path("/nonexistent/config.json"), 5.0)
    printed = json.dumps({"ServerURL": HOST, "Username": "u", "Secret": "helper-secret-XYZ"})
    proc = subprocess.CompletedProcess(["get"], 1, printed + "\nthen failed", "")
    with pytest.raises(rk.RegistryKitError) as err:
        helper._failed("get", proc)
    assert "helper-secret-XYZ" not in str(err.value)


# -- 7 and 14. layouts and archives stay inside themselves ------------------------------------


@pytest.mark.parametrize("content", [b'{"unrelated": true}', b"[1, 2]", b"\xff garbage"])
def test_a_layout_is_not_written_into_a_foreign_directory(tmp_path: Path, content: bytes):
    (tmp_path / "index.json").write_bytes(content)
    with pytest.raises(rk.RegistryKitError, match="layout"):
        LayoutStore(tmp_path, create=True)
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]
    assert (tmp_path / "index.json").read_bytes() == content


def test_a_non_empty_directory_without_an_index_is_refused(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(rk.RegistryKitError, match="not empty"):
        LayoutStore(tmp_path, create=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_index_that_is_not_an_object_is_a_registrykit_error(tmp_path: Path):
    LayoutStore(tmp_path, create=True)
    (tmp_path / "index.json").write_text("[1, 2]")
    with pytest.raises(rk.RegistryKitError):
        LayoutStore(tmp_path).tags()
    (tmp_path / "index.json").write_text('{"manifests": [1]}')
    with pytest.raises(rk.RegistryKitError):
        LayoutStore(tmp_path).tags()


def _endless(pulled: list[int]) -> contextlib.AbstractContextManager[Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        while True:
            pulled.append(1)
            yield b"x" * 65536

    return contextlib.nullcontext(chunks())


@pytest.mark.parametrize("kind", ["layout", "archive"])
def test_disk_stores_stop_at_the_declared_size(tmp_path: Path, kind: str):
    pulled: list[int] = []
    digest = "sha256:" + "0" * 64
    store = LayoutStore(tmp_path / "l", create=True) if kind == "layout" else None
    writer = ArchiveWriter(tmp_path / "a.tar") if kind == "archive" else None
    target = store or writer
    assert target is not None
    with pytest.raises(rk.DigestMismatch, match="longer"):
        target.blob_put(digest, 10240, lambda: _endless(pulled))
    assert len(pulled) <= 2
    if writer is not None:
        writer.abort()
    assert all(p.stat().st_size < 1024 * 1024 for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.parametrize("digest", ["sha256:../../../etc/passwd", "md5:" + "0" * 32, "SHA256:ab"])
def test_a_bad_digest_never_names_a_member_or_file(tmp_path: Path, digest: str):
    writer = ArchiveWriter(tmp_path / "a.tar")
    with pytest.raises(rk.RegistryKitError, match="digest"):
        writer.blob_put(digest, 1, lambda: contextlib.nullcontext([b"x"]))
    writer.abort()
    with pytest.raises(rk.RegistryKitError, match="digest"):
        LayoutStore(tmp_path / "l", create=True).blob_exists(digest)


def test_a_foreign_layer_digest_never_reaches_manifest_json(tmp_path: Path):
    writer = ArchiveWriter(tmp_path / "a.tar")
    manifest = {
        "schemaVersion": 2,
        "config": {"digest": "sha256:" + "1" * 64, "size": 2},
        "layers": [{"digest": "sha256:../../outside", "size": 1}],
    }
    writer.manifest_put(
        "v1", json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json"
    )
    with pytest.raises(rk.RegistryKitError):
        writer.close()
    assert not (tmp_path / "a.tar").exists()


@pytest.mark.parametrize("name", ["../outside.tar", "/etc/passwd", "a/../../b", 5])
def test_manifest_json_paths_outside_the_archive_are_refused(tmp_path: Path, name: object):
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as tar:
        data = json.dumps([{"Config": "config.json", "Layers": [name], "RepoTags": ["a:1"]}])
        for member, body in (("manifest.json", data.encode()), ("config.json", b"{}")):
            info = tarfile.TarInfo(member)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    with pytest.raises(rk.RegistryKitError, match="inside the archive"):
        ArchiveReader(path)


# -- 9 and 13. decompression is bounded; broken layers name themselves -----------------------


class _OneBlob:
    """Just enough of a Store for ``layer_entries``: one blob, unverified."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def blob_open(self, digest: str) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        size = 1024 * 1024
        return contextlib.nullcontext(
            iter([self.data[i : i + size] for i in range(0, len(self.data), size)])
        )


def _entries(data: bytes, media_type: str = LAYER) -> list[filesystem.FileVersion]:
    layer = Descriptor(media_type, "sha256:" + "a" * 64, len(data))
    return filesystem.layer_entries(_OneBlob(data), layer, 0)  # type: ignore[arg-type]


def _tar(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def test_a_gzip_bomb_fails_fast(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(filesystem, "_RATIO_FLOOR", 1024 * 1024)
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(squeezer.compress(bytes(1024 * 1024)) for _ in range(32)) + squeezer.flush()
    with pytest.raises(rk.RegistryError, match="bomb") as err:
        _entries(bomb)
    assert "layer 1" in str(err.value)


def test_a_huge_pax_header_is_refused_before_it_is_read():
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 512 * 1024 * 1024
    data = header.tobuf(tarfile.USTAR_FORMAT) + b"x" * 4096
    with pytest.raises(rk.RegistryError, match="extended data"):
        _entries(data, "application/vnd.oci.image.layer.v1.tar")


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"\x1f\x8b\x08\x00garbage-not-deflate" * 10, LAYER),
        (gzip.compress(_tar(("a", b"1" * 5000)))[:-200], LAYER),
        (gzip.compress(b"this is not a tar archive at all " * 40), LAYER),
        (b"\x28\xb5\x2f\xfd" + b"zstd garbage" * 50, "application/vnd.oci.image.layer.v1.tar+zstd"),
        (b"plain garbage that is not a tar" * 30, "application/vnd.oci.image.layer.v1.tar"),
    ],
    ids=["corrupt-gzip", "truncated-gzip", "gzip-non-tar", "zstd-garbage", "non-tar"],
)
def test_broken_layers_are_registry_errors_naming_the_layer(data: bytes, media_type: str):
    with pytest.raises(rk.RegistryError, match="layer 1"):
        _entries(data, media_type)


def test_a_sound_layer_still_reads():
    entries = _entries(gzip.compress(_tar(("etc/hosts", b"127.0.0.1 localhost\n"))))
    assert [(e.path, e.size) for e in entries] == [("etc/hosts", 20)]


# -- 14. the CLI prints no escapes (exit codes: the integration tier) -----------------------


def test_cli_output_and_errors_carry_no_control_characters(capsys: pytest.CaptureFixture[str]):
    out = io.StringIO()
    _output.emit("repo\x1b]0;pwned\x07name\nsecond\x1b[2J line", "table", out)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert out.getvalue().count("\n") == 2
    _output.error("bad\x1b[2J\nthing")
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1
