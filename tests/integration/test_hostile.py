"""Registry data is hostile (design.md, "Contract, version 2"): every scenario a
hostile registry can play ends in a registrykit error with a clear message,
within a time bound, with memory bounded, nothing written outside the target
and no secret in any message.

The registry here is ``tests/support/hostile.py``: a threaded server on
127.0.0.1 that each test switches. Scenarios that could grow the process run
in a child process so their peak RSS can be read.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.hostile import HostileRegistry, digest_of, drip, endless

import registrykit as rk

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SECRET = "s3cr3t-P4ssw0rd"
BOUND_S = 15.0


def _client(**kw: object) -> rk.Client:
    kw.setdefault("cache_dir", None)
    kw.setdefault("timeout", 5.0)
    return rk.Client(**kw)  # type: ignore[arg-type]


def _image(reg: HostileRegistry, repo: str, tag: str, layer: bytes = b"layer") -> dict[str, str]:
    """Serve one small, valid OCI image; returns its digests."""
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)}],
        }
    ).encode()
    mdigest = digest_of(manifest)
    headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": mdigest}
    for ref in (tag, mdigest):
        reg.route(
            "GET", f"/v2/{repo}/manifests/{ref}", lambda h: h.send_bytes(manifest, 200, headers)
        )
    for blob in (config, layer):
        reg.route("GET", f"/v2/{repo}/blobs/{digest_of(blob)}", lambda h, b=blob: h.send_bytes(b))
    reg.route("GET", f"/v2/{repo}/tags/list", lambda h: h.send_json({"name": repo, "tags": [tag]}))
    return {"manifest": mdigest, "config": digest_of(config), "layer": digest_of(layer)}


def _run_child(host: str, body: str) -> tuple[str, float, float]:
    """Run ``body`` against ``host`` in a child process: (outcome, seconds, peak RSS MiB).

    The outcome is ``ok`` or the exception's class name and message.
    """
    script = textwrap.dedent(
        """
        import sys, time
        import registrykit as rk
        host = sys.argv[1]
        client = rk.Client(cache_dir=None, timeout=5.0)
        start = time.monotonic()
        try:
        {body}
            outcome = "ok"
        except BaseException as exc:
            outcome = f"{{type(exc).__module__}}.{{type(exc).__name__}}: {{exc}}"
        took = time.monotonic() - start
        # VmHWM, not ru_maxrss: Linux carries the forking parent's peak into
        # ru_maxrss across exec, so a big pytest process would count as the child's.
        with open("/proc/self/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM:"))
        peak = int(hwm.split()[1]) / 1024
        print(repr((outcome[:2000], took, peak)))
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    proc = subprocess.run(
        [sys.executable, "-c", script, host], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome, took, peak = eval(proc.stdout.strip().splitlines()[-1])
    return outcome, took, peak


def _assert_registrykit_error(outcome: str) -> None:
    assert outcome.startswith("registrykit."), outcome
    name = outcome.split(":", 1)[0].rsplit(".", 1)[1]
    assert issubclass(getattr(rk, name), rk.RegistryKitError), outcome


# -- 1. names from a registry become paths only after validation ---------------------


def test_a_tag_with_dot_dot_never_reaches_another_repository():
    with HostileRegistry() as src, HostileRegistry() as dst:
        _image(src, "app", "v1")
        src.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_json({"name": "app", "tags": ["../../victim/manifests/pwned"]}),
        )
        dst.route("HEAD", "^/.*", lambda h: h.send_bytes(b"", 404))
        with _client() as client, pytest.raises(rk.RegistryKitError) as err:
            rk.copy(f"{src.host}/app", f"{dst.host}/mine", all_tags=True, client=client)
        assert "victim" not in " ".join(p for m, p, _, _ in dst.requests if m == "PUT")
        assert dst.count("PUT") == 0
        assert "tag" in str(err.value).lower()


@pytest.mark.parametrize(
    "bad", ["../etc", "a/../../b", "UPPER", "x\x1b]0;pwned\x07", "a" * 300, ""]
)
def test_catalog_names_are_checked(bad: str):
    with HostileRegistry() as reg:
        reg.route("GET", "/v2/_catalog", lambda h: h.send_json({"repositories": ["good", bad]}))
        with _client() as client:
            try:
                found = list(rk.catalog(reg.host, client=client)["repository"])
            except rk.RegistryKitError as exc:
                assert "\x1b" not in str(exc)
                return
        assert found == ["good"]


def test_tags_with_control_characters_never_reach_the_caller():
    with HostileRegistry() as reg:
        reg.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_json({"name": "app", "tags": ["v1\x1b[2J", "../up"]}),
        )
        with _client() as client:
            try:
                frame = rk.tags(f"{reg.host}/app", client=client)
            except rk.RegistryKitError as exc:
                assert "\x1b" not in str(exc)
                return
        assert frame.empty


# -- 6. only canonical sha256/sha512 digests --------------------------------------------


@pytest.mark.parametrize(
    "digest",
    [
        "md5:" + "0" * 32,
        "sha1:" + "0" * 40,
        "SHA256:" + "0" * 64,
        "sha256:" + "A" * 64,
        "sha256:" + "0" * 63,
        "sha256:../../../../etc",
    ],
)
def test_weak_or_malformed_layer_digests_never_become_paths(tmp_path: Path, digest: str):
    with HostileRegistry() as reg:
        config = b"{}"
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": 2},
                "layers": [{"mediaType": OCI_LAYER, "digest": digest, "size": 5}],
            }
        ).encode()
        headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest_of(manifest)}
        reg.route("GET", "/v2/app/manifests/v1", lambda h: h.send_bytes(manifest, 200, headers))
        reg.route("GET", "^/v2/app/blobs/.*", lambda h: h.send_bytes(b"layer"))
        target = tmp_path / "out"
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.pull(f"{reg.host}/app:v1", target, client=client)
        assert not any(p.name in {"md5", "sha1", "SHA256", "etc"} for p in tmp_path.rglob("*"))


def test_an_md5_docker_content_digest_is_not_reported():
    with HostileRegistry() as reg:
        digests = _image(reg, "app", "v1")
        manifest_route = reg.find("GET", "/v2/app/manifests/v1")
        assert manifest_route is not None

        def weak(h):  # type: ignore[no-untyped-def]
            h.send_bytes(
                b"",
                200,
                {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": "md5:" + "0" * 32},
            ) if h.command == "HEAD" else manifest_route(h)

        reg.route("GET", "/v2/app/manifests/v1", weak)
        with _client() as client:
            try:
                info = rk.inspect(f"{reg.host}/app:v1", client=client)
            except rk.RegistryKitError:
                return
        assert info.digest == digests["manifest"]


# -- 7. a pull never overwrites what it did not write ------------------------------------


@pytest.mark.parametrize("content", [b'{"unrelated": true}', b"[1, 2]", b"not json"])
def test_pull_refuses_a_directory_that_is_not_a_layout(tmp_path: Path, content: bytes):
    (tmp_path / "index.json").write_bytes(content)
    with HostileRegistry() as reg:
        _image(reg, "app", "v1")
        with _client() as client, pytest.raises(rk.RegistryKitError) as err:
            rk.pull(f"{reg.host}/app:v1", tmp_path, client=client)
    assert (tmp_path / "index.json").read_bytes() == content
    assert "layout" in str(err.value).lower()


# -- 8. unbounded reads ------------------------------------------------------------------


def _endless_json(prefix: bytes):  # type: ignore[no-untyped-def]
    return lambda h: h.send_stream(endless(prefix))


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/v2/app/tags/list", "rk.tags(f'{host}/app', client=client)"),
        ("/v2/_catalog", "rk.catalog(host, client=client)"),
        ("/v2/app/manifests/v1", "rk.inspect(f'{host}/app:v1', client=client)"),
    ],
    ids=["tag-list", "catalog", "manifest"],
)
def test_endless_bodies_stop_at_a_bound(path: str, call: str):
    with HostileRegistry() as reg:
        reg.route("GET", path, _endless_json(b'{"tags": ["'))
        outcome, took, peak = _run_child(reg.host, call)
    _assert_registrykit_error(outcome)
    assert took < BOUND_S, took
    assert peak < 300, f"peak RSS {peak:.0f} MiB"


def test_an_endless_config_stops_at_a_bound():
    with HostileRegistry() as reg:
        digests = _image(reg, "app", "v1")
        reg.route("GET", f"/v2/app/blobs/{digests['config']}", _endless_json(b'{"os": "'))
        outcome, took, peak = _run_child(reg.host, "rk.config(f'{host}/app:v1', client=client)")
    _assert_registrykit_error(outcome)
    assert took < BOUND_S and peak < 300, (took, peak)


def test_an_endless_error_body_stops_at_a_bound():
    with HostileRegistry() as reg:
        reg.route("GET", "/v2/app/tags/list", lambda h: h.send_stream(endless(b'{"errors": '), 400))
        outcome, took, peak = _run_child(reg.host, "rk.tags(f'{host}/app', client=client)")
    _assert_registrykit_error(outcome)
    assert took < BOUND_S and peak < 300, (took, peak)


def test_an_endless_token_body_stops_at_a_bound():
    with HostileRegistry() as reg:
        challenge = f'Bearer realm="{reg.url}/token",service="hostile"'
        reg.route("GET", "/v2/", lambda h: h.send_json({}, 401, {"WWW-Authenticate": challenge}))
        reg.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_json({}, 401, {"WWW-Authenticate": challenge + ',scope="x"'}),
        )
        reg.route("GET", "/token", lambda h: h.send_stream(endless(b'{"token": "')))
        outcome, took, peak = _run_child(reg.host, "rk.tags(f'{host}/app', client=client)")
    _assert_registrykit_error(outcome)
    assert took < BOUND_S and peak < 300, (took, peak)


# -- 10. blobs longer than declared ------------------------------------------------------


def test_a_blob_longer_than_declared_stops_at_the_declared_size(tmp_path: Path):
    with HostileRegistry() as reg:
        digests = _image(reg, "app", "v1", layer=b"x" * 10240)
        reg.route(
            "GET",
            f"/v2/app/blobs/{digests['layer']}",
            lambda h: h.send_stream(endless(b"x" * 10240, b"y" * 65536)),
        )
        start = time.monotonic()
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.pull(f"{reg.host}/app:v1", tmp_path / "out", client=client)
        assert time.monotonic() - start < BOUND_S
    assert all(p.stat().st_size <= 1024 * 1024 for p in tmp_path.rglob("*") if p.is_file())


# -- 11. pagination without end ---------------------------------------------------------


def test_a_link_to_itself_ends():
    with HostileRegistry() as reg:
        reg.route(
            "GET",
            "/v2/_catalog",
            lambda h: h.send_json(
                {"repositories": ["a"]}, 200, {"Link": '</v2/_catalog?n=1&last=a>; rel="next"'}
            ),
        )
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.catalog(reg.host, client=client)
        assert reg.count("GET", "/v2/_catalog") < 50


def test_endless_new_pages_end():
    counter = iter(range(10**9))
    with HostileRegistry() as reg:
        reg.route(
            "GET",
            "^/v2/app/tags/list.*",
            lambda h: (
                n := next(counter),
                h.send_json(
                    {"name": "app", "tags": [f"t{n}"]},
                    200,
                    {"Link": f'</v2/app/tags/list?n=1&last=t{n}>; rel="next"'},
                ),
            ),
        )
        start = time.monotonic()
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.tags(f"{reg.host}/app", client=client)
        assert time.monotonic() - start < 60
        assert reg.count("GET", "/v2/app/tags/list") <= 10_001


def test_a_link_to_another_host_is_not_followed():
    with HostileRegistry() as reg, HostileRegistry() as other:
        reg.route(
            "GET",
            "/v2/_catalog",
            lambda h: h.send_json(
                {"repositories": ["a"]},
                200,
                {"Link": f'<http://{other.host}/v2/_catalog?last=a>; rel="next"'},
            ),
        )
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.catalog(reg.host, client=client)
        assert other.count("GET", "/v2/_catalog") == 0


# -- 12. an overall deadline ------------------------------------------------------------


def test_a_dripping_body_meets_the_deadline():
    with HostileRegistry() as reg:
        body = json.dumps({"name": "app", "tags": ["v1"]}).encode()
        reg.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_stream(drip(body, 0.5), length=len(body)),
        )
        start = time.monotonic()
        with rk.Client(cache_dir=None, timeout=2.0) as client, pytest.raises(rk.RegistryKitError):
            rk.tags(f"{reg.host}/app", client=client)
        assert time.monotonic() - start < 8


# -- 13. wrong-typed JSON becomes a RegistryError naming the field ----------------------


@pytest.mark.parametrize(
    "doc",
    [
        "nonsense",
        {"name": "app", "tags": "v1"},
        {"name": "app", "tags": [1, 2]},
        {"name": "app", "tags": [None]},
        [1, 2, 3],
    ],
)
def test_wrong_typed_tag_lists(doc: object):
    with HostileRegistry() as reg:
        reg.route("GET", "/v2/app/tags/list", lambda h: h.send_json(doc))
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.tags(f"{reg.host}/app", client=client)


@pytest.mark.parametrize(
    "layers",
    [
        "x",
        [{"mediaType": OCI_LAYER, "digest": digest_of(b"a"), "size": "5"}],
        [{"mediaType": OCI_LAYER, "digest": digest_of(b"a"), "size": -1}],
        [{"mediaType": OCI_LAYER, "digest": digest_of(b"a"), "size": 10**20}],
        [{"mediaType": OCI_LAYER, "digest": 42, "size": 1}],
        [None],
    ],
)
def test_wrong_typed_manifests(layers: object):
    with HostileRegistry() as reg:
        config = b"{}"
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": 2},
                "layers": layers,
            }
        ).encode()
        headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest_of(manifest)}
        reg.route("GET", "/v2/app/manifests/v1", lambda h: h.send_bytes(manifest, 200, headers))
        reg.route("GET", f"/v2/app/blobs/{digest_of(config)}", lambda h: h.send_bytes(config))
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.layers(f"{reg.host}/app:v1", client=client)


def test_a_redirect_loop_is_a_registrykit_error():
    with HostileRegistry() as reg:
        reg.route(
            "GET",
            "/v2/app/tags/list",
            lambda h: h.send_bytes(b"", 307, {"Location": "/v2/app/tags/list"}),
        )
        with _client() as client, pytest.raises(rk.RegistryKitError):
            rk.tags(f"{reg.host}/app", client=client)


# -- 3 and 5. credentials stay with their host and out of messages ----------------------


def test_secrets_echoed_by_a_registry_are_scrubbed():
    def echo(h):  # type: ignore[no-untyped-def]
        auth = h.headers.get("Authorization", "")
        if not auth:
            h.send_json({}, 401, {"WWW-Authenticate": 'Basic realm="hostile"'})
            return
        h.send_json({"errors": [{"code": "DENIED", "message": f"you sent {auth} ({SECRET})"}]}, 403)

    with HostileRegistry() as reg:
        reg.route("GET", "/v2/app/tags/list", echo)
        reg.route("GET", "/v2/", echo)
        with _client(logins={reg.host: ("me", SECRET)}) as client:
            with pytest.raises(rk.RegistryKitError) as err:
                rk.tags(f"{reg.host}/app", client=client)
        text = f"{err.value} {err.value!r}"
        assert SECRET not in text
        assert base64.b64encode(f"me:{SECRET}".encode()).decode() not in text


def test_credentials_do_not_follow_a_redirect_to_another_realm():
    with HostileRegistry() as reg, HostileRegistry() as other:
        digests = _image(reg, "app", "v1")
        basic = 'Basic realm="hostile"'
        reg.route(
            "GET",
            "/v2/",
            lambda h: h.send_json(
                {}, 200 if h.headers.get("Authorization") else 401, {"WWW-Authenticate": basic}
            ),
        )
        reg.route(
            "GET",
            f"/v2/app/blobs/{digests['layer']}",
            lambda h: h.send_bytes(b"", 307, {"Location": f"{other.url}/blob"}),
        )
        challenge = f'Bearer realm="{other.url}/token",service="other"'
        other.route("GET", "/blob", lambda h: h.send_json({}, 401, {"WWW-Authenticate": challenge}))
        other.route("GET", "/token", lambda h: h.send_json({"token": "t"}))
        with _client(logins={reg.host: ("me", SECRET)}) as client:
            with pytest.raises(rk.RegistryKitError):
                rk.files(f"{reg.host}/app:v1", client=client)
        sent = [hdrs.get("Authorization", "") for _, _, hdrs, _ in other.requests]
        assert not any("Basic" in a for a in sent), sent
