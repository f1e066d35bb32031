"""Docker Hub and GHCR deletes, against mocks replaying their documented API shapes.

Docker Hub: ``POST /v2/auth/token`` with ``{"identifier", "secret"}`` ->
``{"access_token"}`` (Docker Hub API reference, "Create access token",
docs.docker.com/reference/api/hub/latest/; ``/v2/users/login`` is deprecated
there), then ``DELETE /v2/repositories/<ns>/<repo>/tags/<tag>/`` with
``Authorization: Bearer``.
GitHub: ``GET /{users|orgs}/<owner>/packages/container/<name>/versions`` (a
list of ``{"id", "name": <digest>, "metadata": {"container": {"tags"}}}``),
then ``DELETE .../versions/<id>`` (204).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from support.internals import dockerhub_delete_tag, dockerhub_login, ghcr_delete_digest
from support.oci import OCI_MANIFEST

import registrykit as rk
from registrykit import AuthenticationError, NotFound, PermissionDenied, delete

HUB_PASSWORD = "hub-password-123"
GH_TOKEN = "ghp_testtoken456"
IMAGE = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(IMAGE).hexdigest()
OTHER = "sha256:" + "cd" * 32


@dataclass
class FakeVendor:
    """A registry API plus the vendor's web API, recording every request."""

    tags: dict[str, str]
    versions_under: str = "users"
    requests: list[httpx.Request] = field(default_factory=list)
    manifests: dict[str, bytes] = field(default_factory=lambda: {DIGEST: IMAGE})
    hub_login_status: int = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        host, path, method = request.url.host, request.url.path, request.method
        if host == "hub.docker.com":
            return self._hub(request, path, method)
        if host == "api.github.com":
            return self._github(request, path, method)
        return self._registry(request, path, method)

    def _registry(self, request: httpx.Request, path: str, method: str) -> httpx.Response:
        parts = path.split("/")
        if path.endswith("/tags/list"):
            return httpx.Response(200, json={"name": "x", "tags": sorted(self.tags)})
        if "/manifests/" in path:
            ref = parts[-1]
            if method == "PUT":
                digest = "sha256:" + hashlib.sha256(request.content).hexdigest()
                self.manifests[digest] = request.content
                self.tags[ref] = digest
                return httpx.Response(201, headers={"Docker-Content-Digest": digest})
            digest = self.tags.get(ref, ref if ref in self.manifests else None)
            if digest is None or digest not in self.manifests:
                return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
            raw = self.manifests[digest]
            headers = {"Docker-Content-Digest": digest, "Content-Type": OCI_MANIFEST}
            if method == "HEAD":
                headers["Content-Length"] = str(len(raw))
                return httpx.Response(200, headers=headers)
            return httpx.Response(200, headers=headers, content=raw)
        if "/blobs/" in path and method == "HEAD":
            return httpx.Response(200, headers={"Content-Length": "2"})
        if method == "DELETE":
            return httpx.Response(405, json={"errors": [{"code": "UNSUPPORTED"}]})
        return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})

    def _hub(self, request: httpx.Request, path: str, method: str) -> httpx.Response:
        if path == "/v2/auth/token" and method == "POST":
            body = json.loads(request.content)
            if self.hub_login_status != 200 or body != {
                "identifier": "alice",
                "secret": HUB_PASSWORD,
            }:
                return httpx.Response(401, json={"detail": "Incorrect authentication credentials"})
            return httpx.Response(200, json={"access_token": "jwt-abc"})
        prefix = "/v2/repositories/alice/app/tags/"
        if method == "DELETE" and path.startswith(prefix) and path.endswith("/"):
            if request.headers.get("authorization") != "Bearer jwt-abc":
                return httpx.Response(401, json={"detail": "authentication required"})
            tag = path[len(prefix) : -1]
            if tag not in self.tags:
                return httpx.Response(404, json={"message": "tag not found"})
            del self.tags[tag]
            return httpx.Response(204)
        return httpx.Response(404)

    def _github(self, request: httpx.Request, path: str, method: str) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {GH_TOKEN}":
            return httpx.Response(401, json={"message": "Bad credentials"})
        assert request.headers.get("accept") == "application/vnd.github+json"
        base = f"/{self.versions_under}/alice/packages/container/app/versions"
        if not path.startswith(base):
            return httpx.Response(404, json={"message": "Not Found"})
        versions = [
            {
                "id": 100 + i,
                "name": digest,
                "metadata": {
                    "package_type": "container",
                    "container": {"tags": [t for t, d in self.tags.items() if d == digest]},
                },
            }
            for i, digest in enumerate(self.manifests)
        ]
        if method == "GET" and path == base:
            page = int(request.url.params.get("page", "1"))
            per_page = int(request.url.params.get("per_page", "30"))
            return httpx.Response(200, json=versions[(page - 1) * per_page : page * per_page])
        if method == "DELETE":
            version_id = int(path.rsplit("/", 1)[1])
            digest = next(v["name"] for v in versions if v["id"] == version_id)
            del self.manifests[str(digest)]
            self.tags = {t: d for t, d in self.tags.items() if d != digest}
            return httpx.Response(204)
        return httpx.Response(404)


@pytest.fixture
def make_client() -> Iterator[Callable[[FakeVendor, dict[str, tuple[str, str]]], rk.Client]]:
    made: list[rk.Client] = []

    def make(fake: FakeVendor, logins: dict[str, tuple[str, str]]) -> rk.Client:
        c = rk.Client(cache_dir=None, transport=httpx.MockTransport(fake), logins=logins)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert HUB_PASSWORD not in text and GH_TOKEN not in text and "jwt-abc" not in text


def test_dockerhub_delete_removes_every_tag_of_the_digest(
    make_client: Callable[..., rk.Client],
) -> None:
    fake = FakeVendor(tags={"1.0": DIGEST, "latest": DIGEST, "2.0": OTHER})
    c = make_client(fake, {"docker.io": ("alice", HUB_PASSWORD)})
    plan = delete("alice/app:1.0", dry_run=True, client=c)
    assert sorted(plan.tags) == ["1.0", "latest"] and plan.method == "hub tag api"
    assert not any(r.url.host == "hub.docker.com" for r in fake.requests)

    result = delete("alice/app:1.0", client=c)
    assert result.deleted
    assert fake.tags == {"2.0": OTHER}
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    assert {str(r.url) for r in deletes} == {
        "https://hub.docker.com/v2/repositories/alice/app/tags/1.0/",
        "https://hub.docker.com/v2/repositories/alice/app/tags/latest/",
    }
    assert all(r.headers["authorization"] == "Bearer jwt-abc" for r in deletes)
    assert "garbage" not in str(result)  # Docker Hub frees space itself
    _no_secret(str(result), repr(result), result._repr_html_())


def test_dockerhub_untag_only_deletes_one_tag(make_client: Callable[..., rk.Client]) -> None:
    fake = FakeVendor(tags={"1.0": DIGEST, "latest": DIGEST})
    c = make_client(fake, {"docker.io": ("alice", HUB_PASSWORD)})
    delete("docker.io/alice/app:latest", untag_only=True, client=c)
    assert fake.tags == {"1.0": DIGEST}


def test_dockerhub_bad_login_is_clear_and_secret_free(
    make_client: Callable[..., rk.Client],
) -> None:
    fake = FakeVendor(tags={"1.0": DIGEST}, hub_login_status=401)
    c = make_client(fake, {"docker.io": ("alice", HUB_PASSWORD)})
    with pytest.raises(AuthenticationError, match="Docker Hub refused") as info:
        delete("alice/app:1.0", client=c)
    _no_secret(str(info.value))


def test_delete_without_credentials_says_to_log_in(make_client: Callable[..., rk.Client]) -> None:
    fake = FakeVendor(tags={"1.0": DIGEST})
    c = make_client(fake, {})
    with pytest.raises(AuthenticationError, match="Log in first"):
        delete("alice/app:1.0", client=c)


@pytest.mark.parametrize("under", ["users", "orgs"])
def test_ghcr_delete_finds_the_version_by_digest(
    under: str, make_client: Callable[..., rk.Client]
) -> None:
    fake = FakeVendor(tags={"1.0": DIGEST, "latest": DIGEST}, versions_under=under)
    fake.manifests[OTHER] = b"{}"
    c = make_client(fake, {"ghcr.io": ("alice", GH_TOKEN)})
    result = delete("ghcr.io/alice/app:1.0", client=c)
    assert result.deleted and result.method == "github packages api"
    assert DIGEST not in fake.manifests and OTHER in fake.manifests
    assert fake.tags == {}
    gh = [r for r in fake.requests if r.url.host == "api.github.com"]
    assert gh[-1].method == "DELETE"
    assert gh[-1].url.path == f"/{under}/alice/packages/container/app/versions/100"
    _no_secret(str(result), result._repr_html_())


def test_ghcr_untag_only_deletes_a_throwaway_version(make_client: Callable[..., rk.Client]) -> None:
    fake = FakeVendor(tags={"1.0": DIGEST, "latest": DIGEST})
    c = make_client(fake, {"ghcr.io": ("alice", GH_TOKEN)})
    delete("ghcr.io/alice/app:latest", untag_only=True, client=c)
    assert fake.tags == {"1.0": DIGEST}
    assert list(fake.manifests) == [DIGEST]  # the throwaway is gone, the image stays


def test_ghcr_functions_directly() -> None:
    fake = FakeVendor(tags={"1.0": DIGEST})
    with httpx.Client(transport=httpx.MockTransport(fake)) as http:
        assert ghcr_delete_digest(http, GH_TOKEN, "alice/app", DIGEST) == 100
        with pytest.raises(NotFound, match="no version"):
            ghcr_delete_digest(http, GH_TOKEN, "alice/app", OTHER)
        with pytest.raises(PermissionDenied, match="delete:packages") as info:
            ghcr_delete_digest(http, "wrong-token", "alice/app", DIGEST)
        _no_secret(str(info.value))
        with pytest.raises(NotFound, match="no container package"):
            ghcr_delete_digest(http, GH_TOKEN, "bob/app", DIGEST)


def test_dockerhub_functions_directly() -> None:
    fake = FakeVendor(tags={"1.0": DIGEST})
    with httpx.Client(transport=httpx.MockTransport(fake)) as http:
        token = dockerhub_login(http, "alice", HUB_PASSWORD)
        dockerhub_delete_tag(http, token, "alice/app", "1.0")
        assert fake.tags == {}
        with pytest.raises(rk.NotFound):
            dockerhub_delete_tag(http, token, "alice/app", "1.0")


def test_ghcr_versions_from_a_hostile_api_are_bounded_and_checked() -> None:
    pages: list[int] = []

    def endless(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("per_page") == "1":
            return httpx.Response(200, json=[])
        pages.append(int(request.url.params["page"]))
        return httpx.Response(200, json=[{"id": len(pages), "name": f"sha256:{len(pages)}"}])

    with httpx.Client(transport=httpx.MockTransport(endless)) as http:
        with pytest.raises(rk.NotFound):
            ghcr_delete_digest(http, GH_TOKEN, "alice/app", DIGEST)
    assert len(pages) == 100  # never an endless walk

    def odd_id(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            raise AssertionError("nothing may be deleted by a malformed id")
        return httpx.Response(200, json=[{"id": "7/../../x", "name": DIGEST}])

    with httpx.Client(transport=httpx.MockTransport(odd_id)) as http:
        with pytest.raises(rk.RegistryError, match="no numeric id"):
            ghcr_delete_digest(http, GH_TOKEN, "alice/app", DIGEST)
