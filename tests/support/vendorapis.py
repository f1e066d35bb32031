"""Vendor web APIs for push times, replaying each vendor's documented answers.

Each emulation is an ``httpx.MockTransport`` handler piece: ``TokenGate``
puts a registry's ``/v2/`` behind Bearer token auth (which is how Harbor and
GitLab are recognised, from their challenge), and the ``*Web`` classes serve
the vendor's API beside it, counting what they are asked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from registrykit.lab.build import Image, Index
from support.fakeregistry import FakeRegistry

REGISTRY_TOKEN = "registry-token-5f3a9c"
Answer = Callable[[httpx.Request], httpx.Response | None]


@dataclass
class TokenGate:
    """A registry whose ``/v2/`` wants a Bearer token from ``realm`` (distribution's token auth).

    The token endpoint hands out ``REGISTRY_TOKEN`` and records the scopes
    asked for; ``web`` answers everything off the registry API.
    """

    registry: FakeRegistry
    realm: str
    service: str
    scopes: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if str(url.copy_with(query=None)) == self.realm:
            self.scopes += url.params.get_list("scope")
            return httpx.Response(200, json={"token": REGISTRY_TOKEN, "expires_in": 300})
        on_api = url.host == self.registry.host and url.path.startswith("/v2/")
        if on_api and request.headers.get("authorization") != f"Bearer {REGISTRY_TOKEN}":
            challenge = f'Bearer realm="{self.realm}",service="{self.service}"'
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": challenge},
                json={"errors": [{"code": "UNAUTHORIZED"}]},
            )
        return self.registry(request)


def _items(tags: Mapping[str, Image | Index]) -> list[tuple[str, Image | Index]]:
    return list(tags.items())


# -- ACR -------------------------------------------------------------------------------


@dataclass
class AcrWeb:
    """ACR's metadata API on the registry host, behind its own scoped challenge.

    Azure Container Registry REST, "Tag - Get List"
    (https://learn.microsoft.com/en-us/rest/api/containerregistry/tag/get-list):
    ``GET /acr/v1/{name}/_tags?n=&last=`` answers ``{"registry", "imageName",
    "tags": [{"name", "digest", "createdTime", "lastUpdateTime", "signed",
    "changeableAttributes"}]}`` with a ``Link: <...>; rel="next"`` header. It
    needs a token with the ``repository:{name}:metadata_read`` scope, which
    the 401 challenge names.
    """

    host: str
    repository: str
    tags: Mapping[str, Image | Index]
    times: Mapping[str, Any]
    override: Answer | None = None
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def realm(self) -> str:
        return f"https://{self.host}/oauth2/token"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if str(url.copy_with(query=None)) == self.realm:
            scopes = url.params.get_list("scope")
            token = "acr-meta-token" if any("metadata_read" in s for s in scopes) else "acr-other"
            return httpx.Response(200, json={"access_token": token, "expires_in": 300})
        self.counts[url.path] += 1
        if url.path != f"/acr/v1/{self.repository}/_tags":
            return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})
        if request.headers.get("authorization") != "Bearer acr-meta-token":
            scope = f"repository:{self.repository}:metadata_read"
            challenge = f'Bearer realm="{self.realm}",service="{self.host}",scope="{scope}"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        if self.override is not None and (answer := self.override(request)) is not None:
            return answer
        entries = _items(self.tags)
        start = [t for t, _ in entries].index(url.params["last"]) + 1 if "last" in url.params else 0
        page = entries[start : start + 1]  # one tag a page, so paging is exercised
        headers = {}
        if start + 1 < len(entries):
            nxt = f"/acr/v1/{self.repository}/_tags?last={page[0][0]}&n=100&orderby="
            headers["Link"] = f'<{nxt}>; rel="next"'
        body = {
            "registry": self.host,
            "imageName": self.repository,
            "tags": [
                {
                    "name": tag,
                    "digest": item.digest,
                    "createdTime": "2023-01-01T00:00:00.0000000Z",
                    "lastUpdateTime": self.times[tag],
                    "signed": False,
                    "changeableAttributes": {
                        "deleteEnabled": True,
                        "writeEnabled": True,
                        "readEnabled": True,
                        "listEnabled": True,
                    },
                }
                for tag, item in page
            ],
        }
        return httpx.Response(200, headers=headers, json=body)


# -- Harbor ----------------------------------------------------------------------------


@dataclass
class HarborWeb:
    """Harbor's artifacts API.

    Harbor API v2.0 (https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml,
    ``listArtifacts``): ``GET /api/v2.0/projects/{project_name}/repositories/
    {repository_name}/artifacts?with_tag=true&page_size=&page=``, where a
    repository name with a slash is URL-encoded twice (``a/b`` -> ``a%252Fb``);
    a JSON array of artifacts ``{"digest", "media_type", "push_time", "size",
    "tags": [{"name", "push_time", "pull_time", "immutable"}]}`` (``X-Total-Count``
    and ``Link`` headers). Public projects answer anonymously; Basic auth
    otherwise.
    """

    project: str
    name: str
    tags: Mapping[str, Image | Index]
    times: Mapping[str, Any]
    private: bool = False
    credentials: str | None = None  # the expected Authorization value when private
    override: Answer | None = None
    counts: Counter[str] = field(default_factory=Counter)
    authorizations: list[str | None] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path.decode().partition("?")[0]
        self.counts[raw] += 1
        self.authorizations.append(request.headers.get("authorization"))
        twice = quote(quote(self.name, safe=""), safe="")
        if raw != f"/api/v2.0/projects/{self.project}/repositories/{twice}/artifacts":
            return httpx.Response(404, json={"errors": [{"code": "NOT_FOUND"}]})
        if self.private and request.headers.get("authorization") != self.credentials:
            return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
        if self.override is not None and (answer := self.override(request)) is not None:
            return answer
        assert request.url.params["with_tag"] == "true"
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        artifacts = [
            {
                "id": i,
                "type": "IMAGE",
                "digest": item.digest,
                "media_type": item.media_type,
                "manifest_media_type": item.media_type,
                "push_time": "2023-01-01T00:00:00.000Z",
                "size": 1234,
                "tags": [
                    {
                        "id": 100 + i,
                        "name": tag,
                        "push_time": self.times[tag],
                        "pull_time": "0001-01-01T00:00:00.000Z",
                        "immutable": False,
                    }
                ],
            }
            for i, (tag, item) in enumerate(_items(self.tags))
        ]
        body = artifacts[(page - 1) * size : page * size]
        return httpx.Response(200, headers={"X-Total-Count": str(len(artifacts))}, json=body)


# -- GitLab ----------------------------------------------------------------------------


@dataclass
class GitLabWeb:
    """GitLab's container registry API.

    GitLab REST "Container registry API" (https://docs.gitlab.com/ee/api/container_registry.html):
    ``GET /api/v4/projects/:id/registry/repositories?tags=true`` (``:id`` the
    URL-encoded project path) answers ``[{"id", "name", "path", "project_id",
    "location", "created_at", "tags": [{"name", "path", "location"}]}]``;
    ``GET /api/v4/projects/:id/registry/repositories/:repository_id/tags/:tag_name``
    answers ``{"name", "path", "location", "revision", "short_revision",
    "digest", "created_at", "total_size"}``. Private projects need a
    ``PRIVATE-TOKEN`` (or a CI ``JOB-TOKEN``).
    """

    project: str
    repository: str
    tags: Mapping[str, Image | Index]
    times: Mapping[str, Any]
    token: str | None = None  # the PRIVATE-TOKEN a private project wants
    override: Answer | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().partition("?")[0]
        self.counts[path] += 1
        if self.token is not None and request.headers.get("private-token") != self.token:
            return httpx.Response(404, json={"message": "404 Project Not Found"})
        if self.override is not None and (answer := self.override(request)) is not None:
            return answer
        base = f"/api/v4/projects/{quote(self.project, safe='')}/registry/repositories"
        if path == base:
            assert request.url.params["tags"] == "true"
            return httpx.Response(200, json=[self._repository()])
        prefix = f"{base}/7/tags/"
        if path.startswith(prefix) and path[len(prefix) :] in self.tags:
            tag = path[len(prefix) :]
            detail = {
                "name": tag,
                "path": f"{self.repository}:{tag}",
                "location": f"registry.example.com/{self.repository}:{tag}",
                "revision": "a" * 64,
                "short_revision": "a" * 9,
                "digest": self.tags[tag].digest,
                "created_at": self.times[tag],
                "total_size": 1234,
            }
            return httpx.Response(200, json=detail)
        return httpx.Response(404, json={"message": "404 Not found"})

    def _repository(self) -> dict[str, Any]:
        return {
            "id": 7,
            "name": self.repository.rpartition("/")[2],
            "path": self.repository,
            "project_id": 42,
            "location": f"registry.example.com/{self.repository}",
            "created_at": "2023-01-01T00:00:00.000Z",
            "tags": [
                {"name": t, "path": f"{self.repository}:{t}", "location": "..."} for t in self.tags
            ],
        }


def big_json_array(size: int) -> httpx.Response:
    """A JSON answer of ``size`` bytes: more than any page may be."""
    return httpx.Response(200, content=json.dumps(["x" * size]).encode())
