"""Untag-only the registry's own way (issue 12 §3), each method against an emulation.

* OCI distribution spec 1.1, "Deleting tags": ``DELETE /v2/<name>/manifests/<tag>``
  answers 202 and removes the tag only; a registry without it answers 400 or
  405 (https://github.com/opencontainers/distribution-spec/blob/main/spec.md
  #deleting-tags). CNCF distribution 2.x answers 400 ``DIGEST_INVALID``
  (distribution#3174), which the local registry of the integration tests shows.
* GitLab: ``GET /api/v4/projects/:id/registry/repositories`` lists image
  repositories (``id``, ``path``); ``DELETE .../repositories/:repository_id/
  tags/:tag_name`` removes one tag (200); ``DELETE .../tags`` with
  ``name_regex_delete`` (``keep_n``, ``older_than``) removes many in the
  background (202) and never ``latest``
  (https://docs.gitlab.com/ee/api/container_registry.html).
* ECR: ``aws ecr batch-delete-image --image-ids imageDigest=D,imageTag=T``
  answers ``{"imageIds": [...], "failures": [{"imageId", "failureCode",
  "failureReason"}]}`` (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/
  API_BatchDeleteImage.html); the runner is replaced, so no process starts.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support.fakeregistry import sample_image
from support.internals import untag as untag_module

import registrykit as rk
from registrykit import delete
from registrykit.frames.plans import retention_plan

TOKEN = "glpat-secret-untag-123"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
V1 = sample_image("2024-01-10T08:00:00Z", b"v1")
V2 = sample_image("2024-03-05T08:00:00Z", b"v2")
V3 = sample_image("2024-05-01T08:00:00Z", b"v3")
EMPTY_CONFIG = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


@dataclass
class Registry:
    """A registry API whose tag DELETE behaves as ``mode`` says.

    ``distribution2``: 400 DIGEST_INVALID (no tag delete); ``oci``: the spec's
    tag delete; ``greedy``: a non-conforming registry that deletes the manifest
    (and so every tag) when asked to delete a tag; ``disabled``: every DELETE
    answers 405 UNSUPPORTED (distribution with deletes off).
    """

    mode: str
    tags: dict[str, str] = field(default_factory=dict)
    repository: str = "team/app"
    web: Any = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.objects: dict[str, tuple[str, bytes]] = {EMPTY_CONFIG: ("", b"{}")}
        for image in (V1, V2, V3):
            self.objects[image.digest] = (image.media_type, image.manifest.data)
            for blob in image.blobs():
                self.objects[blob.digest] = ("application/octet-stream", blob.data)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not request.url.path.startswith("/v2/"):
            return self.web(request)
        path = request.url.path
        if path == "/v2/":
            return httpx.Response(200, json={})
        kind, _, ref = path.removeprefix(f"/v2/{self.repository}/").partition("/")
        if kind == "tags":
            return httpx.Response(200, json={"name": self.repository, "tags": sorted(self.tags)})
        if kind == "manifests":
            return self._manifest(request, ref)
        if kind == "blobs" and ref in self.objects:
            data = self.objects[ref][1]
            headers = {"Content-Length": str(len(data))}
            return httpx.Response(
                200, headers=headers, content=b"" if request.method == "HEAD" else data
            )
        return httpx.Response(404, json={"errors": [{"code": "BLOB_UNKNOWN"}]})

    def _manifest(self, request: httpx.Request, ref: str) -> httpx.Response:
        method = request.method
        if method == "PUT":
            digest = "sha256:" + hashlib.sha256(request.content).hexdigest()
            self.objects[digest] = (request.headers["content-type"], request.content)
            self.tags[ref] = digest
            return httpx.Response(201, headers={"Docker-Content-Digest": digest})
        if method == "DELETE":
            return self._delete(ref)
        digest = self.tags.get(ref, ref)
        if digest not in self.objects:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        media_type, data = self.objects[digest]
        headers = {"Docker-Content-Digest": digest, "Content-Type": media_type}
        headers["Content-Length"] = str(len(data))
        return httpx.Response(200, headers=headers, content=b"" if method == "HEAD" else data)

    def _delete(self, ref: str) -> httpx.Response:
        unknown = httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        if self.mode == "disabled":  # storage.delete.enabled: false
            return httpx.Response(405, json={"errors": [{"code": "UNSUPPORTED"}]})
        if ref.startswith("sha256:"):
            if ref not in self.objects:
                return unknown
            del self.objects[ref]
            self.tags = {t: d for t, d in self.tags.items() if d != ref}
            return httpx.Response(202)
        if self.mode == "distribution2":
            return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID"}]})
        if ref not in self.tags:
            return unknown
        if self.mode == "greedy":
            return self._delete(self.tags[ref])
        del self.tags[ref]
        return httpx.Response(202)

    def deletes(self) -> list[str]:
        return [r.url.path.rsplit("/", 1)[1] for r in self.requests if r.method == "DELETE"]


@pytest.fixture(autouse=True)
def forget_probes() -> Iterator[None]:
    untag_module._probed.clear()
    yield
    untag_module._probed.clear()


def _client(fake: Registry, logins: dict[str, tuple[str, str]] | None = None) -> rk.Client:
    return rk.Client(cache_dir=None, transport=httpx.MockTransport(fake), logins=logins or {})


def test_distribution_2_has_no_tag_delete_so_the_throwaway_goes() -> None:
    fake = Registry("distribution2", {"v1": V1.digest, "latest": V1.digest})
    with _client(fake) as c:
        preview = delete(
            "registry.example.com/team/app:latest", dry_run=True, untag_only=True, client=c
        )
        assert preview.method == "tag delete, else manifest delete"
        assert fake.deletes() == []  # a dry run probes nothing
        result = delete("registry.example.com/team/app:latest", untag_only=True, client=c)
    assert result.method == "manifest delete" and "garbage collection" in str(result)
    assert fake.tags == {"v1": V1.digest} and V1.digest in fake.objects
    tag_probe, digest_probe, throwaway = fake.deletes()
    assert tag_probe.startswith("registrykit-probe-") and digest_probe not in fake.objects
    assert throwaway.startswith("sha256:") and throwaway != V1.digest


def test_a_registry_that_deletes_nothing_is_refused_before_anything_is_written() -> None:
    fake = Registry("disabled", {"v1": V1.digest, "latest": V1.digest})
    with _client(fake) as c, pytest.raises(rk.Unsupported, match=r"storage\.delete\.enabled"):
        delete("registry.example.com/team/app:latest", untag_only=True, client=c)
    assert fake.tags == {"v1": V1.digest, "latest": V1.digest}
    assert not any(r.method == "PUT" for r in fake.requests)  # latest is not on a throwaway
    assert untag_module._probed["registry.example.com"] == "not supported"


def test_tags_from_a_hostile_registry_never_reach_a_web_api_or_the_aws_cli() -> None:
    with rk.Client(cache_dir=None) as c, pytest.raises(rk.InvalidReference):
        untag_module.remove_tags(c, rk.parse_reference(f"{ECR}/team/app"), {"a,b": V1.digest})


def test_a_registry_with_the_oci_tag_delete_removes_just_the_tag() -> None:
    fake = Registry("oci", {"v1": V1.digest, "latest": V1.digest, "old": V2.digest})
    with _client(fake) as c:
        first = delete("registry.example.com/team/app:latest", untag_only=True, client=c)
        second = delete("registry.example.com/team/app:old", untag_only=True, client=c)
    assert first.method == second.method == "tag delete"
    assert fake.tags == {"v1": V1.digest}
    assert V2.digest in fake.objects  # untagged, not deleted: garbage collection's job
    assert not any(r.method == "PUT" for r in fake.requests)  # no throwaway written
    assert [d for d in fake.deletes() if d.startswith("registrykit-probe-")].__len__() == 1


def test_a_registry_that_deletes_the_manifest_for_a_tag_gets_its_siblings_back() -> None:
    fake = Registry("greedy", {"v1": V1.digest, "latest": V1.digest, "stable": V1.digest})
    with _client(fake) as c:
        delete("registry.example.com/team/app:latest", untag_only=True, client=c)
        assert fake.tags == {"v1": V1.digest, "stable": V1.digest}
        assert untag_module._probed["registry.example.com"] == "manifest delete"
        again = delete("registry.example.com/team/app:stable", untag_only=True, client=c)
    assert again.method == "manifest delete" and fake.tags == {"v1": V1.digest}


# -- GitLab ------------------------------------------------------------------------------


@dataclass
class GitLab:
    """GitLab's container registry API beside ``registry``'s /v2/ (see the module doc)."""

    registry: Registry
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "gitlab.example.com"
        if request.headers.get("private-token") != TOKEN:
            return httpx.Response(401, json={"message": "401 Unauthorized"})
        path = request.url.raw_path.decode().split("?")[0]
        self.calls.append((request.method, path, dict(request.url.params)))
        if path == "/api/v4/projects/group%2Fproject/registry/repositories":
            if request.url.params.get("page", "1") != "1":
                return httpx.Response(200, json=[])
            body = [{"id": 7, "name": "app", "path": "group/project/app", "project_id": 3}]
            return httpx.Response(200, json=body)
        if path.startswith("/api/v4/projects/group%2Fproject%2Fapp/"):
            return httpx.Response(404, json={"message": "404 Project Not Found"})
        base = "/api/v4/projects/group%2Fproject/registry/repositories/7/tags"
        if request.method == "DELETE" and path == base:
            pattern = re.compile(request.url.params["name_regex_delete"])
            for tag in [t for t in self.registry.tags if pattern.fullmatch(t) and t != "latest"]:
                del self.registry.tags[tag]
            return httpx.Response(202)
        if request.method == "DELETE" and path.startswith(base + "/"):
            self.registry.tags.pop(path.rsplit("/", 1)[1])
            return httpx.Response(200)
        return httpx.Response(404, json={"message": "404 Not Found"})


@pytest.fixture
def gitlab() -> GitLab:
    tags = {"v1": V1.digest, "v2": V2.digest, "v2.0": V2.digest, "latest": V3.digest}
    fake = Registry("oci", tags, repository="group/project/app")
    fake.web = GitLab(fake)
    return fake.web


GITLAB_REPO = "registry.gitlab.example.com/group/project/app"
GITLAB_LOGIN = {"registry.gitlab.example.com": ("alice", TOKEN)}


def test_gitlab_untags_through_its_tag_api(gitlab: GitLab) -> None:
    with _client(gitlab.registry, GITLAB_LOGIN) as c:
        result = delete(f"{GITLAB_REPO}:v2.0", untag_only=True, client=c)
    assert result.method == "gitlab tag api"
    assert gitlab.registry.tags == {"v1": V1.digest, "v2": V2.digest, "latest": V3.digest}
    assert TOKEN not in str(result) and TOKEN not in repr(result)


def test_a_gitlab_retention_plan_runs_as_one_bulk_delete(gitlab: GitLab) -> None:
    with _client(gitlab.registry, GITLAB_LOGIN) as c:
        plan = retention_plan(GITLAB_REPO, keep_last=1, client=c)
        rows = plan.set_index("tag")
        assert rows.loc["latest", "action"] == "keep" and pd_isna(rows.loc["latest", "method"])
        assert set(rows.loc[["v1", "v2", "v2.0"], "method"]) == {"gitlab bulk delete"}
        result = rk.apply(plan, client=c)
    bulk = [(p, q) for m, p, q in gitlab.calls if m == "DELETE"]
    assert bulk == [
        (
            "/api/v4/projects/group%2Fproject/registry/repositories/7/tags",
            {"name_regex_delete": r"^(?:v1|v2|v2\.0)$"},
        )
    ]
    assert gitlab.registry.tags == {"latest": V3.digest}
    assert {r.method for r in result.deleted} == {"gitlab bulk delete"}  # type: ignore[union-attr]
    assert sorted(result.tags) == ["v1", "v2", "v2.0"]


def test_gitlab_never_bulk_deletes_latest_so_it_goes_by_the_tag_api(gitlab: GitLab) -> None:
    with _client(gitlab.registry, GITLAB_LOGIN) as c:
        plan = retention_plan(GITLAB_REPO, keep=["v1"], older_than="1d", client=c)
        methods = dict(zip(plan["tag"], plan["method"].astype(object), strict=True))
        assert methods["latest"] == "gitlab tag api" and methods["v2"] == "gitlab bulk delete"
        rk.apply(plan, client=c)
    assert gitlab.registry.tags == {"v1": V1.digest}


def test_gitlab_without_a_login_says_to_log_in(gitlab: GitLab) -> None:
    with _client(gitlab.registry) as c, pytest.raises(rk.AuthenticationError, match="Log in"):
        delete(f"{GITLAB_REPO}:v2.0", untag_only=True, client=c)


def pd_isna(value: object) -> bool:
    return value is None or value != value


# -- ECR --------------------------------------------------------------------------------


@dataclass
class FakeAws:
    """``aws ecr batch-delete-image`` over ``registry``'s tags, as ECR answers it."""

    registry: Registry
    argv: list[list[str]] = field(default_factory=list)

    def __call__(
        self, argv: Sequence[str], *, timeout: float, **_: Any
    ) -> subprocess.CompletedProcess[str]:
        self.argv.append(list(argv))
        ids = [
            dict(p.split("=", 1) for p in a.split(","))
            for a in argv[argv.index("--image-ids") + 1 :]
        ]
        done, failures = [], []
        for image in ids:
            if self.registry.tags.get(image["imageTag"]) == image["imageDigest"]:
                del self.registry.tags[image["imageTag"]]
                done.append(image)
            else:
                reason = "Invalid image digest/tag combination"
                failures.append(
                    {
                        "imageId": image,
                        "failureCode": "ImageTagDoesNotMatchDigest",
                        "failureReason": reason,
                    }
                )
        out = json.dumps({"imageIds": done, "failures": failures})
        return subprocess.CompletedProcess(list(argv), 0, out, "")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    fake = FakeAws(
        Registry("distribution2", {"v1": V1.digest, "latest": V1.digest, "v2": V2.digest})
    )
    monkeypatch.setattr(untag_module, "run_tool", fake)
    return fake


def test_ecr_untags_with_batch_delete_image(aws: FakeAws) -> None:
    with _client(aws.registry) as c:
        result = delete(f"{ECR}/team/app:latest", untag_only=True, client=c)
    assert result.method == "ecr batch-delete-image"
    assert aws.registry.tags == {"v1": V1.digest, "v2": V2.digest}
    assert aws.argv == [
        [
            "aws",
            "ecr",
            "batch-delete-image",
            "--repository-name",
            "team/app",
            "--region",
            "eu-west-1",
            "--output",
            "json",
            "--registry-id",
            "123456789012",
            "--image-ids",
            f"imageDigest={V1.digest},imageTag=latest",
        ]
    ]


def test_ecr_refuses_a_tag_that_moved_and_says_so(aws: FakeAws) -> None:
    with _client(aws.registry) as c:
        ref = rk.parse_reference(f"{ECR}/team/app")
        done, skipped = untag_module.remove_tags(c, ref, {"v2": V1.digest, "v1": V1.digest})
    assert [r.removed_tags for r in done] == [["v1"]]
    # The reason is ECR's text, scrubbed of every secret the process has sent.
    assert len(skipped) == 1 and skipped[0].startswith("v2: Invalid image digest/")
    assert aws.registry.tags == {"latest": V1.digest, "v2": V2.digest}


def test_the_plan_names_each_registrys_untag_method() -> None:
    fake = Registry("oci", {"v1": V1.digest, "latest": V1.digest, "old": V2.digest})
    expected = {
        "registry.example.com": "tag delete, else manifest delete",
        ECR: "ecr batch-delete-image",
        "docker.io": "hub tag api",
        "ghcr.io": "github packages api",
        "registry.gitlab.example.com": "gitlab tag api",
        "example.azurecr.io": "manifest delete",
    }
    with _client(fake) as c:
        for host, method in expected.items():
            ref = rk.parse_reference(f"{host}/team/app:v1")
            assert untag_module.untag_method(c, ref, probe=False) == method
    assert fake.requests == []


@pytest.mark.parametrize(
    "answer",
    [
        {"imageIds": "v1", "failures": []},
        {"imageIds": [{"imageTag": ["v1"]}], "failures": [{"imageId": "v1"}]},
        {"imageIds": [{"imageTag": "not-asked\x1b[2J"}], "failures": [7, None]},
    ],
)
def test_a_malformed_ecr_answer_is_refused_or_ignored_not_crashed_on(
    monkeypatch: pytest.MonkeyPatch, answer: dict[str, object]
) -> None:
    def fake(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(argv), 0, json.dumps(answer), "")

    monkeypatch.setattr(untag_module, "run_tool", fake)
    registry = Registry("distribution2", {"v1": V1.digest})
    with _client(registry) as c:
        ref = rk.parse_reference(f"{ECR}/team/app")
        try:
            done, skipped = untag_module.remove_tags(c, ref, {"v1": V1.digest})
        except rk.RegistryKitError as exc:
            assert "imageIds" in str(exc)
        else:
            assert done == [] and skipped == []  # nothing we did not ask about is reported
