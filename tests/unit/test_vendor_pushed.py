"""``pushed`` from every vendor's API (issue 12 §1-2), against emulations of the documented APIs.

ACR, Harbor, GitLab and ECR date tags through their own APIs; Docker Hub
counts pulls per architecture and lists private repositories with a Hub API
token. Every vendor answer is hostile: refused, oversized, not JSON, with
bad times or links that leave the host, the listing goes on undated and no
secret reaches a message or a log.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from support.fakeregistry import FakeRegistry, sample_image
from support.internals import clouddates, listing
from support.vendorapis import (
    REGISTRY_TOKEN,
    AcrWeb,
    GitLabWeb,
    HarborWeb,
    TokenGate,
    big_json_array,
)

import registrykit as rk
from registrykit import RateLimited
from registrykit.lab.build import Image, build_index

T1, T2 = "2024-02-01T10:00:00Z", "2024-04-01T10:00:00Z"
TIMES = {"v1": T1, "v2": T2}
PASSWORD = "s3cret-registry-password"
GL_TOKEN = "glpat-abcdef123456"
HUB_PASSWORD = "dckr_pat_hub-secret-789"
HUB_TOKEN = "hub-access-token-456"
SECRETS = (PASSWORD, GL_TOKEN, HUB_PASSWORD, HUB_TOKEN, REGISTRY_TOKEN, "acr-meta-token")


def _images() -> dict[str, Image]:
    # Buildpacks' fixed 1980 date: only the vendor's push time can date these.
    return {t: sample_image("1980-01-01T00:00:01Z", t.encode()) for t in TIMES}


@pytest.fixture
def caplog_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="registrykit")
    yield caplog
    for secret in SECRETS:
        assert secret not in caplog.text


def _tags(handler: Callable[[httpx.Request], httpx.Response], ref: str, **kw: Any) -> pd.DataFrame:
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(handler), **kw) as c:
        return rk.frames.tags(ref, client=c)


def _dated(df: pd.DataFrame) -> None:
    assert df["tag"].tolist() == ["v2", "v1"]
    assert (df["date_source"] == "pushed").all()
    assert df["pushed"].tolist() == [pd.Timestamp(T2), pd.Timestamp(T1)]


def _undated(df: pd.DataFrame) -> None:
    assert sorted(df["tag"]) == ["v1", "v2"]
    assert df["pushed"].isna().all() and df["date"].isna().all()


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# -- ACR -------------------------------------------------------------------------------

ACR = "acme.azurecr.io"


def _acr(times: dict[str, Any] = TIMES, override: Any = None) -> tuple[FakeRegistry, AcrWeb]:
    images = _images()
    web = AcrWeb(ACR, "team/app", images, times, override=override)
    return FakeRegistry(ACR, "team/app", images, web=web), web


def test_acr_dates_from_its_metadata_api(caplog_debug: pytest.LogCaptureFixture) -> None:
    fake, web = _acr()
    _dated(_tags(fake, f"{ACR}/team/app", logins={ACR: ("bob", PASSWORD)}))
    assert web.counts["/acr/v1/team/app/_tags"] == 3  # a 401 challenge, then two pages
    assert fake.counts[("GET", "tags")] == 1


def test_acr_refused_lists_undated(caplog_debug: pytest.LogCaptureFixture) -> None:
    fake, _ = _acr(override=lambda r: httpx.Response(403, json={"errors": [{"code": "DENIED"}]}))
    _undated(_tags(fake, f"{ACR}/team/app", logins={ACR: ("bob", PASSWORD)}))
    assert not [r for r in caplog_debug.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: big_json_array(5 * 1024 * 1024),
        lambda r: httpx.Response(200, content=b"<html>oops</html>"),
        lambda r: httpx.Response(200, json={"tags": "v1"}),
        lambda r: httpx.Response(
            200, json={"tags": []}, headers={"Link": '<https://evil.example/x>; rel="next"'}
        ),
    ],
    ids=["oversized", "not-json", "wrong-type", "foreign-link"],
)
def test_acr_hostile_answers_list_undated_with_a_warning(
    answer: Any, caplog_debug: pytest.LogCaptureFixture
) -> None:
    fake, _ = _acr(override=answer)
    _undated(_tags(fake, f"{ACR}/team/app", logins={ACR: ("bob", PASSWORD)}))
    assert any("unreadable" in r.getMessage() for r in caplog_debug.records)


def test_bad_times_leave_a_tag_undated(caplog_debug: pytest.LogCaptureFixture) -> None:
    fake, _ = _acr(times={"v1": "9999-01-01T00:00:00Z", "v2": "yesterday"})
    _undated(_tags(fake, f"{ACR}/team/app", logins={ACR: ("bob", PASSWORD)}))


# -- Harbor ----------------------------------------------------------------------------

HARBOR = "harbor.example.com"


def _harbor(**kw: Any) -> tuple[TokenGate, HarborWeb]:
    images = _images()
    web = HarborWeb("lib", "team/app", images, TIMES, **kw)
    fake = FakeRegistry(HARBOR, "lib/team/app", images, web=web)
    gate = TokenGate(fake, f"https://{HARBOR}/service/token", "harbor-registry")
    return gate, web


def test_harbor_known_by_its_challenge_dates_from_artifacts(
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    gate, web = _harbor()
    _dated(_tags(gate, f"{HARBOR}/lib/team/app"))
    # One artifacts page, the name encoded twice; no probe besides it.
    assert dict(web.counts) == {"/api/v2.0/projects/lib/repositories/team%252Fapp/artifacts": 1}
    assert web.authorizations == [None]  # anonymous: no login


def test_harbor_private_project_with_the_registry_login() -> None:
    basic = "Basic " + base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    gate, _ = _harbor(private=True, credentials=basic)
    _dated(_tags(gate, f"{HARBOR}/lib/team/app", logins={HARBOR: ("bob", PASSWORD)}))


def test_harbor_private_project_without_login_lists_undated(
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    gate, _ = _harbor(private=True, credentials="Basic x")
    _undated(_tags(gate, f"{HARBOR}/lib/team/app"))


def test_harbor_not_json_lists_undated(caplog_debug: pytest.LogCaptureFixture) -> None:
    gate, _ = _harbor(override=lambda r: httpx.Response(200, content=b"{not json"))
    _undated(_tags(gate, f"{HARBOR}/lib/team/app"))
    assert any("not valid JSON" in r.getMessage() for r in caplog_debug.records)


def test_a_plain_registry_with_token_auth_is_not_mistaken_for_harbor() -> None:
    images = _images()
    fake = FakeRegistry("reg.example.com", "team/app", images)  # no web API at all
    gate = TokenGate(fake, "https://auth.example.com/token", "registry.docker.io")
    _undated(_tags(gate, "reg.example.com/team/app"))


# -- GitLab ----------------------------------------------------------------------------

GITLAB_REG = "registry.example.com"


def _gitlab(token: str | None = None, **kw: Any) -> tuple[TokenGate, GitLabWeb]:
    images = _images()
    web = GitLabWeb("group/project", "group/project/app", images, TIMES, token=token, **kw)
    fake = FakeRegistry(GITLAB_REG, "group/project/app", images, web=web)
    gate = TokenGate(fake, "https://gitlab.example.com/jwt/auth", "container_registry")
    return gate, web


def test_gitlab_dates_from_its_registry_api(caplog_debug: pytest.LogCaptureFixture) -> None:
    gate, web = _gitlab(token=GL_TOKEN)
    _dated(_tags(gate, f"{GITLAB_REG}/group/project/app", logins={GITLAB_REG: ("bob", GL_TOKEN)}))
    base = "/api/v4/projects/group%2Fproject/registry/repositories"
    assert web.counts == {
        "/api/v4/projects/group%2Fproject%2Fapp/registry/repositories": 1,  # not a project
        base: 1,
        f"{base}/7/tags/v1": 1,
        f"{base}/7/tags/v2": 1,
    }


def test_gitlab_private_project_without_a_token_lists_undated(
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    gate, _ = _gitlab(token=GL_TOKEN)
    _undated(_tags(gate, f"{GITLAB_REG}/group/project/app"))


def test_gitlab_bad_repository_id_lists_undated(caplog_debug: pytest.LogCaptureFixture) -> None:
    def bad_id(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/v4/projects/group/project/registry/repositories":
            return httpx.Response(200, json=[{"id": "../../x", "path": "group/project/app"}])
        return None

    gate, _ = _gitlab(override=bad_id)
    _undated(_tags(gate, f"{GITLAB_REG}/group/project/app"))


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        (f"https://{GITLAB_REG}/api/v4", True),  # the registry's own host
        ("https://gitlab.example.com/api/v4", True),  # the host its challenge named
        (f"http://{GITLAB_REG}/api/v4", False),  # plain http to a remote host
        ("https://elsewhere.example/api/v4", False),  # any other host
    ],
)
def test_api_tokens_go_only_where_the_registry_sends_them(url: str, sent: bool) -> None:
    gate, _ = _gitlab()
    with rk.Client(
        cache_dir=None, transport=httpx.MockTransport(gate), logins={GITLAB_REG: ("bob", GL_TOKEN)}
    ) as c:
        registry = c.registry(GITLAB_REG)
        registry.tags("group/project/app")  # the challenge is seen here, at no extra cost
        headers = clouddates.login_headers(c, registry, url, lambda login: {"X": login.secret})
    assert headers == ({"X": GL_TOKEN} if sent else {})


# -- ECR (the AWS CLI replaced by a function: unit tests start no process) --------------

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def _describe_pages(calls: list[list[str]], pages: list[dict[str, Any]]) -> Callable[..., str]:
    """``aws ecr describe-images`` answers as the CLI prints them.

    AWS CLI reference, ``aws ecr describe-images``
    (https://docs.aws.amazon.com/cli/latest/reference/ecr/describe-images.html):
    ``{"imageDetails": [{"registryId", "repositoryName", "imageDigest",
    "imageTags", "imageSizeInBytes", "imagePushedAt", ...}], "NextToken"}``
    with ``--max-items``; ``--starting-token`` continues.
    """

    def run(argv: list[str], timeout: float) -> str:
        calls.append(argv)
        return json.dumps(pages[len(calls) - 1])

    return run


def _ecr_detail(tag: str, image: Image, pushed: Any) -> dict[str, Any]:
    return {
        "registryId": "123456789012",
        "repositoryName": "team/app",
        "imageDigest": image.digest,
        "imageTags": [tag],
        "imageSizeInBytes": image.size,
        "imagePushedAt": pushed,
        "imageManifestMediaType": image.media_type,
    }


def test_ecr_dates_from_describe_images(monkeypatch: pytest.MonkeyPatch) -> None:
    images = _images()
    calls: list[list[str]] = []
    pages = [
        {"imageDetails": [_ecr_detail("v1", images["v1"], 1706781600.0)], "NextToken": "tok2"},
        {"imageDetails": [_ecr_detail("v2", images["v2"], "2024-04-01T10:00:00+00:00")]},
    ]
    monkeypatch.setattr(clouddates, "_run_cli", _describe_pages(calls, pages))
    _dated(_tags(FakeRegistry(ECR, "team/app", images), f"{ECR}/team/app"))
    assert calls[0][:3] == ["aws", "ecr", "describe-images"]
    for flag, value in [
        ("--repository-name", "team/app"),
        ("--registry-id", "123456789012"),
        ("--region", "eu-west-1"),
    ]:
        assert calls[0][calls[0].index(flag) + 1] == value
    assert "--starting-token" not in calls[0]
    assert calls[1][calls[1].index("--starting-token") + 1] == "tok2"


def test_ecr_without_the_cli_lists_undated(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(argv: list[str], timeout: float) -> str:
        raise rk.AuthenticationError("the AWS CLI (aws) is not on PATH")

    monkeypatch.setattr(clouddates, "_run_cli", missing)
    _undated(_tags(FakeRegistry(ECR, "team/app", _images()), f"{ECR}/team/app"))


def test_ecr_option_like_next_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog_debug: pytest.LogCaptureFixture
) -> None:
    calls: list[list[str]] = []
    pages = [{"imageDetails": [], "NextToken": "--endpoint-url=https://evil.example"}]
    monkeypatch.setattr(clouddates, "_run_cli", _describe_pages(calls, pages))
    _undated(_tags(FakeRegistry(ECR, "team/app", _images()), f"{ECR}/team/app"))
    assert len(calls) == 1


# -- Docker Hub: pulls per architecture, private repositories ---------------------------


class PrivateHub:
    """hub.docker.com for a private repository: nothing without a Hub API token.

    Docker Hub API reference (https://docs.docker.com/reference/api/hub/latest/):
    "Create an authentication token", ``POST /v2/auth/token`` with
    ``{"identifier", "secret"}`` -> ``{"access_token"}`` used as ``Bearer``;
    "List repository tags", ``GET /v2/namespaces/{ns}/repositories/{repo}/tags``
    -> ``{"count", "next", "previous", "results": [tag objects with images[]]}``.
    """

    def __init__(self, tags: dict[str, Any]) -> None:
        self.tags = tags
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v2/auth/token":
            body = json.loads(request.read())
            if body != {"identifier": "alice", "secret": HUB_PASSWORD}:
                return httpx.Response(401, json={"detail": "Incorrect authentication credentials"})
            return httpx.Response(200, json={"access_token": HUB_TOKEN})
        if request.headers.get("authorization") != f"Bearer {HUB_TOKEN}":
            return httpx.Response(404, json={"message": "object not found"})
        if request.url.path == "/v2/namespaces/alice/repositories/private/tags":
            return httpx.Response(200, json={"count": 2, "next": None, "results": self.tags})
        if request.url.path == "/v2/namespaces/alice/repositories":
            repos = [{"name": "private", "namespace": "alice", "is_private": True}]
            return httpx.Response(200, json={"count": 1, "next": None, "results": repos})
        return httpx.Response(404, json={"message": "object not found"})


def _hub_tag(name: str, item: Image, pushed: str, arches: tuple[str, ...] = ("amd64",)) -> Any:
    return {
        "name": name,
        "digest": item.digest,
        "media_type": item.media_type,
        "tag_last_pushed": pushed,
        "images": [
            {"architecture": a, "os": "linux", "digest": item.digest, "size": item.size}
            for a in arches
        ],
    }


def _private_hub(remaining: int = 100) -> tuple[FakeRegistry, PrivateHub]:
    images = _images()
    amd, arm = sample_image(T1, b"a"), sample_image(T1, b"a", arch="arm64")
    index = build_index([amd, arm])
    tags = [
        _hub_tag("v1", images["v1"], T1),
        {**_hub_tag("v2", images["v2"], T2, ("amd64", "arm64", "s390x")), "digest": index.digest},
    ]
    web = PrivateHub(tags)
    headers = {"ratelimit-limit": "200;w=21600", "ratelimit-remaining": f"{remaining};w=21600"}
    fake = FakeRegistry(
        "registry-1.docker.io",
        "alice/private",
        {"v1": images["v1"], "v2": index},
        web=web,
        headers=headers,
    )
    return fake, web


def test_private_hub_repository_lists_with_a_hub_token(
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    fake, web = _private_hub()
    df = _tags(fake, "docker.io/alice/private", logins={"docker.io": ("alice", HUB_PASSWORD)})
    assert df["tag"].tolist() == ["v2", "v2", "v2", "v1"]
    assert (df["date_source"] == "pushed").all()
    assert fake.counts[("GET", "manifests")] == 0
    assert [r.url.path for r in web.requests] == [
        "/v2/auth/token",
        "/v2/namespaces/alice/repositories/private/tags",
    ]


def test_private_hub_repository_without_login_is_not_found() -> None:
    fake, _ = _private_hub()
    with pytest.raises(rk.NotFound):
        _tags(fake, "docker.io/alice/private")


def test_a_refused_hub_login_is_secret_free(caplog_debug: pytest.LogCaptureFixture) -> None:
    fake, _ = _private_hub()
    with pytest.raises(rk.NotFound) as caught:
        _tags(fake, "docker.io/alice/private", logins={"docker.io": ("alice", "wrong-pw-123")})
    assert any("Docker Hub refused the login" in r.getMessage() for r in caplog_debug.records)
    _no_secret(str(caught.value))


@pytest.mark.parametrize(("remaining", "refused"), [(3, True), (4, False)])
def test_hub_quota_counts_one_pull_per_architecture(remaining: int, refused: bool) -> None:
    fake, _ = _private_hub(remaining)
    with rk.Client(
        cache_dir=None,
        transport=httpx.MockTransport(fake),
        logins={"docker.io": ("alice", HUB_PASSWORD)},
    ) as c:
        if refused:
            with pytest.raises(RateLimited, match=r"about 4 manifest pulls.*allows 3 more of 200"):
                listing.tag_records("docker.io/alice/private", manifests=True, client=c)
            assert fake.counts[("GET", "manifests")] == 0
        else:
            records = listing.tag_records("docker.io/alice/private", manifests=True, client=c)
            assert {r.tag for r in records} == {"v1", "v2"}
            assert {r.pushed for r in records} == {pd.Timestamp(T1), pd.Timestamp(T2)}


def test_private_hub_namespace_catalog_with_a_hub_token() -> None:
    fake, _ = _private_hub()
    with rk.Client(
        cache_dir=None,
        transport=httpx.MockTransport(fake),
        logins={"docker.io": ("alice", HUB_PASSWORD)},
    ) as c:
        df = rk.frames.catalog("docker.io/alice", client=c)
    assert df["repository"].tolist() == ["alice/private"]


def test_hub_entries_with_bad_digests_or_sizes_are_left_out() -> None:
    fake, web = _private_hub()
    good = web.tags[0]
    web.tags = [
        good,
        {**good, "name": "bad-digest", "images": [{**good["images"][0], "digest": "sha256:../x"}]},
        {**good, "name": "bad-size", "images": [{**good["images"][0], "size": -1}]},
        {**good, "name": "../escape"},
    ]
    df = _tags(fake, "docker.io/alice/private", logins={"docker.io": ("alice", HUB_PASSWORD)})
    assert df["tag"].tolist() == ["v1"]


def test_an_oversized_hub_page_is_refused() -> None:
    fake, web = _private_hub()
    web.tags = [{"name": "x" * 100, "pad": "y" * (5 * 1024 * 1024)}]
    with pytest.raises(rk.Unsupported, match="over 4 MiB"):
        _tags(fake, "docker.io/alice/private", logins={"docker.io": ("alice", HUB_PASSWORD)})


def test_a_hub_token_is_reused_across_listings_of_one_client() -> None:
    fake, web = _private_hub()
    logins = {"docker.io": ("alice", HUB_PASSWORD)}
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake), logins=logins) as c:
        for _ in range(3):
            rk.frames.tags("docker.io/alice/private", client=c)
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake), logins=logins) as other:
        rk.frames.tags("docker.io/alice/private", client=other)  # its own token
    posts = [r for r in web.requests if r.url.path == "/v2/auth/token"]
    assert len(posts) == 2


def test_a_hub_api_refusal_leaves_the_registry_listing_undated() -> None:
    # No Hub API token (no login): Hub's web API hides the private repository, but a
    # listing that reads manifests goes on through the registry API, undated.
    fake, web = _private_hub()
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake)) as c:
        records = listing.tag_records("docker.io/alice/private", manifests=True, client=c)
    assert sorted({r.tag for r in records}) == ["v1", "v2"]
    assert all(r.pushed is None for r in records)
    assert any(r.url.path.endswith("/tags") for r in web.requests)  # Hub's API was asked


def test_hub_platform_names_are_checked_before_they_become_a_column() -> None:
    from support.internals import webapis

    assert webapis.hub_platform({"os": "linux", "architecture": "arm64", "variant": "v8"}) == (
        "linux/arm64/v8"
    )
    for hostile in ("amd64\x1b[2J", "../x", "a" * 65, "arm 64"):
        assert webapis.hub_platform({"os": "linux", "architecture": hostile}) == "unknown/unknown"
