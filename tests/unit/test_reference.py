"""The reference grammar: what docker accepts, how it normalises, what it refuses."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.internals import validate_digest

from registrykit import (
    InvalidReference,
    Reference,
    RegistryKitError,
    parse_reference,
    parse_repository,
)

H256 = "0123456789abcdef" * 4
H512 = "fedcba9876543210" * 8
D256 = f"sha256:{H256}"
D512 = f"sha512:{H512}"
HUB = "docker.io"

# input, str(), registry, repository, tag, digest
GOOD: list[tuple[str, str, str, str, str | None, str | None]] = [
    # Docker Hub defaults
    ("nginx", "docker.io/library/nginx:latest", HUB, "library/nginx", "latest", None),
    ("nginx:1.25", "docker.io/library/nginx:1.25", HUB, "library/nginx", "1.25", None),
    ("library/nginx", "docker.io/library/nginx:latest", HUB, "library/nginx", "latest", None),
    ("docker.io/nginx", "docker.io/library/nginx:latest", HUB, "library/nginx", "latest", None),
    ("docker.io/library/nginx:stable", "docker.io/library/nginx:stable", HUB, "library/nginx",
     "stable", None),
    ("user/app", "docker.io/user/app:latest", HUB, "user/app", "latest", None),
    ("user/app:v1", "docker.io/user/app:v1", HUB, "user/app", "v1", None),
    ("docker.io/user/app:v1", "docker.io/user/app:v1", HUB, "user/app", "v1", None),
    ("org/team/app", "docker.io/org/team/app:latest", HUB, "org/team/app", "latest", None),
    # Docker Hub aliases
    ("index.docker.io/nginx", "docker.io/library/nginx:latest", HUB, "library/nginx", "latest",
     None),
    ("registry-1.docker.io/library/redis:7", "docker.io/library/redis:7", HUB, "library/redis",
     "7", None),
    ("registry.hub.docker.com/user/app", "docker.io/user/app:latest", HUB, "user/app", "latest",
     None),
    ("Index.Docker.IO/nginx", "docker.io/library/nginx:latest", HUB, "library/nginx", "latest",
     None),
    # grammar edge cases that are still valid
    ("localhost", "docker.io/library/localhost:latest", HUB, "library/localhost", "latest", None),
    ("localhost:5000", "docker.io/library/localhost:5000", HUB, "library/localhost", "5000", None),
    ("ghcr.io", "docker.io/library/ghcr.io:latest", HUB, "library/ghcr.io", "latest", None),
    ("a", "docker.io/library/a:latest", HUB, "library/a", "latest", None),
    ("0", "docker.io/library/0:latest", HUB, "library/0", "latest", None),
    ("a.b", "docker.io/library/a.b:latest", HUB, "library/a.b", "latest", None),
    ("foo_bar", "docker.io/library/foo_bar:latest", HUB, "library/foo_bar", "latest", None),
    ("foo__bar", "docker.io/library/foo__bar:latest", HUB, "library/foo__bar", "latest", None),
    ("foo-bar", "docker.io/library/foo-bar:latest", HUB, "library/foo-bar", "latest", None),
    ("foo---bar", "docker.io/library/foo---bar:latest", HUB, "library/foo---bar", "latest", None),
    ("ab_c__d-e--f/g.h", "docker.io/ab_c__d-e--f/g.h:latest", HUB, "ab_c__d-e--f/g.h", "latest",
     None),
    ("x/y/z/w/v", "docker.io/x/y/z/w/v:latest", HUB, "x/y/z/w/v", "latest", None),
    # localhost
    ("localhost/app", "localhost/app:latest", "localhost", "app", "latest", None),
    ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000", "app", "latest", None),
    ("localhost:5000/a/b/c:dev", "localhost:5000/a/b/c:dev", "localhost:5000", "a/b/c", "dev",
     None),
    ("localhost:1/x", "localhost:1/x:latest", "localhost:1", "x", "latest", None),
    ("localhost:65535/x", "localhost:65535/x:latest", "localhost:65535", "x", "latest", None),
    # IP hosts
    ("127.0.0.1:5000/app:v2", "127.0.0.1:5000/app:v2", "127.0.0.1:5000", "app", "v2", None),
    ("10.0.0.7/team/app", "10.0.0.7/team/app:latest", "10.0.0.7", "team/app", "latest", None),
    ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000", "app", "latest", None),
    ("[::1]/app:t", "[::1]/app:t", "[::1]", "app", "t", None),
    ("[2001:db8::1]:443/org/app", "[2001:db8::1]:443/org/app:latest", "[2001:db8::1]:443",
     "org/app", "latest", None),
    ("[fe80::ABCD]:5000/x", "[fe80::ABCD]:5000/x:latest", "[fe80::ABCD]:5000", "x", "latest",
     None),
    # public registries
    ("ghcr.io/owner/app:v1.2.3", "ghcr.io/owner/app:v1.2.3", "ghcr.io", "owner/app", "v1.2.3",
     None),
    ("ghcr.io/app", "ghcr.io/app:latest", "ghcr.io", "app", "latest", None),
    ("quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5", "quay.io", "coreos/etcd", "v3.5",
     None),
    ("registry.gitlab.com/group/sub/project/img:main",
     "registry.gitlab.com/group/sub/project/img:main", "registry.gitlab.com",
     "group/sub/project/img", "main", None),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1",
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1",
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "app", "1", None),
    ("public.ecr.aws/nginx/nginx", "public.ecr.aws/nginx/nginx:latest", "public.ecr.aws",
     "nginx/nginx", "latest", None),
    ("europe-west1-docker.pkg.dev/proj/repo/img:x",
     "europe-west1-docker.pkg.dev/proj/repo/img:x", "europe-west1-docker.pkg.dev",
     "proj/repo/img", "x", None),
    ("myreg.azurecr.io/app:1", "myreg.azurecr.io/app:1", "myreg.azurecr.io", "app", "1", None),
    ("registry.example.com:8443/app", "registry.example.com:8443/app:latest",
     "registry.example.com:8443", "app", "latest", None),
    # uppercase domains are allowed (and kept as written)
    ("Registry.Example.COM/app", "Registry.Example.COM/app:latest", "Registry.Example.COM", "app",
     "latest", None),
    ("LOCALHOST:5000/app", "LOCALHOST:5000/app:latest", "LOCALHOST:5000", "app", "latest", None),
    ("my-host.local/app", "my-host.local/app:latest", "my-host.local", "app", "latest", None),
    ("example.com/a", "example.com/a:latest", "example.com", "a", "latest", None),
    # tags
    ("nginx:LATEST", "docker.io/library/nginx:LATEST", HUB, "library/nginx", "LATEST", None),
    ("nginx:_x", "docker.io/library/nginx:_x", HUB, "library/nginx", "_x", None),
    ("nginx:1.0-rc.1_b", "docker.io/library/nginx:1.0-rc.1_b", HUB, "library/nginx", "1.0-rc.1_b",
     None),
    ("nginx:" + "t" * 128, "docker.io/library/nginx:" + "t" * 128, HUB, "library/nginx", "t" * 128,
     None),
    ("localhost:5000/app:5000", "localhost:5000/app:5000", "localhost:5000", "app", "5000", None),
    # digests, alone and with a tag
    (f"nginx@{D256}", f"docker.io/library/nginx@{D256}", HUB, "library/nginx", None, D256),
    (f"nginx:1.25@{D256}", f"docker.io/library/nginx:1.25@{D256}", HUB, "library/nginx", "1.25",
     D256),
    (f"ghcr.io/o/a@{D256}", f"ghcr.io/o/a@{D256}", "ghcr.io", "o/a", None, D256),
    (f"localhost:5000/a:t@{D256}", f"localhost:5000/a:t@{D256}", "localhost:5000", "a", "t", D256),
    (f"nginx@{D512}", f"docker.io/library/nginx@{D512}", HUB, "library/nginx", None, D512),
    (f"[::1]:5000/x:y@{D512}", f"[::1]:5000/x:y@{D512}", "[::1]:5000", "x", "y", D512),
    # length: exactly 255 characters of name is fine
    ("a" * 255, "docker.io/library/" + "a" * 255 + ":latest", HUB, "library/" + "a" * 255,
     "latest", None),
    ("example.com/" + "b" * 243, "example.com/" + "b" * 243 + ":latest", "example.com", "b" * 243,
     "latest", None),
]  # fmt: skip

# input, a substring the message must contain
BAD: list[tuple[str, str]] = [
    ("", "empty"),
    (" nginx", "whitespace"),
    ("nginx ", "whitespace"),
    ("nginx\n", "whitespace"),
    ("ng inx", "whitespace"),
    ("docker://nginx", "drop the docker:// prefix"),
    ("docker://ghcr.io/o/a:v1", "drop the docker:// prefix"),
    ("https://ghcr.io/o/a", "https://"),
    ("Nginx", "lowercase"),
    ("User/app", "lowercase"),
    ("ghcr.io/Owner/App:v1", "lowercase"),
    ("ghcr.io/Owner/App:v1", "'ghcr.io/owner/app:v1'"),
    ("nginx:", "tag"),
    ("nginx:-x", "tag"),
    ("nginx:.x", "tag"),
    ("nginx:a+b", "tag"),
    ("nginx:" + "t" * 129, "128"),
    ("nginx:a:b", "contains ':'"),
    ("a_b.io/app", "registry host"),
    ("nginx@", "digest"),
    ("nginx@sha256", "algorithm"),
    ("nginx@sha256:abc", "64"),
    (f"nginx@sha256:{H256}0", "64"),
    (f"nginx@sha256:{H256.upper()}", "lowercase"),
    (f"nginx@sha256:{'g' * 64}", "hex"),
    (f"nginx@sha512:{H256}", "128"),
    (f"nginx@md5:{'a' * 32}", "unsupported digest algorithm 'md5'"),
    (f"nginx@blake3:{H256}", "accepts only sha256, sha512"),
    (f"nginx@{D256}@{D256}", "'@'"),
    ("a" * 256, "255"),
    ("example.com/" + "b" * 244, "255"),
    ("localhost:0/app", "port"),
    ("localhost:65536/app", "port"),
    ("localhost:99999/app", "port"),
    ("localhost:abc/app", "port"),
    ("localhost:/app", "port"),
    ("[::1]:0/app", "port"),
    ("[::1/app", "']'"),
    ("[::g]/app", "IPv6"),
    ("[::1]x/app", "port"),
    ("my_reg.io/app", "registry host"),
    ("-bad.io/app", "registry host"),
    ("bad-.io/app", "registry host"),
    ("example.com./app", "registry host"),
    ("/nginx", "'/'"),
    ("nginx/", "trailing slash"),
    ("ghcr.io/", "empty"),
    ("ghcr.io/o/a/", "trailing slash"),
    ("a//b", "empty path component"),
    ("-nginx", "path component"),
    ("nginx-", "path component"),
    ("a...b", "path component"),
    ("a___b", "path component"),
    ("a._b", "path component"),
    (":tag", "empty"),
    (f"@{D256}", "empty"),
    ("ngïnx", "ASCII"),
]


def _ids(table: Sequence[tuple[object, ...]]) -> list[str]:
    """Readable test ids: the input, shortened."""
    return [str(row[0])[:40] or "<empty>" for row in table]


def test_tables_are_big_enough() -> None:
    assert len(GOOD) >= 60
    assert len(BAD) >= 30


@pytest.mark.parametrize(("text", "full", "registry", "repository", "tag", "digest"), GOOD,
                         ids=_ids(GOOD))  # fmt: skip
def test_good_reference(
    text: str, full: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert str(ref) == full
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    # The normalised form parses to the same reference: it is a fixed point
    # (unless normalising pushed the name past the 255 characters counted as written).
    if len(ref.name) <= 255:
        assert parse_reference(full) == ref
    assert repr(ref) == f"Reference({full!r})"


@pytest.mark.parametrize(("text", "needle"), BAD, ids=_ids(BAD))
def test_bad_reference(text: str, needle: str) -> None:
    with pytest.raises(InvalidReference) as info:
        parse_reference(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, RegistryKitError)
    assert needle.lower() in str(err).lower(), str(err)


def test_uppercase_message_suggests_lowercase_form() -> None:
    with pytest.raises(InvalidReference, match="must be lowercase") as info:
        parse_reference("Library/Nginx:Latest")
    assert "'library/nginx:Latest'" in str(info.value)


def test_non_string_is_invalid_reference() -> None:
    with pytest.raises(InvalidReference, match="string"):
        parse_reference(42)  # type: ignore[arg-type]


def test_length_counts_name_as_written() -> None:
    # 255 characters written, longer once docker.io/library/ is added: still valid.
    ref = parse_reference("a" * 255)
    assert len(ref.name) > 255
    # the tag and digest do not count
    assert parse_reference("a" * 255 + ":" + "t" * 128 + "@" + D256).tag == "t" * 128


def test_default_tag() -> None:
    assert parse_reference("nginx", default_tag="stable").tag == "stable"
    ref = parse_reference("nginx", default_tag=None)
    assert ref.tag is None and ref.digest is None
    assert str(ref) == "docker.io/library/nginx"
    assert parse_reference(f"nginx@{D256}", default_tag="stable").tag is None
    with pytest.raises(InvalidReference, match="default_tag"):
        parse_reference("nginx", default_tag="bad tag")


def test_properties() -> None:
    ref = parse_reference("nginx")
    assert ref.name == "docker.io/library/nginx"
    assert ref.identifier == "latest"
    assert ref.familiar == "nginx:latest"
    pinned = parse_reference(f"user/app:v1@{D256}")
    assert pinned.identifier == D256
    assert pinned.familiar == f"user/app:v1@{D256}"
    assert parse_reference("library/a/b").familiar == "library/a/b:latest"
    assert parse_reference("ghcr.io/o/a:v1").familiar == "ghcr.io/o/a:v1"
    assert parse_repository("nginx").familiar == "nginx"
    with pytest.raises(InvalidReference, match="repository only"):
        _ = parse_repository("nginx").identifier


def test_with_tag_with_digest_repository_only() -> None:
    ref = parse_reference(f"ghcr.io/o/a:v1@{D256}")
    retagged = ref.with_tag("v2")
    assert str(retagged) == "ghcr.io/o/a:v2"
    assert retagged.identifier == "v2"
    pinned = parse_reference("ghcr.io/o/a:v1").with_digest(D512)
    assert str(pinned) == f"ghcr.io/o/a:v1@{D512}"
    assert pinned.identifier == D512
    bare = ref.repository_only()
    assert (bare.tag, bare.digest, str(bare)) == (None, None, "ghcr.io/o/a")
    with pytest.raises(InvalidReference, match="tag"):
        ref.with_tag("-bad")
    with pytest.raises(InvalidReference, match="64"):
        ref.with_digest("sha256:abc")


def test_reference_is_frozen_hashable_and_validated() -> None:
    ref = parse_reference("nginx")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]
    assert len({ref, parse_reference("docker.io/library/nginx:latest")}) == 1
    # Built by hand it normalises like a parsed one ...
    assert Reference("index.docker.io", "nginx", "1") == parse_reference("nginx:1")
    # ... and refuses what the parser refuses.
    with pytest.raises(InvalidReference, match="lowercase"):
        Reference("ghcr.io", "Owner/app")
    with pytest.raises(InvalidReference, match="port"):
        Reference("localhost:70000", "app")


def test_validate_digest() -> None:
    assert validate_digest(D256) == D256
    assert validate_digest(D512) == D512
    for bad, needle in [
        ("", "empty"),
        ("sha256", "algorithm"),
        ("sha256:" + "a" * 63, "64"),
        ("SHA256:" + H256, "unsupported"),
        ("sha1:" + "a" * 40, "unsupported"),
    ]:
        with pytest.raises(InvalidReference, match=needle):
            validate_digest(bad)


# Only sha256 (64) and sha512 (128) lowercase hex: a digest becomes a file
# name and a claim to verify, so nothing else may get that far.
DIGESTS: list[tuple[str, bool]] = [
    (D256, True),
    (D512, True),
    (f"sha256:{H256[:-1]}", False),
    (f"sha256:{H256}0", False),
    (f"sha512:{H256}", False),
    (f"sha256:{H512}", False),
    (f"sha256:{H256.upper()}", False),
    (f"SHA256:{H256}", False),
    (f"blake3:{H256}", False),
    (f"sha384:{'a' * 96}", False),
    (f"md5:{'a' * 32}", False),
    (f"sha256:{'../' * 21}a", False),
    (f"sha256:{H256[:-1]}/", False),
    (f"sha256:{H256}\n", False),
    (f" sha256:{H256}", False),
    (f"sha256:{H256}:{H256}", False),
    (f":{H256}", False),
    (H256, False),
    ("", False),
]
_DIGEST_GRAMMAR = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


@pytest.mark.parametrize(("digest", "valid"), DIGESTS, ids=_ids(DIGESTS))
def test_digest_grammar(digest: str, valid: bool) -> None:
    if valid:
        assert validate_digest(digest) == digest
        assert parse_reference(f"nginx@{digest}").digest == digest
    else:
        with pytest.raises(InvalidReference):
            validate_digest(digest)
        with pytest.raises(InvalidReference):
            parse_reference(f"nginx@{digest}")


@given(
    st.one_of(
        st.text(max_size=140),
        st.from_regex(r"(sha256|sha512|sha384|SHA256|md5):[0-9a-fA-F./]{30,130}", fullmatch=True),
    )
)
def test_digest_grammar_property(text: str) -> None:
    """validate_digest accepts exactly the two algorithms' lowercase hex of the right length."""
    if _DIGEST_GRAMMAR.fullmatch(text):
        assert validate_digest(text) == text
    else:
        with pytest.raises(InvalidReference):
            validate_digest(text)


@pytest.mark.parametrize(
    ("text", "full"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("ghcr.io/o/a", "ghcr.io/o/a"),
        ("localhost:5000/app", "localhost:5000/app"),
    ],
)
def test_parse_repository(text: str, full: str) -> None:
    ref = parse_repository(text)
    assert str(ref) == full
    assert ref.tag is None and ref.digest is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("nginx:latest", "drop it"),
        (f"nginx@{D256}", "a digest"),
        (f"nginx:1@{D256}", "a tag and digest"),
        ("localhost:5000", "registry host"),
        ("Nginx", "lowercase"),
    ],
)
def test_parse_repository_refuses_tags(text: str, needle: str) -> None:
    with pytest.raises(InvalidReference, match=needle):
        parse_repository(text)
