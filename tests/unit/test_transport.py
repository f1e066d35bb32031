"""Retries, limits and error mapping, with injected faults (httpx.MockTransport)."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from support import oci as mt
from support.internals import (
    RETRYABLE_STATUSES,
    Descriptor,
    RegistrySettings,
    RetryPolicy,
    transfer,
)
from support.oci import compute_digest

import registrykit as rk

HOST = "registry.example.com"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": compute_digest(b"{}"), "size": 2},
        "layers": [],
    }
).encode()
DIGEST = compute_digest(MANIFEST)


def _client(handler, **kw) -> rk.Client:
    return rk.Client(cache_dir=None, transport=httpx.MockTransport(handler), **kw)


def _manifest_response(body: bytes = MANIFEST, digest: str = DIGEST, **headers) -> httpx.Response:
    return httpx.Response(
        200,
        content=body,
        headers={"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": digest, **headers},
    )


def test_503_with_retry_after_is_waited_out():
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) < 3:
            return httpx.Response(503, headers={"Retry-After": "1"})
        return _manifest_response()

    with _client(handler) as client:
        doc = client.registry(HOST).manifest("app", "v1")
    assert doc.digest == DIGEST
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.9


def test_retries_are_bounded_and_report_the_last_answer():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503, json={"errors": [{"code": "UNAVAILABLE"}]})

    policy = RetryPolicy(attempts=3, backoff=0.01)
    with _client(handler, retry=policy) as client, pytest.raises(rk.RegistryUnavailable) as info:
        client.registry(HOST).tags("app")
    assert len(calls) == 3
    assert info.value.status == 503


def test_429_beyond_the_wait_bound_raises_rate_limited_with_reset():
    def handler(request):
        return httpx.Response(
            429,
            headers={"Retry-After": "3600"},
            json={"errors": [{"code": "TOOMANYREQUESTS", "message": "slow"}]},
        )

    started = time.monotonic()
    with _client(handler) as client, pytest.raises(rk.RateLimited) as info:
        client.registry(HOST).tags("app")
    assert time.monotonic() - started < 5
    assert info.value.reset is not None
    assert "logging in raises the pull limit" in str(info.value)


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, False), (501, False), (502, True), (503, True), (504, True)]
)
def test_every_5xx_is_registry_unavailable_and_only_temporary_ones_are_retried(status, retryable):
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(status)

    policy = RetryPolicy(attempts=3, backoff=0.01)
    with _client(handler, retry=policy) as client, pytest.raises(rk.RegistryUnavailable) as info:
        client.registry(HOST).tags("app")
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert len(calls) == (3 if retryable else 1)


def test_which_errors_are_retryable():
    assert rk.RateLimited("slow down", status=429).retryable
    assert rk.RegistryUnavailable("connection refused").retryable
    assert not rk.AuthenticationError("who are you", status=401).retryable
    assert not rk.NotFound("gone", status=404).retryable
    assert not rk.TLSError("bad certificate").retryable
    assert RetryPolicy().statuses == RETRYABLE_STATUSES


class _FlakyStore:
    """A destination whose uploads fail with the given errors, then succeed."""

    def __init__(self, *errors: rk.RegistryKitError) -> None:
        self.errors = list(errors)
        self.puts = 0

    def blob_put(self, digest, size, opener) -> None:
        self.puts += 1
        if self.errors:
            raise self.errors.pop(0)


@pytest.fixture
def fast_upload_retry(monkeypatch):
    monkeypatch.setattr(transfer, "UPLOAD_RETRY", RetryPolicy(attempts=3, backoff=0.01))


BLOB = Descriptor(mt.OCI_LAYER_GZIP, compute_digest(b"x"), 1)


def test_upload_restarts_use_the_same_statuses_as_requests(fast_upload_retry):
    store = _FlakyStore(
        rk.RateLimited("throttled", status=429),
        rk.RegistryUnavailable("bad gateway", status=502),
    )
    transfer._put_with_retry(store, BLOB, opener=None)
    assert store.puts == 3


@pytest.mark.parametrize(
    "error",
    [
        rk.RegistryUnavailable("internal error", status=500),
        rk.RegistryUnavailable("connection dropped"),  # no status: re-run instead
        rk.PermissionDenied("denied", status=403),
    ],
)
def test_upload_is_not_restarted_after_a_permanent_error(fast_upload_retry, error):
    store = _FlakyStore(error)
    with pytest.raises(type(error)):
        transfer._put_with_retry(store, BLOB, opener=None)
    assert store.puts == 1


def test_upload_restarts_are_bounded(fast_upload_retry):
    store = _FlakyStore(*[rk.RegistryUnavailable("busy", status=503)] * 5)
    with pytest.raises(rk.RegistryUnavailable):
        transfer._put_with_retry(store, BLOB, opener=None)
    assert store.puts == 3


def test_scheme_probe_honours_the_client_timeout():
    timeouts = []

    def handler(request):
        if request.url.path == "/v2/":
            timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json={"name": "app", "tags": []})

    with _client(handler, timeout=3.0) as client:
        client.registry("localhost:5000").tags("app")
    assert [t["read"] for t in timeouts] == [3.0]


def test_user_agent_and_accept_headers():
    seen = []

    def handler(request):
        seen.append(request)
        return _manifest_response()

    with _client(handler) as client:
        client.registry(HOST).manifest("app", "v1")
    assert seen[0].headers["user-agent"] == f"registrykit/{rk.__version__}"
    accept = seen[0].headers["accept"]
    for media_type in mt.MANIFEST_TYPES:
        assert media_type in accept


def test_schema1_is_refused_with_a_remedy():
    body = json.dumps({"schemaVersion": 1, "name": "app", "tag": "v1", "fsLayers": []}).encode()

    def handler(request):
        return _manifest_response(
            body, compute_digest(body), **{"Content-Type": mt.DOCKER_SCHEMA1_SIGNED}
        )

    with _client(handler) as client, pytest.raises(rk.Unsupported) as info:
        client.registry(HOST).manifest("app", "v1")
    assert "schema 1" in str(info.value) and "Re-push" in str(info.value)


def test_manifests_over_4_mib_are_refused():
    big = b"{" + b" " * (4 * 1024 * 1024) + b"}"

    def handler(request):
        return _manifest_response(big, compute_digest(big))

    with _client(handler) as client, pytest.raises(rk.Unsupported) as info:
        client.registry(HOST).manifest("app", "v1")
    assert "4 MiB" in str(info.value)


def test_manifest_digest_mismatch_is_detected():
    tampered = MANIFEST.replace(b'"layers": []', b'"layers":[]')
    assert tampered != MANIFEST

    def handler(request):
        return _manifest_response(tampered, DIGEST)

    with _client(handler) as client:
        with pytest.raises(rk.DigestMismatch):
            client.registry(HOST).manifest("app", "v1")
        with pytest.raises(rk.DigestMismatch):
            client.registry(HOST).manifest("app", DIGEST)


def test_corrupt_blob_raises_before_the_stream_completes():
    data = b"x" * 100_000
    digest = compute_digest(data)

    def handler(request):
        return httpx.Response(200, content=data[:-1] + b"y")

    with _client(handler) as client:
        reg = client.registry(HOST)
        with pytest.raises(rk.DigestMismatch), reg.open_blob("app", digest) as chunks:
            for _ in chunks:
                pass


def test_delete_disabled_says_how_to_enable_it():
    def handler(request):
        return httpx.Response(
            405,
            json={"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]},
        )

    with _client(handler) as client, pytest.raises(rk.Unsupported) as info:
        client.registry(HOST).delete_manifest("app", DIGEST)
    assert "storage.delete.enabled" in str(info.value)
    assert info.value.codes == ["UNSUPPORTED"]


def test_denied_and_unknown_errors_keep_codes_and_status():
    def handler(request):
        if request.url.path.endswith("tags/list"):
            return httpx.Response(403, json={"errors": [{"code": "DENIED", "message": "no"}]})
        return httpx.Response(400, json={"errors": [{"code": "MANIFEST_INVALID"}]})

    with _client(handler) as client:
        reg = client.registry(HOST)
        with pytest.raises(rk.PermissionDenied) as denied:
            reg.tags("app")
        with pytest.raises(rk.RegistryError) as other:
            reg.put_manifest("app", "v1", MANIFEST, mt.OCI_MANIFEST)
    assert denied.value.codes == ["DENIED"] and denied.value.status == 403
    assert other.value.codes == ["MANIFEST_INVALID"] and other.value.status == 400
    assert "creating first" in str(denied.value)


def test_connection_refused_is_registry_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with rk.Client(cache_dir=None, retry=RetryPolicy(attempts=2, backoff=0.01)) as client:
        with pytest.raises(rk.RegistryUnavailable) as info:
            client.registry(f"127.0.0.1:{port}").tags("app")
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "running" in str(info.value)


def test_remote_hosts_are_https_only(monkeypatch):
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, json={"name": "app", "tags": None})

    with _client(handler) as client:
        assert client.registry(HOST).tags("app") == []  # "tags": null is an empty list
        assert client.registry("docker.io").base_url == "https://registry-1.docker.io"
    assert seen == [f"https://{HOST}/v2/app/tags/list?n=1000"]


def test_mirrors_from_settings_are_read_first():
    seen = []

    def handler(request):
        seen.append(request.url.host)
        if request.url.host == "mirror.example.com":
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        return _manifest_response()

    settings = RegistrySettings(mirrors={"docker.io": ("mirror.example.com",)})
    with _client(handler, settings=settings) as client:
        client.registry("docker.io").manifest("library/alpine", "3")
    assert seen == ["mirror.example.com", "registry-1.docker.io"]


def test_cache_serves_manifests_by_digest_from_disk(tmp_path):
    calls = []

    def handler(request):
        calls.append(request.url.path)
        return _manifest_response()

    with _client(handler) as c:
        c.registry(HOST).manifest("app", DIGEST)
    with rk.Client(cache_dir=tmp_path, transport=httpx.MockTransport(handler)) as c:
        c.registry(HOST).manifest("app", DIGEST)
    with rk.Client(cache_dir=tmp_path, transport=httpx.MockTransport(handler)) as c:
        assert c.registry(HOST).manifest("app", DIGEST).digest == DIGEST
    assert len(calls) == 2  # the third client read the disk cache
    cached = next(tmp_path.rglob(DIGEST.split(":")[1]))
    cached.write_bytes(b"damaged")
    with rk.Client(cache_dir=tmp_path, transport=httpx.MockTransport(handler)) as c:
        assert c.registry(HOST).manifest("app", DIGEST).digest == DIGEST
    assert len(calls) == 3  # a damaged entry is a miss, never wrong data


@pytest.mark.parametrize(
    ("method", "error", "tries"),
    [
        ("GET", httpx.WriteError, 2),
        ("GET", httpx.ReadError, 2),
        ("PUT", httpx.WriteError, 2),  # a byte body never fully sent goes again
        ("PUT", httpx.ReadError, 1),  # the registry may have acted on it: not repeated
    ],
)
def test_a_connection_closed_under_a_request_is_retried_when_that_is_safe(method, error, tries):
    # httpcore#1110: another thread's pool pass may close a kept-alive connection
    # just handed to this request; the socket then fails with EBADF.
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise error("[Errno 9] Bad file descriptor", request=request)
        return httpx.Response(201 if request.method == "PUT" else 200, content=b"{}")

    policy = RetryPolicy(attempts=3, backoff=0.01)
    with _client(handler, retry=policy) as client:
        url = f"https://{HOST}/v2/app/manifests/v1"
        if tries == 2:
            assert client.http.request(method, url, content=b"{}").status_code in (200, 201)
        else:
            with pytest.raises(error):
                client.http.request(method, url, content=b"{}")
    assert len(calls) == tries
