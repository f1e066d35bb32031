"""Registry data is hostile, the /v2/ side: more scenarios against ``support.hostile``.

Each scenario ends in the safe outcome: a registrykit error that names the
registry and the part that is wrong, within a time bound, after a bounded
number of requests, with nothing written or requested outside its place.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from support.hostile import HostileRegistry, digest_of, drip, endless

import registrykit as rk

from .test_hostile import BOUND_S, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, _client

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _serve_manifest(
    reg: HostileRegistry, repo: str, ref: str, doc: Any, headers: dict[str, str] | None = None
) -> str:
    raw = json.dumps(doc).encode()
    media_type = doc.get("mediaType", OCI_MANIFEST) if isinstance(doc, dict) else OCI_MANIFEST
    hdrs = {"Content-Type": media_type, "Docker-Content-Digest": digest_of(raw)}
    hdrs.update(headers or {})
    for name in (ref, digest_of(raw)):
        reg.route("GET", f"/v2/{repo}/manifests/{name}", lambda h: h.send_bytes(raw, 200, hdrs))
    return digest_of(raw)


def _image(reg: HostileRegistry, repo: str, tags: list[str], config: bytes | None = None) -> str:
    """One small valid image under ``tags``; returns the manifest digest."""
    config = config or json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer = b"layer-bytes"
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)}],
    }
    digest = ""
    for tag in tags:
        digest = _serve_manifest(reg, repo, tag, doc)
    for blob in (config, layer):
        reg.route("GET", f"/v2/{repo}/blobs/{digest_of(blob)}", lambda h, b=blob: h.send_bytes(b))
    reg.route("GET", f"/v2/{repo}/tags/list", lambda h: h.send_json({"name": repo, "tags": tags}))
    return digest


# -- names ------------------------------------------------------------------------------


def test_copy_all_tags_copies_the_valid_tags_and_skips_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with HostileRegistry() as src:
        _image(src, "app", ["v1"])
        hostile = ["v1", "../../victim/manifests/pwned", "v2\x1b[2J", ".hidden"]
        src.route(
            "GET", "/v2/app/tags/list", lambda h: h.send_json({"name": "app", "tags": hostile})
        )
        target = tmp_path / "layout"
        with _client() as client, caplog.at_level(logging.WARNING):
            rk.copy(f"{src.host}/app", f"oci:{target}", all_tags=True, client=client)
    index = json.loads((target / "index.json").read_text())
    names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
    assert names == ["v1"]
    assert {p.name for p in tmp_path.iterdir()} == {"layout"}
    assert "pwned" in caplog.text and "\x1b" not in caplog.text


def test_a_catalog_entry_of_the_wrong_type_names_the_field():
    with HostileRegistry() as reg:
        reg.route("GET", "/v2/_catalog", lambda h: h.send_json({"repositories": ["a", 7]}))
        with _client() as client, pytest.raises(rk.RegistryError) as err:
            rk.catalog(reg.host, client=client)
    assert "repositories[1]" in str(err.value) and reg.host in str(err.value)


def test_a_referrer_with_a_weak_digest_is_refused():
    with HostileRegistry() as reg:
        digest = _image(reg, "app", ["v1"])
        bad = {"mediaType": OCI_MANIFEST, "digest": "md5:" + "0" * 32, "size": 10}
        reg.route(
            "GET",
            f"/v2/app/referrers/{digest}",
            lambda h: h.send_json(
                {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [bad]},
                200,
                {"Content-Type": OCI_INDEX},
            ),
        )
        with _client() as client, pytest.raises(rk.RegistryError) as err:
            client.registry(reg.host).referrers("app", digest)
    assert "manifests[0].digest" in str(err.value)


# -- digests ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["SHA256:" + "0" * 64, "md5:" + "0" * 32, "sha256:../x"])
def test_a_malformed_docker_content_digest_is_never_the_reported_digest(header: str):
    with HostileRegistry() as reg:
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [],
        }
        digest = _serve_manifest(reg, "app", "v1", doc, {"Docker-Content-Digest": header})
        reg.route("GET", f"/v2/app/blobs/{digest_of(config)}", lambda h: h.send_bytes(config))
        reg.route("GET", "/v2/app/tags/list", lambda h: h.send_json({"tags": ["v1"]}))
        with _client() as client:
            info = rk.inspect(f"{reg.host}/app:v1", client=client)
            head = client.registry(reg.host).resolve("app", "v1")
    assert info.digest == digest and head.digest == digest


# -- bounds -----------------------------------------------------------------------------


def test_a_config_declared_over_the_bound_is_refused_unread():
    with HostileRegistry() as reg:
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        _image(reg, "app", ["v1"], config=config)
        reg.route(
            "GET",
            f"/v2/app/blobs/{digest_of(config)}",
            lambda h: h.send_stream(endless(b'{"os": "'), length=64 * 1024 * 1024),
        )
        start = time.monotonic()
        with _client() as client, pytest.raises(rk.RegistryKitError) as err:
            rk.config(f"{reg.host}/app:v1", client=client)
    assert time.monotonic() - start < 5
    assert "8 MiB" in str(err.value)


def test_a_tag_list_page_over_the_bound_is_refused():
    with HostileRegistry() as reg:
        page = json.dumps({"name": "app", "tags": [f"t{i}" for i in range(600_000)]}).encode()
        reg.route("GET", "/v2/app/tags/list", lambda h: h.send_bytes(page))
        with _client() as client, pytest.raises(rk.Unsupported) as err:
            rk.tags(f"{reg.host}/app", client=client)
    assert "4 MiB" in str(err.value) and reg.host in str(err.value)


def test_a_huge_error_body_keeps_its_code_and_stops_at_a_bound():
    with HostileRegistry() as reg:
        head = b'{"errors": [{"code": "DENIED", "message": "no"}], "pad": "'
        reg.route(
            "GET", "/v2/app/tags/list", lambda h: h.send_bytes(head + b"x" * (8 << 20) + b'"}', 403)
        )
        start = time.monotonic()
        with _client() as client, pytest.raises(rk.PermissionDenied) as err:
            rk.tags(f"{reg.host}/app", client=client)
    assert time.monotonic() - start < BOUND_S
    assert len(str(err.value)) < 2000


def test_a_blob_longer_than_its_declared_size_stops_there():
    with HostileRegistry() as reg:
        declared = b"x" * 10240
        digest = digest_of(declared)
        reg.route(
            "GET",
            f"/v2/app/blobs/{digest}",
            lambda h: h.send_stream(endless(declared, b"y" * 65536)),
        )
        received = 0
        with _client() as client, pytest.raises(rk.DigestMismatch, match="declared 10240"):
            with client.registry(reg.host).open_blob("app", digest, size=len(declared)) as chunks:
                for chunk in chunks:
                    received += len(chunk)
    assert received <= len(declared)


def test_a_copy_of_a_blob_longer_than_declared_stops_with_a_digest_error(registry: Any):
    with HostileRegistry() as src:
        _image(src, "app", ["v1"])
        layer = b"layer-bytes"
        src.route(
            "GET",
            f"/v2/app/blobs/{digest_of(layer)}",
            lambda h: h.send_stream(endless(layer, b"y" * 65536)),
        )
        start = time.monotonic()
        with _client() as client, pytest.raises(rk.DigestMismatch, match="declared"):
            rk.copy(f"{src.host}/app:v1", f"{registry.host}/hostile/long:v1", client=client)
    assert time.monotonic() - start < BOUND_S


# -- pagination -------------------------------------------------------------------------


def _paged(reg: HostileRegistry, links: dict[str, str]) -> None:
    """``/v2/_catalog?last=<key>`` answers one repository and a Link to ``links[key]``."""

    def answer(h):  # type: ignore[no-untyped-def]
        key = h.path.split("last=")[1] if "last=" in h.path else ""
        h.send_json({"repositories": [f"r{len(key)}"]}, 200, {"Link": links[key]})

    reg.route("GET", "^/v2/_catalog.*", answer)


def test_a_two_page_link_loop_ends():
    with HostileRegistry() as reg:
        _paged(
            reg,
            {
                "": '</v2/_catalog?last=a>; rel="next"',
                "a": '</v2/_catalog?last=bb>; rel="next"',
                "bb": '</v2/_catalog?last=a>; rel="next"',
            },
        )
        with _client() as client, pytest.raises(rk.RegistryError, match="loop") as err:
            rk.catalog(reg.host, client=client)
    assert reg.count("GET", "/v2/_catalog") == 3
    assert reg.host in str(err.value)


@pytest.mark.parametrize("target", ["https://{host}", "http://127.0.0.2:{port}", "http://{ip}:1"])
def test_a_link_off_the_registry_origin_is_refused(target: str):
    with HostileRegistry() as reg:
        ip, port = reg.host.split(":")
        base = target.format(host=reg.host, port=port, ip=ip)
        _paged(reg, {"": f'<{base}/v2/_catalog?last=a>; rel="next"'})
        with _client() as client, pytest.raises(rk.RegistryError, match="leaves") as err:
            rk.catalog(reg.host, client=client)
    assert reg.count("GET", "/v2/_catalog") == 1
    assert str(err.value).startswith(reg.host)


def test_endless_pages_stop_at_the_page_bound(monkeypatch: pytest.MonkeyPatch):
    # A lower bound keeps the test fast; the rule is the same at MAX_PAGES.
    monkeypatch.setattr("registrykit._registry.session.MAX_PAGES", 40)
    counter = iter(range(10**9))

    def answer(h):  # type: ignore[no-untyped-def]
        n = next(counter)
        h.send_json(
            {"tags": [f"t{n}"]}, 200, {"Link": f'</v2/app/tags/list?last=t{n}>; rel="next"'}
        )

    with HostileRegistry() as reg:
        reg.route("GET", "^/v2/app/tags/list.*", answer)
        with _client() as client, pytest.raises(rk.RegistryError, match="40 pages"):
            rk.tags(f"{reg.host}/app", client=client)
    assert reg.count("GET", "/v2/app/tags/list") == 40


# -- deadlines --------------------------------------------------------------------------


def test_a_dripping_manifest_meets_the_deadline():
    with HostileRegistry() as reg:
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}).encode()
        reg.route(
            "GET",
            "/v2/app/manifests/v1",
            lambda h: h.send_stream(
                drip(body, 0.5), headers={"Content-Type": OCI_MANIFEST}, length=len(body)
            ),
        )
        start = time.monotonic()
        with _client(timeout=2.0) as client, pytest.raises(rk.RegistryUnavailable) as err:
            rk.inspect(f"{reg.host}/app:v1", client=client)
    assert time.monotonic() - start < 8
    assert reg.host in str(err.value) and "too slowly" in str(err.value)


def test_a_dripping_error_body_meets_the_deadline():
    with HostileRegistry() as reg:
        body = json.dumps({"errors": [{"code": "DENIED", "message": "x" * 100}]}).encode()
        reg.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_stream(drip(body, 0.5), 403, length=len(body)),
        )
        start = time.monotonic()
        with _client(timeout=2.0) as client, pytest.raises(rk.RegistryUnavailable) as err:
            rk.tags(f"{reg.host}/app", client=client)
    assert time.monotonic() - start < 8
    assert "too slowly" in str(err.value)


def test_a_dripping_blob_falls_below_the_minimum_throughput():
    with HostileRegistry() as reg:
        blob = b"z" * 4096
        digest = digest_of(blob)
        reg.route(
            "GET", f"/v2/app/blobs/{digest}", lambda h: h.send_stream(drip(blob, 0.3), length=4096)
        )
        start = time.monotonic()
        with _client(timeout=1.0) as client, pytest.raises(rk.RegistryUnavailable, match="KiB/s"):
            with client.registry(reg.host).open_blob("app", digest, size=len(blob)) as chunks:
                for _ in chunks:
                    pass
    assert time.monotonic() - start < 8


# -- typed JSON and odd answers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "named"),
    [({"config": "x"}, "config"), ({"config": {"Env": "PATH=/bin"}}, "config.Env")],
)
def test_a_wrong_typed_config_names_the_field(config: dict[str, Any], named: str):
    with HostileRegistry() as reg:
        _image(reg, "app", ["v1"], config=json.dumps(config).encode())
        with _client() as client, pytest.raises(rk.RegistryError) as err:
            rk.inspect(f"{reg.host}/app:v1", client=client)
    assert named in str(err.value)


def test_a_nested_index_in_inspect_is_a_registrykit_error():
    with HostileRegistry() as reg:
        inner = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        inner_digest = _serve_manifest(reg, "app", "inner", inner)
        size = len(json.dumps(inner).encode())
        entry = {
            "mediaType": OCI_INDEX,
            "digest": inner_digest,
            "size": size,
            "platform": {"os": "linux", "architecture": "amd64"},
        }
        _serve_manifest(
            reg, "app", "v1", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
        )
        with _client() as client, pytest.raises(rk.RegistryKitError, match="nested"):
            rk.inspect(f"{reg.host}/app:v1", client=client)


@pytest.mark.parametrize(
    "location", ["/v2/app/\x1b[2J/tags/list", "ftp://127.0.0.1/v2/", "http://[::1/v2/"]
)
def test_a_malformed_redirect_is_a_registrykit_error(location: str):
    def redirect(h):  # type: ignore[no-untyped-def]
        h.send_bytes(b"", 307, {"Location": location})

    with HostileRegistry() as reg:
        reg.route("GET", "/v2/app/tags/list", redirect)
        with _client() as client, pytest.raises(rk.RegistryKitError) as err:
            rk.tags(f"{reg.host}/app", client=client)
    assert "\x1b" not in str(err.value)
    assert isinstance(err.value, rk.RegistryError) and "redirect" in str(err.value)
