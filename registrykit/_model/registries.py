"""Which registry a reference or host names, and how a person logs in to it.

Registries differ in the details that trip people up: Docker Hub's API lives
on another host than its name and stores credentials under a URL, cloud
registries want a CLI to mint short-lived passwords, and some refuse the
registry API's DELETE. Knowing the kind up front lets the rest of registrykit
(and its error messages) say the right thing for *this* registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import InvalidReference
from .hosts import (
    DOCKER_HUB,
    HUB_AUTH_KEY,
    api_host,
    canonical_host,
    is_docker_hub,
    is_loopback,
    split_host,
)
from .reference import Reference, _host_problem, parse_reference
from .render import Summary, Value

__all__ = ["CLOUD_KINDS", "KINDS", "RegistryInfo", "determine_registry"]

KINDS = (
    "dockerhub",
    "ghcr",
    "gitlab",
    "quay",
    "ecr",
    "gcr",
    "artifact-registry",
    "acr",
    "local",
    "private",
)
"""Every value ``RegistryInfo.kind`` can take."""

CLOUD_KINDS = ("ecr", "gcr", "artifact-registry", "acr")
"""Kinds whose cloud CLI mints a short-lived password for ``login``."""

_GHCR_HOSTNAMES = frozenset({"ghcr.io", "docker.pkg.github.com"})
_ECR_RE = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
)
_ECR_PUBLIC_HOSTNAME = "public.ecr.aws"
_ECR_PUBLIC_REGION = "us-east-1"  # ECR Public's auth API exists only there
_ARTIFACT_RE = re.compile(r"(?P<region>[a-z0-9]+(?:-[a-z0-9]+)*)-docker\.pkg\.dev")
_ACR_RE = re.compile(
    r"(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)\.(?:[a-z0-9.-]+\.)?azurecr\.(?:io|cn|us|de)"
)

_DISPLAY = {
    "dockerhub": "Docker Hub",
    "ghcr": "GitHub Container Registry",
    "gitlab": "GitLab Container Registry",
    "quay": "Quay.io",
    "ecr": "Amazon ECR",
    "gcr": "Google Container Registry",
    "artifact-registry": "Google Artifact Registry",
    "acr": "Azure Container Registry",
    "local": "Local registry",
    "private": "Private registry",
}
_DOCS = {
    "dockerhub": "https://docs.docker.com/docker-hub/",
    "ghcr": "https://docs.github.com/en/packages/working-with-a-github-packages-registry/"
    "working-with-the-container-registry",
    "gitlab": "https://docs.gitlab.com/ee/user/packages/container_registry/",
    "quay": "https://docs.quay.io/",
    "ecr": "https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html",
    "gcr": "https://cloud.google.com/container-registry/docs/advanced-authentication",
    "artifact-registry": "https://cloud.google.com/artifact-registry/docs/docker/authentication",
    "acr": "https://learn.microsoft.com/azure/container-registry/container-registry-authentication",
    "local": "https://distribution.github.io/distribution/",
}
_ECR_PUBLIC_DOCS = "https://docs.aws.amazon.com/AmazonECR/latest/public/public-registries.html"


@dataclass(frozen=True)
class RegistryInfo(Summary):
    """What registrykit knows about a registry before talking to it."""

    host: str
    """The normalised ``host[:port]``, as references use it."""
    kind: str
    """One of :data:`KINDS`."""
    api_host: str
    """Where the ``/v2/`` API answers (differs from ``host`` only for Docker Hub)."""
    login_hint: str
    """The command a person would run to log in."""
    display_name: str
    credential_key: str
    """The key docker and podman use for this registry in their auth files."""
    region: str | None = None
    account: str | None = None
    registry_name: str | None = None
    """The ACR registry name, from ``<name>.azurecr.io``."""
    docs_url: str | None = None
    public: bool = False
    """ECR Public, whose logins come from another API."""
    deletes_via_api: bool = True

    def __repr__(self) -> str:
        return f"RegistryInfo(host={self.host!r}, kind={self.kind!r}, api_host={self.api_host!r})"

    def _title(self) -> str:
        return f"{self.display_name} ({self.host})"

    def _rows(self) -> list[tuple[str, Value]]:
        rows: list[tuple[str, Value]] = [
            ("kind", self.kind),
            ("API host", self.api_host),
            ("login", self.login_hint),
        ]
        if self.docs_url:
            rows.append(("docs", self.docs_url))
        return rows


def _looks_like_host(s: str) -> bool:
    """Whether a slash-free string is a host rather than a Docker Hub image name.

    ``ghcr.io`` and ``localhost:5000`` are hosts; ``nginx`` and
    ``ubuntu:22.04`` are images on Docker Hub (their ``:`` is followed by a
    tag, not a port).
    """
    if s.startswith("["):
        return True
    name, port = split_host(s)
    if port is not None:
        return port.isascii() and port.isdigit()
    return "." in name or name.lower() == "localhost"


def _host_from(ref_or_host: str | Reference) -> str:
    """Reduce every accepted input to a validated, normalised ``host[:port]``."""
    if isinstance(ref_or_host, Reference):
        return ref_or_host.registry
    if not isinstance(ref_or_host, str):
        raise InvalidReference(
            "determine_registry() takes a host, a URL, an image reference or a Reference, "
            f"not {type(ref_or_host).__name__}"
        )
    s = ref_or_host
    if not s:
        raise InvalidReference("invalid registry: the string is empty; give a host like 'ghcr.io'")
    if s != s.strip() or any(c.isspace() for c in s):
        raise InvalidReference(
            f"invalid registry {s!r}: it contains whitespace; give a host like 'ghcr.io'"
        )
    if "://" in s:
        scheme = s.partition("://")[0].lower()
        if scheme not in ("http", "https"):
            if scheme == "docker":
                raise InvalidReference(
                    f"invalid registry {s!r}: drop the docker:// prefix; it is a transport, "
                    "not part of a reference"
                )
            raise InvalidReference(
                f"invalid registry URL scheme {scheme!r}: only http:// and https:// URLs name "
                "a registry"
            )
        netloc = urlsplit(s).netloc
        if "@" in netloc:
            # Never echo the URL: the part before '@' may be a password.
            raise InvalidReference(
                "invalid registry URL: it contains credentials before '@'; remove them and "
                "use login() instead"
            )
        problem = _host_problem(netloc)
        if problem is not None:
            raise InvalidReference(f"invalid registry URL {s!r}: {problem}")
        return canonical_host(netloc)
    bare = s[:-1] if s.endswith("/") and s.count("/") == 1 else s
    if "/" not in bare and _looks_like_host(bare):
        problem = _host_problem(bare)
        if problem is not None:
            raise InvalidReference(f"invalid registry {s!r}: {problem}")
        return canonical_host(bare)
    return parse_reference(s, default_tag=None).registry


def _login_hint(kind: str, host: str, public: bool, region: str | None, name: str | None) -> str:
    """The command a person runs to log in, with the token scope that trips people up."""
    if kind == "dockerhub":
        return (
            "echo $DOCKERHUB_TOKEN | docker login -u USERNAME --password-stdin "
            "(use a personal access token from Docker Hub → Account settings → "
            "Personal access tokens; read-only scope is enough to pull)"
        )
    if kind == "ghcr":
        return (
            f"echo $GITHUB_TOKEN | docker login {host} -u USERNAME --password-stdin "
            "(the token needs read:packages to pull and write:packages to push; in GitHub "
            "Actions give the job `permissions: packages: write`)"
        )
    if kind == "gitlab":
        return (
            f"in CI: echo $CI_JOB_TOKEN | docker login {host} -u gitlab-ci-token "
            f"--password-stdin; elsewhere: echo $TOKEN | docker login {host} -u USERNAME "
            "--password-stdin with a personal access token or deploy token that has "
            "read_registry (and write_registry to push)"
        )
    if kind == "quay":
        return (
            f"echo $QUAY_ROBOT_TOKEN | docker login {host} -u 'ORGANIZATION+ROBOT' "
            "--password-stdin (create a robot account under the organization's Robot "
            "Accounts and grant it read or write on the repository)"
        )
    if kind == "ecr" and public:
        return (
            f"aws ecr-public get-login-password --region {_ECR_PUBLIC_REGION} | "
            f"docker login --username AWS --password-stdin {host}"
        )
    if kind == "ecr":
        return (
            f"aws ecr get-login-password --region {region} | "
            f"docker login --username AWS --password-stdin {host}"
        )
    if kind in ("gcr", "artifact-registry"):
        return (
            f"gcloud auth configure-docker {host}, or: gcloud auth print-access-token | "
            f"docker login -u oauth2accesstoken --password-stdin https://{host}"
        )
    if kind == "acr":
        return (
            f"az acr login --name {name} (or with a service principal: "
            f"docker login {host} -u APP_ID --password-stdin)"
        )
    if kind == "local":
        return (
            "usually no login is needed for a local registry; if it has auth "
            f"enabled: docker login {host}"
        )
    return f"docker login {host}"


def determine_registry(ref_or_host: str | Reference) -> RegistryInfo:
    """Say which registry ``ref_or_host`` names and how to log in to it.

    Accepts a host (``ghcr.io``, ``localhost:5000``), a URL
    (``https://index.docker.io/v1/``, only its host counts), an image
    reference (``nginx``, ``ghcr.io/owner/app:v1``) or a ``Reference``. A
    slash-free string is a host when it has a dot, a numeric port, is
    ``localhost`` or an IPv6 literal; otherwise it is a Docker Hub image.
    Raises ``InvalidReference`` for anything else.
    """
    host = _host_from(ref_or_host)
    hostname, port = split_host(host)
    hostname = hostname.lower()
    public = False
    region: str | None = None
    account: str | None = None
    registry_name: str | None = None
    docs: str | None
    if is_docker_hub(hostname):
        kind = "dockerhub"
    elif hostname in _GHCR_HOSTNAMES:
        kind = "ghcr"
    elif hostname.startswith("registry.gitlab."):
        kind = "gitlab"
    elif hostname == "quay.io":
        kind = "quay"
    elif hostname == _ECR_PUBLIC_HOSTNAME:
        kind, public, region = "ecr", True, _ECR_PUBLIC_REGION
    elif (m := _ECR_RE.fullmatch(hostname)) is not None:
        kind, account, region = "ecr", m["account"], m["region"]
    elif hostname == "gcr.io" or hostname.endswith(".gcr.io"):
        kind = "gcr"
    elif (m := _ARTIFACT_RE.fullmatch(hostname)) is not None:
        kind, region = "artifact-registry", m["region"]
    elif (m := _ACR_RE.fullmatch(hostname)) is not None:
        kind, registry_name = "acr", m["name"]
    elif is_loopback(host):
        kind = "local"
    else:
        kind = "private"
    docs = _ECR_PUBLIC_DOCS if public else _DOCS.get(kind)
    hub = kind == "dockerhub"
    if hub and port is None:
        host = DOCKER_HUB
    return RegistryInfo(
        host=host,
        kind=kind,
        api_host=api_host(host),
        login_hint=_login_hint(kind, host, public, region, registry_name),
        display_name="Amazon ECR Public" if public else _DISPLAY[kind],
        credential_key=HUB_AUTH_KEY if hub else host,
        public=public,
        region=region,
        account=account,
        registry_name=registry_name,
        docs_url=docs,
        deletes_via_api=kind not in ("dockerhub", "ghcr"),
    )
