"""human_size, rate_limit and Hub search against mock transports."""

from __future__ import annotations

import httpx
import pytest
from support.internals import RetryPolicy, human_size

import registrykit as rk
from registrykit import rate_limit
from registrykit.frames import listing


def test_human_size() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(200 * 1024 * 1024) == "200 MiB"


TOKEN = "mock-hub-token"  # a fake token the mock issues


def _hub(headers: dict[str, str], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.docker.io":
            return httpx.Response(200, json={"token": TOKEN, "expires_in": 300})
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(
                401,
                headers={
                    "www-authenticate": 'Bearer realm="https://auth.docker.io/token",'
                    'service="registry.docker.io",scope="repository:library/alpine:pull"'
                },
                json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            )
        return httpx.Response(
            200,
            headers={
                "content-type": "application/vnd.oci.image.index.v1+json",
                "docker-content-digest": "sha256:" + "a" * 64,
                **headers,
            },
        )

    return httpx.MockTransport(handler)


def test_rate_limit_reads_the_headers_of_a_head() -> None:
    seen: list[httpx.Request] = []
    transport = _hub(
        {
            "ratelimit-limit": "100;w=21600",
            "ratelimit-remaining": "76;w=21600",
            "docker-ratelimit-source": "203.0.113.7",
        },
        seen,
    )
    with rk.Client(cache_dir=None, transport=transport) as c:
        limit = rate_limit(client=c)
    assert (limit.limit, limit.remaining, limit.window) == (100, 76, 21600)
    assert limit.source == "203.0.113.7"
    assert "76 of 100" in str(limit) and "6 h" in str(limit)
    registry_calls = [r for r in seen if r.url.host == "registry-1.docker.io"]
    assert registry_calls and {r.method for r in registry_calls} == {"HEAD"}
    assert registry_calls[-1].url.path == "/v2/library/alpine/manifests/latest"
    assert TOKEN not in str(limit) and TOKEN not in repr(limit)


def test_rate_limit_without_headers_is_unlimited() -> None:
    with rk.Client(cache_dir=None, transport=_hub({}, [])) as c:
        limit = rate_limit("nginx", client=c)
    assert limit.unlimited and limit.remaining is None
    assert "no pull limit" in str(limit)


HUB_SEARCH = {
    "num_results": 2,
    "query": "nginx",
    "results": [
        {
            "name": "nginx",
            "description": "Official build of Nginx.",
            "star_count": 20000,
            "is_official": True,
            "is_automated": False,
        },
        {
            "name": "bitnami/nginx",
            "description": "Bitnami container image for NGINX",
            "star_count": 190,
            "is_official": False,
            "is_automated": True,
        },
    ],
}


def test_hub_search_uses_the_search_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=HUB_SEARCH)

    with rk.Client(cache_dir=None, transport=httpx.MockTransport(handler)) as c:
        df = listing.search("nginx", limit=10, client=c)
    assert seen[0].url.host == "index.docker.io" and seen[0].url.path == "/v1/search"
    assert seen[0].url.params["q"] == "nginx" and seen[0].url.params["n"] == "10"
    assert df["name"].tolist() == ["nginx", "bitnami/nginx"]
    assert list(df.columns) == ["registry", "name", "description", "stars", "official", "automated"]
    assert df["stars"].tolist() == [20000, 190]
    assert df["official"].tolist() == [True, False]
    assert str(df["stars"].dtype) == "Int64"


def test_hub_search_error_keeps_the_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "30"})

    no_retry = RetryPolicy(attempts=1)
    with (
        rk.Client(cache_dir=None, transport=httpx.MockTransport(handler), retry=no_retry) as c,
        pytest.raises(rk.RateLimited, match="log"),
    ):
        listing.search("nginx", client=c)
