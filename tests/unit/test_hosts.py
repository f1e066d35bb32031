"""The host vocabulary: one spelling of every registry host, Docker Hub's above all."""

from __future__ import annotations

import pytest
from support.internals import (
    HUB_API_HOST,
    HUB_AUTH_KEY,
    api_host,
    auth_key,
    canonical_host,
    is_docker_hub,
    normalize_host,
    normalize_location,
    split_host,
    strip_scheme,
)

HUB_SPELLINGS = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
    "Docker.IO",
    "https://index.docker.io/v1/",
    "http://registry-1.docker.io/v2/",
]


@pytest.mark.parametrize("spelling", HUB_SPELLINGS)
def test_every_docker_hub_spelling_means_the_same_registry(spelling: str) -> None:
    assert normalize_host(spelling) == "docker.io"
    assert auth_key(spelling) == HUB_AUTH_KEY
    assert api_host(normalize_host(spelling)) == HUB_API_HOST
    assert is_docker_hub(normalize_host(spelling))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ghcr.io", ("ghcr.io", None)),
        ("localhost:5000", ("localhost", "5000")),
        ("[::1]:5000", ("::1", "5000")),
        ("[::1]", ("::1", None)),
        ("::1", ("::1", None)),
        ("[::1", ("[::1", None)),
    ],
)
def test_split_host(given: str, expected: tuple[str, str | None]) -> None:
    assert split_host(given) == expected


@pytest.mark.parametrize(
    ("given", "host", "key", "api"),
    [
        ("ghcr.io", "ghcr.io", "ghcr.io", "ghcr.io"),
        ("https://GHCR.io/v2/", "ghcr.io", "ghcr.io", "ghcr.io"),
        ("localhost:5000", "localhost:5000", "localhost:5000", "localhost:5000"),
        (" quay.io ", "quay.io", "quay.io", "quay.io"),
    ],
)
def test_other_hosts_keep_their_name(given: str, host: str, key: str, api: str) -> None:
    assert normalize_host(given) == host
    assert auth_key(given) == key
    assert api_host(host) == api
    assert not is_docker_hub(host)


def test_canonical_host_keeps_the_case_of_other_hosts() -> None:
    # References keep the host as written; only Docker Hub's aliases are renamed.
    assert canonical_host("Registry.Example.com") == "Registry.Example.com"
    assert canonical_host("INDEX.docker.io") == "docker.io"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://index.docker.io/library/", "docker.io/library"),
        ("registry.example.com:5000/team", "registry.example.com:5000/team"),
        ("http://mirror.local/", "mirror.local"),
    ],
)
def test_normalize_location(given: str, expected: str) -> None:
    assert normalize_location(given) == expected


def test_strip_scheme() -> None:
    assert strip_scheme(" HTTPS://a.io/x ") == "a.io/x"
    assert strip_scheme("ftp://a.io") == "ftp://a.io"
