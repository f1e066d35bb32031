"""Registry detection: the kind, where the API is, where credentials go, how to log in."""

from __future__ import annotations

import pytest
from support.internals import KINDS, is_loopback

from registrykit import InvalidReference, RegistryInfo, determine_registry, parse_reference

HUB_KEY = "https://index.docker.io/v1/"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

# input, host, kind, api_host, credential_key
DETECT: list[tuple[str, str, str, str, str]] = [
    # Docker Hub: hosts, aliases, URLs, references
    ("docker.io", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("index.docker.io", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("registry-1.docker.io", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("registry.hub.docker.com", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("https://index.docker.io/v1/", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("https://registry-1.docker.io/v2/", "docker.io", "dockerhub", "registry-1.docker.io",
     HUB_KEY),
    ("nginx", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("ubuntu:22.04", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    ("user/app:v1", "docker.io", "dockerhub", "registry-1.docker.io", HUB_KEY),
    # GitHub
    ("ghcr.io", "ghcr.io", "ghcr", "ghcr.io", "ghcr.io"),
    ("ghcr.io/owner/app:v1", "ghcr.io", "ghcr", "ghcr.io", "ghcr.io"),
    ("https://ghcr.io", "ghcr.io", "ghcr", "ghcr.io", "ghcr.io"),
    ("docker.pkg.github.com", "docker.pkg.github.com", "ghcr", "docker.pkg.github.com",
     "docker.pkg.github.com"),
    # GitLab
    ("registry.gitlab.com", "registry.gitlab.com", "gitlab", "registry.gitlab.com",
     "registry.gitlab.com"),
    ("registry.gitlab.com/group/project/img:main", "registry.gitlab.com", "gitlab",
     "registry.gitlab.com", "registry.gitlab.com"),
    ("registry.gitlab.example.com:5050", "registry.gitlab.example.com:5050", "gitlab",
     "registry.gitlab.example.com:5050", "registry.gitlab.example.com:5050"),
    # Quay
    ("quay.io", "quay.io", "quay", "quay.io", "quay.io"),
    ("quay.io/coreos/etcd", "quay.io", "quay", "quay.io", "quay.io"),
    # ECR
    (ECR, ECR, "ecr", ECR, ECR),
    (f"{ECR}/team/app:1", ECR, "ecr", ECR, ECR),
    ("210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn",
     "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn", "ecr",
     "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn",
     "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ("public.ecr.aws", "public.ecr.aws", "ecr", "public.ecr.aws", "public.ecr.aws"),
    ("public.ecr.aws/nginx/nginx:latest", "public.ecr.aws", "ecr", "public.ecr.aws",
     "public.ecr.aws"),
    # Google
    ("gcr.io", "gcr.io", "gcr", "gcr.io", "gcr.io"),
    ("eu.gcr.io/project/img", "eu.gcr.io", "gcr", "eu.gcr.io", "eu.gcr.io"),
    ("europe-west1-docker.pkg.dev", "europe-west1-docker.pkg.dev", "artifact-registry",
     "europe-west1-docker.pkg.dev", "europe-west1-docker.pkg.dev"),
    ("us-docker.pkg.dev/proj/repo/img:x", "us-docker.pkg.dev", "artifact-registry",
     "us-docker.pkg.dev", "us-docker.pkg.dev"),
    # Azure
    ("myregistry.azurecr.io", "myregistry.azurecr.io", "acr", "myregistry.azurecr.io",
     "myregistry.azurecr.io"),
    ("myregistry.azurecr.cn/app", "myregistry.azurecr.cn", "acr", "myregistry.azurecr.cn",
     "myregistry.azurecr.cn"),
    ("gov.azurecr.us", "gov.azurecr.us", "acr", "gov.azurecr.us", "gov.azurecr.us"),
    # local
    ("localhost", "localhost", "local", "localhost", "localhost"),
    ("localhost:5000", "localhost:5000", "local", "localhost:5000", "localhost:5000"),
    ("localhost:5000/", "localhost:5000", "local", "localhost:5000", "localhost:5000"),
    ("localhost:5000/app:v1", "localhost:5000", "local", "localhost:5000", "localhost:5000"),
    ("http://localhost:5000/v2/", "localhost:5000", "local", "localhost:5000", "localhost:5000"),
    ("127.0.0.1:5000", "127.0.0.1:5000", "local", "127.0.0.1:5000", "127.0.0.1:5000"),
    ("127.1.2.3", "127.1.2.3", "local", "127.1.2.3", "127.1.2.3"),
    ("[::1]:5000", "[::1]:5000", "local", "[::1]:5000", "[::1]:5000"),
    ("[::1]/app", "[::1]", "local", "[::1]", "[::1]"),
    # private
    ("registry.example.com", "registry.example.com", "private", "registry.example.com",
     "registry.example.com"),
    ("registry.example.com:8443/team/app", "registry.example.com:8443", "private",
     "registry.example.com:8443", "registry.example.com:8443"),
    ("myregistry:5000", "myregistry:5000", "private", "myregistry:5000", "myregistry:5000"),
    ("10.0.0.7:5000", "10.0.0.7:5000", "private", "10.0.0.7:5000", "10.0.0.7:5000"),
    ("[2001:db8::1]:5000", "[2001:db8::1]:5000", "private", "[2001:db8::1]:5000",
     "[2001:db8::1]:5000"),
    ("notgcr.io", "notgcr.io", "private", "notgcr.io", "notgcr.io"),
    ("evil-ghcr.io", "evil-ghcr.io", "private", "evil-ghcr.io", "evil-ghcr.io"),
    ("localhost.example.com", "localhost.example.com", "private", "localhost.example.com",
     "localhost.example.com"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "host", "kind", "api_host", "credential_key"), DETECT, ids=[r[0] for r in DETECT]
)
def test_detect(text: str, host: str, kind: str, api_host: str, credential_key: str) -> None:
    info = determine_registry(text)
    assert isinstance(info, RegistryInfo)
    assert (info.host, info.kind, info.api_host, info.credential_key) == (
        host,
        kind,
        api_host,
        credential_key,
    )
    assert info.kind in KINDS
    assert info.display_name
    assert info.login_hint


def test_every_kind_is_covered() -> None:
    assert {row[2] for row in DETECT} == set(KINDS)


def test_reference_object_input() -> None:
    info = determine_registry(parse_reference("ghcr.io/owner/app:v1"))
    assert (info.host, info.kind) == ("ghcr.io", "ghcr")
    assert determine_registry(parse_reference("nginx")).kind == "dockerhub"


def test_ecr_private() -> None:
    info = determine_registry(f"{ECR}/app:1")
    assert (info.region, info.account, info.public) == ("us-east-1", "123456789012", False)
    assert info.login_hint == (
        "aws ecr get-login-password --region us-east-1 | docker login --username AWS "
        f"--password-stdin {ECR}"
    )
    assert info.display_name == "Amazon ECR"
    cn = determine_registry("210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn")
    assert (cn.region, cn.account) == ("cn-north-1", "210987654321")
    assert "--region cn-north-1" in cn.login_hint
    fips = determine_registry("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com")
    assert (fips.kind, fips.region) == ("ecr", "us-gov-west-1")


def test_ecr_public() -> None:
    info = determine_registry("public.ecr.aws/nginx/nginx")
    assert info.public is True
    assert info.account is None
    assert info.display_name == "Amazon ECR Public"
    assert info.login_hint == (
        "aws ecr-public get-login-password --region us-east-1 | docker login --username AWS "
        "--password-stdin public.ecr.aws"
    )


def test_artifact_registry_region() -> None:
    info = determine_registry("europe-west1-docker.pkg.dev/proj/repo/img")
    assert info.region == "europe-west1"
    assert "gcloud auth configure-docker europe-west1-docker.pkg.dev" in info.login_hint
    assert determine_registry("us-docker.pkg.dev").region == "us"


def test_acr_name() -> None:
    info = determine_registry("myregistry.azurecr.io/app:v1")
    assert info.registry_name == "myregistry"
    assert "az acr login --name myregistry" in info.login_hint
    assert determine_registry("other.azurecr.cn").registry_name == "other"


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("docker.io", ["docker login", "--password-stdin", "access token"]),
        ("ghcr.io", ["docker login ghcr.io", "--password-stdin", "read:packages",
                     "write:packages"]),
        ("registry.gitlab.com", ["docker login registry.gitlab.com", "CI_JOB_TOKEN",
                                 "deploy token", "personal access token"]),
        ("quay.io", ["docker login quay.io", "robot"]),
        ("gcr.io", ["gcloud auth configure-docker gcr.io",
                    "gcloud auth print-access-token | docker login -u oauth2accesstoken "
                    "--password-stdin https://gcr.io"]),
        ("europe-west1-docker.pkg.dev", ["gcloud auth configure-docker "
                                         "europe-west1-docker.pkg.dev"]),
        ("myregistry.azurecr.io", ["az acr login --name myregistry"]),
        ("localhost:5000", ["no login", "docker login localhost:5000"]),
        ("registry.example.com", ["docker login registry.example.com"]),
    ],
)  # fmt: skip
def test_login_hints(text: str, commands: list[str]) -> None:
    hint = determine_registry(text).login_hint
    for command in commands:
        assert command.lower() in hint.lower(), hint


@pytest.mark.parametrize(
    ("text", "deletes"),
    [("docker.io", False), ("ghcr.io", False), ("quay.io", True), ("localhost:5000", True),
     (ECR, True), ("registry.example.com", True)],
)  # fmt: skip
def test_deletes_via_api(text: str, deletes: bool) -> None:
    assert determine_registry(text).deletes_via_api is deletes


def test_docs_and_repr() -> None:
    info = determine_registry("ghcr.io")
    assert info.docs_url is not None and info.docs_url.startswith("https://")
    assert determine_registry("registry.example.com").docs_url is None
    assert repr(info) == "RegistryInfo(host='ghcr.io', kind='ghcr', api_host='ghcr.io')"
    assert "GitHub Container Registry" in str(info)
    html = info._repr_html_()
    assert "<table>" in html and "ghcr.io" in html
    # the hint is escaped, not injected as markup
    assert "&lt;" not in html and "<code>" in html


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        (" ghcr.io", "whitespace"),
        ("ghcr.io ", "whitespace"),
        ("docker://ghcr.io/o/a", "drop the docker:// prefix"),
        ("ftp://ghcr.io", "scheme"),
        ("https://", "empty"),
        ("https://user:hunter2@ghcr.io/", "credentials"),
        ("localhost:0", "port"),
        ("localhost:65536", "port"),
        ("my_registry.io", "registry host"),
        ("[::1", "']'"),
        ("ghcr.io/Owner/app", "lowercase"),
        ("a//b", "empty path component"),
        ("ghcr.io//", "empty path component"),
    ],
)
def test_bad_input(text: str, needle: str) -> None:
    with pytest.raises(InvalidReference) as info:
        determine_registry(text)
    assert isinstance(info.value, ValueError)
    assert needle.lower() in str(info.value).lower(), str(info.value)


def test_credentials_in_url_are_not_echoed() -> None:
    with pytest.raises(InvalidReference) as info:
        determine_registry("https://user:hunter2@ghcr.io/")
    assert "hunter2" not in str(info.value)


def test_non_string_input() -> None:
    with pytest.raises(InvalidReference, match="not int"):
        determine_registry(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost:5000", True),
        ("127.0.0.1", True),
        ("127.0.0.1:5000", True),
        ("127.255.255.254:1", True),
        ("::1", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("[::ffff:127.0.0.1]:5000", True),
        ("0:0:0:0:0:0:0:1", True),
        ("128.0.0.1", False),
        ("10.0.0.1:5000", False),
        ("[2001:db8::1]:5000", False),
        ("localhost.example.com", False),
        ("mylocalhost", False),
        ("ghcr.io", False),
        ("0.0.0.0", False),
        ("", False),
        ("[::1", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
