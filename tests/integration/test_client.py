"""The registry client against the real distribution registry, checked with skopeo."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from support import oci as mt
from support.internals import (
    ChunkReader,
    DigestMismatch,
    RegistryClient,
    verified_chunks,
    write_verified,
)
from support.internals import mediatypes as rkmt
from support.oci import compute_digest

import registrykit as rk
from registrykit import Index, Manifest
from registrykit.lab.build import build_image, gzip_layer, tar_layer


def _push(reg: RegistryClient, repo: str, tag: str, files: dict[str, bytes]) -> str:
    image = build_image([gzip_layer(tar_layer(files))])
    for blob in image.blobs():
        reg.upload_blob(repo, blob.digest, blob.size, blob.data)
    return reg.put_manifest(repo, tag, image.manifest.data, image.manifest.media_type)


def test_plain_http_loopback_falls_back_from_https(registry, client):
    reg = client.registry(registry.host)
    assert reg.base_url == f"http://{registry.host}"
    ping = reg.ping()
    assert ping.status == 200
    assert ping.api_version == "registry/2.0"


@pytest.mark.parametrize("name", ["single", "docker", "multi", "manifest-list"])
def test_manifest_digests_match_skopeo(registry, client, push_fixtures, skopeo, name):
    pushed = push_fixtures(registry)
    ref, built_digest = pushed[name]
    repo = ref.split("/", 1)[1].rsplit(":", 1)[0]
    reg = client.registry(registry.host)
    seen = skopeo.inspect(f"docker://{ref}")
    raw = skopeo.run("inspect", "--tls-verify=false", "--raw", f"docker://{ref}").stdout.encode()

    head = reg.head_manifest(repo, "1.0")
    doc = reg.manifest(repo, "1.0")
    assert head is not None
    assert head.digest == doc.digest == built_digest == compute_digest(raw)
    assert head.size == len(raw)
    assert doc.raw == raw
    if isinstance(doc, Index):
        assert doc.media_type in mt.INDEX_TYPES
        assert sorted(str(p) for p in doc.platforms) == ["linux/amd64", "linux/arm64/v8"]
        child = reg.manifest(repo, doc.select("linux/amd64").digest)
        assert isinstance(child, Manifest)
        assert [layer.digest for layer in child.layers] == seen["Layers"]
    else:
        assert isinstance(doc, Manifest)
        assert seen["Digest"] == doc.digest
        assert [layer.digest for layer in doc.layers] == seen["Layers"]
        sizes = [d["size"] for d in json.loads(raw)["layers"]]
        assert sizes == [layer.size for layer in doc.layers]
        config = skopeo.run(
            "inspect", "--tls-verify=false", "--config", "--raw", f"docker://{ref}"
        ).stdout.encode()
        assert reg.blob(repo, doc.config.digest) == config


def test_tags_and_catalog_follow_link_pages(registry, client):
    reg = client.registry(registry.host)
    tags = ["1.0", "1.0-rc.1", "1.0.1", "v2.0.0-beta.1", "latest"]
    for tag in tags:
        _push(reg, "paging/app", tag, {"f": tag.encode()})
    for i in range(3):
        _push(reg, f"paging/repo{i}", "x", {"f": b"x"})
    assert sorted(reg.tags("paging/app", page_size=1)) == sorted(tags)
    repos = list(reg.catalog(page_size=1))
    assert {"paging/app", "paging/repo0", "paging/repo1", "paging/repo2"} <= set(repos)
    assert len(repos) == len(set(repos))


def test_missing_repository_and_tag_raise_not_found_with_remedy(registry, client):
    reg = client.registry(registry.host)
    with pytest.raises(rk.NotFound) as info:
        reg.tags("no/such/repo")
    assert "NAME_UNKNOWN" in info.value.codes
    assert "rk.catalog" in str(info.value)
    _push(reg, "missing/app", "v1", {"a": b"1"})
    with pytest.raises(rk.NotFound):
        reg.manifest("missing/app", "nope")
    assert reg.head_manifest("missing/app", "nope") is None


def test_upload_mount_and_delete_read_back_by_skopeo(registry, client, skopeo):
    reg = client.registry(registry.host)
    image = build_image([gzip_layer(tar_layer({"data": bytes(range(256)) * 1000}))])
    layer = image.layers[0]
    # A streamed source, as a copy hands it over.
    from contextlib import contextmanager

    @contextmanager
    def opener():
        yield (layer.data[i : i + 4096] for i in range(0, layer.size, 4096))

    assert reg.upload_blob("up/a", layer.digest, layer.size, opener) == "uploaded"
    reg.upload_blob("up/a", image.config.digest, image.config.size, image.config.data)
    digest = reg.put_manifest("up/a", "v1", image.manifest.data, image.manifest.media_type)
    assert skopeo.inspect(f"docker://{registry.host}/up/a:v1")["Digest"] == digest == image.digest

    assert reg.blob_size("up/b", layer.digest) is None
    assert reg.mount_blob("up/b", layer.digest, "up/a") is True
    assert reg.blob_size("up/b", layer.digest) == layer.size
    with reg.open_blob("up/b", layer.digest) as chunks:
        assert b"".join(chunks) == layer.data

    reg.delete_manifest("up/a", digest)
    assert reg.head_manifest("up/a", "v1") is None


def test_referrers_fall_back_to_the_tag_schema(registry, client):
    reg = client.registry(registry.host)
    subject = _push(reg, "refs/app", "v1", {"a": b"subject"})
    sig_config = b"{}"
    sig_layer = b"signature-bytes"
    for data in (sig_config, sig_layer):
        reg.upload_blob("refs/app", compute_digest(data), len(data), data)
    signature = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": {"mediaType": mt.OCI_EMPTY, "digest": compute_digest(sig_config), "size": 2},
            "layers": [
                {
                    "mediaType": "application/octet-stream",
                    "digest": compute_digest(sig_layer),
                    "size": len(sig_layer),
                }
            ],
            "subject": {"mediaType": mt.OCI_MANIFEST, "digest": subject, "size": 1},
        }
    ).encode()
    sig_digest = reg.put_manifest("refs/app", compute_digest(signature), signature, mt.OCI_MANIFEST)
    assert reg.referrers("refs/app", subject) == []  # 2.8 has no referrers API, no tag yet
    fallback = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": sig_digest,
                    "size": len(signature),
                    "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
                }
            ],
        }
    ).encode()
    reg.put_manifest("refs/app", subject.replace(":", "-"), fallback, mt.OCI_INDEX)
    found = reg.referrers("refs/app", subject)
    assert [d.digest for d in found] == [sig_digest]
    assert reg.referrers("refs/app", subject, artifact_type="other/type") == []


def test_htpasswd_needs_credentials(htpasswd_registry, isolated_home):
    with rk.Client(cache_dir=None) as anonymous, pytest.raises(rk.AuthenticationError) as info:
        list(anonymous.registry(htpasswd_registry.host).catalog())
    assert info.value.status == 401
    assert "rk.login" in str(info.value)
    logins = {htpasswd_registry.host: (htpasswd_registry.username, htpasswd_registry.password)}
    with rk.Client(cache_dir=None, logins=logins) as c:
        reg = c.registry(htpasswd_registry.host)
        _push(reg, "private/app", "v1", {"p": b"1"})
        assert reg.tags("private/app") == ["v1"]


def test_tls_registry_verifies_with_ca_and_never_falls_back(tls_registry, isolated_home):
    with rk.Client(cache_dir=None, ca_bundle=tls_registry.ca_file) as c:
        reg = c.registry(tls_registry.host)
        assert reg.base_url == f"https://{tls_registry.host}"
        _push(reg, "tls/app", "v1", {"t": b"1"})
        assert reg.tags("tls/app") == ["v1"]
    with rk.Client(cache_dir=None) as c, pytest.raises(rk.TLSError) as info:
        c.registry(tls_registry.host).ping()
    assert "ca_bundle" in str(info.value)
    with rk.Client(cache_dir=None, insecure=[tls_registry.host]) as c:
        assert c.registry(tls_registry.host).tags("tls/app") == ["v1"]


def test_token_auth_flow_caches_tokens_per_scope(token_registry, token_server, isolated_home):
    from support.net import TOKEN_PASSWORD, TOKEN_USER

    logins = {token_registry.host: (TOKEN_USER, TOKEN_PASSWORD)}
    with rk.Client(cache_dir=None, logins=logins) as c:
        reg = c.registry(token_registry.host)
        token_server.clear()
        _push(reg, "tok/app", "v1", {"a": b"1"})
        _push(reg, "tok/app", "v2", {"a": b"2"})
        assert sorted(reg.tags("tok/app")) == ["v1", "v2"]
        assert "tok/app" in list(reg.catalog())
        requests = list(token_server.requests)
    scopes = [" ".join(r.scopes) for r in requests]
    assert all(r.basic_auth and r.username == TOKEN_USER for r in requests)
    # push scope once, pull scope once, catalog once: cached per (host, scope)
    assert scopes.count("repository:tok/app:pull,push") == 1
    assert "registry:catalog:*" in scopes
    assert len(requests) <= 4


def test_token_auth_anonymous_pull_of_public_repository(
    token_registry, token_server, push_fixtures, isolated_home
):
    from support.net import PUBLIC_REPOSITORY, TOKEN_PASSWORD, TOKEN_USER

    logins = {token_registry.host: (TOKEN_USER, TOKEN_PASSWORD)}
    with rk.Client(cache_dir=None, logins=logins) as c:
        _push(c.registry(token_registry.host), PUBLIC_REPOSITORY, "v1", {"pub": b"1"})
    with rk.Client(cache_dir=None) as anonymous:
        reg = anonymous.registry(token_registry.host)
        assert reg.tags(PUBLIC_REPOSITORY) == ["v1"]
        with pytest.raises(rk.AuthenticationError):
            reg.tags("tok/app")


def test_token_auth_with_identity_token_uses_refresh_grant(
    token_registry, token_server, isolated_home
):
    from support.net import TOKEN_PASSWORD, TOKEN_USER

    grant = httpx.post(
        token_server.realm,
        data={
            "grant_type": "password",
            "username": TOKEN_USER,
            "password": TOKEN_PASSWORD,
            "service": token_server.service,
            "client_id": "test",
            "access_type": "offline",
        },
    ).json()
    refresh = grant["refresh_token"]
    with rk.Client(cache_dir=None, logins={token_registry.host: ("<token>", refresh)}) as c:
        token_server.clear()
        _push(c.registry(token_registry.host), "ident/app", "v1", {"i": b"1"})
        posts = [r for r in token_server.requests if r.method == "POST"]
    assert posts and all(r.params.get("grant_type") == ["refresh_token"] for r in posts)
    assert not any(r.method == "GET" for r in token_server.requests)


def test_wrong_token_credentials_raise_authentication_error(token_registry, isolated_home):
    logins = {token_registry.host: ("tokenuser", "wrong")}
    with (
        rk.Client(cache_dir=None, logins=logins) as c,
        pytest.raises(rk.AuthenticationError) as info,
    ):
        c.registry(token_registry.host).tags("tok/app")
    assert "wrong" not in str(info.value)
    assert "tokenuser" in str(info.value)


def test_certs_d_directory_is_honoured(tls_registry, isolated_home):
    import shutil

    certs = isolated_home / ".docker" / "certs.d" / tls_registry.host
    certs.mkdir(parents=True)
    shutil.copyfile(tls_registry.ca_file, certs / "ca.crt")
    with rk.Client(cache_dir=None) as c:
        reg = c.registry(tls_registry.host)
        assert reg.base_url.startswith("https://")
        assert reg.ping().status == 200


def test_monolithic_put_refused_falls_back_to_chunked_patch(registry, client):
    """A registry that refuses the one-shot PUT gets the chunked protocol instead."""
    from contextlib import contextmanager

    inner = httpx.HTTPTransport()
    methods: list[str] = []

    class RefuseMonolithic(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            methods.append(request.method)
            monolithic = request.headers.get("content-length", "0") != "0"
            if request.method == "PUT" and "/blobs/uploads/" in request.url.path and monolithic:
                request.read()
                return httpx.Response(416, request=request)
            return inner.handle_request(request)

    data = bytes(range(256)) * 9000  # > 2 chunks of 1 MiB
    digest = compute_digest(data)

    @contextmanager
    def opener():
        yield iter([data[:1000], data[1000:]])

    with rk.Client(cache_dir=None, transport=RefuseMonolithic()) as c:
        reg = c.registry(registry.host)
        assert reg.upload_blob("chunked/app", digest, len(data), opener) == "uploaded"
    assert methods.count("PATCH") == 3
    with client.registry(registry.host).open_blob("chunked/app", digest) as chunks:
        assert b"".join(chunks) == data


def test_digest_helpers_refuse_what_does_not_match() -> None:
    """The one verifying iterator and the one verified writer every store uses."""
    data = b"x" * 3000
    digest = compute_digest(data)
    assert b"".join(verified_chunks([data[:10], data[10:]], digest, "blob")) == data
    with pytest.raises(DigestMismatch, match="discarded"):
        list(verified_chunks([data[:-1]], digest, "blob"))
    out: list[bytes] = []
    write_verified([data[:5], data[5:]], out.append, digest, len(data), "blob")
    assert b"".join(out) == data
    with pytest.raises(DigestMismatch, match="not written"):
        write_verified([data], out.append, digest, len(data) + 1, "blob")
    reader = io.BufferedReader(ChunkReader(iter([b"ab", b"", b"cde"])))
    assert reader.read() == b"abcde"


def test_sniffed_media_types_and_compression() -> None:
    assert rkmt.sniff_media_type(b'{"mediaType":"x/y"}') == "x/y"
    assert rkmt.sniff_media_type(b'{"manifests":[]}') == mt.OCI_INDEX
    assert rkmt.sniff_media_type(b'{"layers":[]}', mt.DOCKER_MANIFEST) == mt.DOCKER_MANIFEST
    assert rkmt.sniff_media_type(b"not json") == mt.OCI_MANIFEST
    assert rkmt.compression_of(gzip_layer(tar_layer({"f": b"1"})).blob.data[:4]) == "gzip"
    assert rkmt.compression_of(b"\x28\xb5\x2f\xfd....") == "zstd"
    assert rkmt.compression_of(b"ustar") is None
