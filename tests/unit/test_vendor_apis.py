"""Push times and catalogs from the vendors' own APIs, emulated with ``httpx.MockTransport``.

Every host the client talks to (the registry and the vendor's web API) is
served by one handler that counts requests, so the tests prove what a
listing costs: on Docker Hub, no manifest GET (each one is a pull).
"""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest
from support.fakeregistry import FakeRegistry, sample_image
from support.internals import listing, retention

import registrykit as rk
from registrykit import RateLimited, Unsupported
from registrykit.lab.build import Image, build_index

T1, T2, T3 = "2024-02-01T10:00:00.000000Z", "2024-04-01T10:00:00.000000Z", "2024-06-01T10:00:00Z"
MS = {"v1": 1706781600000, "v2": 1711965600000}  # T1 and T2 in milliseconds since the epoch


def _client(fake: FakeRegistry, **kw: Any) -> rk.Client:
    return rk.Client(cache_dir=None, transport=httpx.MockTransport(fake), **kw)


# -- Docker Hub -----------------------------------------------------------------------


def _hub_tag(name: str, item: Any, pushed: str) -> dict[str, Any]:
    """One tag object as Hub's "List repository tags" answers it.

    Docker Hub API reference, ``GET /v2/namespaces/{namespace}/repositories/
    {repository}/tags`` (docs.docker.com/reference/api/hub/latest/): ``name``,
    ``digest``, ``media_type``, ``full_size``, ``last_updated``,
    ``tag_last_pushed``, ``tag_last_pulled``, ``tag_status`` and ``images[]``
    of ``{architecture, os, variant, digest, size, status, last_pushed, last_pulled}``.
    """
    images = item.images if hasattr(item, "images") else [item]
    return {
        "id": abs(hash(name)) % 10_000,
        "name": name,
        "digest": item.digest,
        "media_type": item.media_type,
        "content_type": "image",
        "full_size": sum(i.size for i in images),
        "last_updated": pushed,
        "last_updater_username": "alice",
        "tag_status": "active",
        "tag_last_pushed": pushed,
        "tag_last_pulled": "2024-07-01T00:00:00Z",
        "v2": True,
        "images": [
            {
                "architecture": i.platform["architecture"],
                "os": i.platform["os"],
                "variant": i.platform.get("variant"),
                "features": "",
                "digest": i.digest,
                "size": i.size,
                "status": "active",
                "last_pushed": pushed,
                "last_pulled": None,
            }
            for i in images
        ],
    }


class HubWeb:
    """hub.docker.com: the tags list (two pages, ``next`` links) and namespace repositories."""

    def __init__(self, tags: list[dict[str, Any]]) -> None:
        self.tags = tags

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        page = int(request.url.params.get("page", "1"))
        base = f"https://hub.docker.com{path}"
        if path == "/v2/namespaces/library/repositories/app/tags":
            items, more = (self.tags[:2], True) if page == 1 else (self.tags[2:], False)
        elif path == "/v2/namespaces/alice/repositories":
            names = [{"name": "api", "namespace": "alice"}, {"name": "web", "namespace": "alice"}]
            items, more = (names[:1], True) if page == 1 else (names[1:], False)
        else:
            return httpx.Response(404, json={"message": "object not found"})
        return httpx.Response(
            200,
            json={
                "count": 3,
                "next": f"{base}?page={page + 1}&page_size=2" if more else None,
                "previous": None,
                "results": items,
            },
        )


def _hub(remaining: int | None = 100) -> FakeRegistry:
    amd, arm = sample_image(T1, b"a"), sample_image(T1, b"a", arch="arm64")
    items: dict[str, Any] = {
        "1.0": sample_image(T1, b"one"),
        "1.1": build_index([amd, arm]),
        "1.2": sample_image("1970-01-01T00:00:00Z", b"two"),
    }
    pushed = {"1.0": T1, "1.1": T2, "1.2": T3}
    web = HubWeb([_hub_tag(t, items[t], pushed[t]) for t in items])
    # Docker's "usage and limits": ratelimit-limit / ratelimit-remaining with ;w=window.
    headers = {"ratelimit-limit": "100;w=21600", "docker-ratelimit-source": "203.0.113.7"}
    if remaining is not None:
        headers["ratelimit-remaining"] = f"{remaining};w=21600"
    return FakeRegistry("registry-1.docker.io", "library/app", items, web=web, headers=headers)


def _manifest_gets(fake: FakeRegistry) -> int:
    return fake.counts[("GET", "manifests")]


def test_hub_tags_come_from_hubs_api_without_a_single_pull() -> None:
    fake = _hub()
    with _client(fake) as c:
        df = rk.frames.tags("docker.io/library/app", client=c)
    assert _manifest_gets(fake) == 0 and fake.counts[("HEAD", "manifests")] == 0
    assert df["tag"].tolist() == ["1.2", "1.1", "1.1", "1.0"]  # newest push first
    assert (df["date_source"] == "pushed").all()
    assert df["pushed"].iloc[0] == pd.Timestamp(T3)
    assert sorted(df[df["tag"] == "1.1"]["platform"]) == ["linux/amd64", "linux/arm64"]
    assert fake.counts[("GET", "hub.docker.com")] == 2  # both pages


def test_hub_tag_history_spends_no_pull() -> None:
    fake = _hub()
    with _client(fake) as c:
        df = rk.frames.tag_history("docker.io/library/app", client=c)
    assert _manifest_gets(fake) == 0
    assert df["tag"].tolist() == ["1.0", "1.1", "1.2"]


def test_manifest_work_on_hub_refuses_before_exceeding_the_quota() -> None:
    fake = _hub(remaining=2)
    with _client(fake) as c, pytest.raises(RateLimited) as caught:
        listing.tag_records("docker.io/library/app", manifests=True, client=c)
    assert _manifest_gets(fake) == 0
    # 1.1 is a two-architecture index: Hub counts one pull per architecture (1 + 2 + 1).
    assert "4 manifest pulls" in str(caught.value) and "2 more of 100" in str(caught.value)


def test_retention_on_hub_checks_the_quota_first() -> None:
    fake = _hub(remaining=0)
    with _client(fake) as c, pytest.raises(RateLimited):
        retention.plan_retention("docker.io/library/app", keep_last=1, client=c)
    assert _manifest_gets(fake) == 0


def test_manifest_work_on_hub_goes_ahead_within_the_quota() -> None:
    fake = _hub(remaining=None)  # no remaining header: an unlimited account
    with _client(fake) as c:
        records = listing.tag_records("docker.io/library/app", manifests=True, client=c)
    assert {r.tag for r in records} == {"1.0", "1.1", "1.2"}
    assert _manifest_gets(fake) > 0


def test_hub_namespace_catalog_through_hubs_api() -> None:
    fake = _hub()
    with _client(fake) as c:
        df = rk.frames.catalog("docker.io/alice", client=c)
        assert df["repository"].tolist() == ["alice/api", "alice/web"]
        with pytest.raises(Unsupported, match=r"docker\.io/NAMESPACE"):
            rk.frames.catalog("docker.io", client=c)
    assert fake.counts[("GET", "catalog")] == 0


# -- GCR and Artifact Registry ----------------------------------------------------------


def _google(host: str, uploaded: dict[str, Any]) -> FakeRegistry:
    """A tags list with Google's ``manifest`` map.

    go-containerregistry ``pkg/v1/google/list.go`` (``rawManifestInfo``):
    ``{digest: {"imageSizeBytes", "mediaType", "tag": [...], "timeCreatedMs",
    "timeUploadedMs"}}``; GCR sends the numbers as strings, Artifact Registry
    as int64.
    """
    images: dict[str, Image] = {t: sample_image("0001-01-01T00:00:00Z", t.encode()) for t in MS}
    manifest = {
        images[t].digest: {
            "imageSizeBytes": str(images[t].size),
            "mediaType": images[t].media_type,
            "tag": [t],
            "timeCreatedMs": "0",
            "timeUploadedMs": uploaded[t],
        }
        for t in images
    }
    return FakeRegistry(host, "proj/app", images, tag_list_extra={"manifest": manifest})


@pytest.mark.parametrize(
    ("host", "uploaded"),
    [
        ("gcr.io", {t: str(ms) for t, ms in MS.items()}),
        ("europe-docker.pkg.dev", MS),
    ],
)
def test_google_push_times_come_with_the_tags_list(host: str, uploaded: dict[str, Any]) -> None:
    fake = _google(host, uploaded)
    with _client(fake) as c:
        df = rk.frames.tags(f"{host}/proj/app", client=c)
    assert df["tag"].tolist() == ["v2", "v1"]
    assert df["created"].isna().all()  # rules_oci's 0001-01-01 is no date
    assert (df["date_source"] == "pushed").all()
    assert df["pushed"].iloc[1] == pd.Timestamp(T1)
    assert fake.counts[("GET", "tags")] == 1  # the times cost no extra request


# -- GHCR ------------------------------------------------------------------------------


class GitHubWeb:
    """api.github.com: a user with no such package (404), so the org form answers.

    GitHub REST "List packages for an organization" (``GET /orgs/{org}/packages
    ?package_type=container``) and "List package versions for a package owned by
    an organization" (``GET /orgs/{org}/packages/container/{name}/versions``):
    versions carry ``name`` (the digest), ``created_at``, ``updated_at`` and
    ``metadata.container.tags``.
    """

    def __init__(self, images: dict[str, Image], times: dict[str, str]) -> None:
        self.images, self.times = images, times

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer ghp_token":
            return httpx.Response(401, json={"message": "Requires authentication"})
        path = request.url.path
        if path == "/orgs/acme/packages":
            assert request.url.params["package_type"] == "container"
            return httpx.Response(200, json=[{"id": 1, "name": "app", "package_type": "container"}])
        if path == "/orgs/acme/packages/container/app/versions":
            versions = [
                {
                    "id": 10 + i,
                    "name": image.digest,
                    "created_at": self.times[tag],
                    "updated_at": self.times[tag],
                    "metadata": {"package_type": "container", "container": {"tags": [tag]}},
                }
                for i, (tag, image) in enumerate(self.images.items())
            ]
            return httpx.Response(200, json=versions)
        return httpx.Response(404, json={"message": "Not Found"})


def _ghcr() -> FakeRegistry:
    images = {t: sample_image("1980-01-01T00:00:01Z", t.encode()) for t in ("v1", "v2")}
    web = GitHubWeb(images, {"v1": "2024-02-01T10:00:00Z", "v2": "2024-04-01T10:00:00Z"})
    return FakeRegistry("ghcr.io", "acme/app", images, web=web)


def test_ghcr_push_times_from_package_versions() -> None:
    fake = _ghcr()
    with _client(fake, logins={"ghcr.io": ("bob", "ghp_token")}) as c:
        df = rk.frames.tags("ghcr.io/acme/app", client=c)
    assert df["tag"].tolist() == ["v2", "v1"]
    assert (df["date_source"] == "pushed").all()


def test_ghcr_without_a_token_lists_undated() -> None:
    fake = _ghcr()
    with _client(fake) as c:
        df = rk.frames.tags("ghcr.io/acme/app", client=c)
    assert df["date"].isna().all()  # buildpacks' 1980-01-01T00:00:01Z is no date
    assert fake.counts[("GET", "api.github.com")] == 0


def test_ghcr_owner_catalog_through_githubs_api() -> None:
    fake = _ghcr()
    with _client(fake, logins={"ghcr.io": ("bob", "ghp_token")}) as c:
        df = rk.frames.catalog("ghcr.io/acme", client=c)
    assert df["repository"].tolist() == ["acme/app"]
    assert fake.counts[("GET", "catalog")] == 0


# -- registries without _catalog ------------------------------------------------------


@pytest.mark.parametrize("status", [404, 401, 405])
def test_no_catalog_is_a_clear_unsupported(status: int) -> None:
    fake = FakeRegistry("harbor.example.com", "lib/app", {}, catalog_status=status)
    with _client(fake) as c, pytest.raises(Unsupported, match="Name the repositories") as caught:
        # Logged in: Harbor answers a non-administrator's _catalog with 401.
        c.add_login("harbor.example.com", "user", "secret")
        rk.frames.catalog("harbor.example.com", client=c)
    assert "harbor.example.com/NAME" in str(caught.value)


def test_a_401_catalog_without_a_login_says_log_in() -> None:
    fake = FakeRegistry("harbor.example.com", "lib/app", {}, catalog_status=401)
    with _client(fake) as c, pytest.raises(rk.AuthenticationError):
        rk.frames.catalog("harbor.example.com", client=c)


# -- Quay ------------------------------------------------------------------------------


class QuayWeb:
    """quay.io's tag history API, two pages.

    Quay API ``GET /api/v1/repository/{repository}/tag/`` (docs.quay.io, "Red
    Hat Quay API", listRepoTags): ``{"tags": [{"name", "reversion",
    "start_ts", "manifest_digest", "is_manifest_list", "size",
    "last_modified"}], "page", "has_additional"}``; ``start_ts`` is epoch seconds.
    """

    def __init__(self, images: dict[str, Image]) -> None:
        self.images = images

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/v1/repository/acme/app/tag/":
            return httpx.Response(404, json={"error_message": "Not Found"})
        assert request.url.params["onlyActiveTags"] == "true"
        page = int(request.url.params["page"])
        tag = ["v1", "v2"][page - 1]
        entry = {
            "name": tag,
            "reversion": False,
            "start_ts": MS[tag] // 1000,
            "manifest_digest": self.images[tag].digest,
            "is_manifest_list": False,
            "size": self.images[tag].size,
            "last_modified": "Thu, 01 Feb 2024 10:00:00 -0000",
        }
        return httpx.Response(
            200, json={"tags": [entry], "page": page, "has_additional": page == 1}
        )


def test_quay_push_times_from_tag_history() -> None:
    images = {t: sample_image("1970-01-01T00:00:01Z", t.encode()) for t in ("v1", "v2")}
    fake = FakeRegistry("quay.io", "acme/app", images, web=QuayWeb(images))
    with _client(fake) as c:
        df = rk.frames.tags("quay.io/acme/app", client=c)
    assert df["tag"].tolist() == ["v2", "v1"]
    assert df["pushed"].tolist() == [pd.Timestamp(T2), pd.Timestamp(T1)]
    assert fake.counts[("GET", "quay.io")] == 2
