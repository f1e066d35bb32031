"""Registry data is hostile, the pure part: names, digests, manifests, configs, tag lists.

Whatever JSON a registry sends, parsing ends in the value or a registrykit
error naming the field; a name or digest that passes the grammar is safe
as a URL path segment and as a file name. Hypothesis drives most of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.internals import (
    ContentCache,
    Descriptor,
    ImageConfig,
    RegistryClient,
    digest_problem,
    parse_manifest,
    repository_problem,
    sized_chunks,
    tag_problem,
    valid_names,
)

import registrykit as rk

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
GOOD = "sha256:" + hashlib.sha256(b"x").hexdigest()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _unsafe(name: str) -> bool:
    """What must never reach a URL path or a file name."""
    return (
        ".." in name.split("/")
        or name.startswith("/")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or "\\" in name
        or not name.isascii()
    )


# -- names ------------------------------------------------------------------------------


@given(st.text(max_size=140))
def test_a_tag_that_passes_is_one_safe_path_segment(tag: str):
    if tag_problem(tag) is None:
        assert "/" not in tag and not _unsafe(tag)
        assert not tag.startswith((".", "-")) and 1 <= len(tag) <= 128


@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True))
def test_every_tag_of_the_grammar_passes(tag: str):
    assert tag_problem(tag) is None


@given(st.text(alphabet=st.sampled_from("ab./_-\x1b:A9 "), max_size=40))
def test_a_repository_that_passes_stays_below_the_registry(name: str):
    if repository_problem(name) is None:
        assert not _unsafe(name) and name == name.lower() and ":" not in name


@pytest.mark.parametrize(
    "bad", ["../etc", "a/../../b", "UPPER", "x\x1b]0;pwned\x07", "a" * 300, "", "/abs", "a//b"]
)
def test_hostile_repository_names_are_refused(bad: str):
    assert repository_problem(bad) is not None


@pytest.mark.parametrize("bad", [1, None, ["v1"], {"v": 1}, 1.5, True])
def test_a_name_that_is_not_a_string_is_refused_by_type(bad: object):
    for problem_of in (tag_problem, repository_problem, digest_problem):
        problem = problem_of(bad)
        assert problem is not None and "string" in problem


def test_skipped_names_are_logged_escaped(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING):
        kept = valid_names(["v1", "v2\x1b[2J", "../../victim/manifests/pwned"], tag_problem, "src")
    assert kept == ["v1"]
    text = caplog.text
    assert "\x1b" not in text and "\\x1b" in text and "pwned" in text


# -- digests ----------------------------------------------------------------------------


@given(st.binary(max_size=64), st.sampled_from(["sha256", "sha512"]))
def test_computed_digests_pass(data: bytes, algorithm: str):
    assert digest_problem(f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}") is None


@given(st.text(max_size=140))
def test_a_digest_that_passes_is_canonical(digest: str):
    if digest_problem(digest) is None:
        algorithm, hexpart = digest.split(":")
        assert algorithm in ("sha256", "sha512")
        assert len(hexpart) == {"sha256": 64, "sha512": 128}[algorithm]
        assert set(hexpart) <= set("0123456789abcdef")


@pytest.mark.parametrize(
    "bad",
    [
        "sha384:" + "0" * 96,
        "sha512:" + "0" * 64,
        "sha256:" + "g" * 64,
        "Sha256:" + "0" * 64,
        "sha256",
        " sha256:" + "0" * 64,
        "sha256:" + "0" * 64 + "\n",
        "sha256:" + "0" * 62 + "/.",
    ],
)
def test_weak_or_malformed_digests_are_refused(bad: str):
    assert digest_problem(bad) is not None


# -- manifests and indexes --------------------------------------------------------------


def _manifest(**fields: Any) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": GOOD,
            "size": 2,
        },
        "layers": [],
    }
    doc.update(fields)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"layers": "x"}, "layers"),
        ({"layers": [None]}, "layers[0]"),
        ({"layers": [{"digest": GOOD, "size": "5"}]}, "layers[0].size"),
        ({"layers": [{"digest": GOOD, "size": -1}]}, "layers[0].size"),
        ({"layers": [{"digest": GOOD, "size": 10**20}]}, "layers[0].size"),
        ({"layers": [{"digest": GOOD, "size": True}]}, "layers[0].size"),
        ({"layers": [{"digest": 42, "size": 1}]}, "layers[0].digest"),
        ({"layers": [{"digest": "md5:" + "0" * 32, "size": 1}]}, "layers[0].digest"),
        ({"layers": [{"digest": GOOD, "size": 1, "urls": "http://x"}]}, "layers[0].urls"),
        (
            {"layers": [{"digest": GOOD, "size": 1, "annotations": {"a": 1}}]},
            "layers[0].annotations",
        ),
        ({"config": "x"}, "config"),
        ({"config": {"digest": GOOD, "size": 1.5}}, "config.size"),
        ({"annotations": ["a"]}, "annotations"),
        ({"subject": "x"}, "subject"),
        ({"mediaType": 7}, "mediaType"),
    ],
)
def test_wrong_typed_manifests_name_the_field(fields: dict[str, Any], named: str):
    with pytest.raises(rk.RegistryError) as err:
        parse_manifest(_manifest(**fields), OCI_MANIFEST, GOOD)
    assert named in str(err.value)


@pytest.mark.parametrize(
    ("entries", "named"),
    [
        ("x", "manifests"),
        (["x"], "manifests[0]"),
        ([{"digest": GOOD, "size": 1, "platform": "linux"}], "manifests[0].platform"),
        ([{"digest": GOOD, "size": 1, "platform": {"os": ["linux"]}}], "manifests[0].platform.os"),
    ],
)
def test_wrong_typed_indexes_name_the_field(entries: object, named: str):
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    with pytest.raises(rk.RegistryError) as err:
        parse_manifest(raw, OCI_INDEX, GOOD)
    assert named in str(err.value)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["layers", "config", "manifests", "subject"]), json_values))
def test_any_manifest_json_parses_or_raises_a_registrykit_error(fields: dict[str, Any]):
    try:
        parsed = parse_manifest(_manifest(**fields), None, GOOD)
    except rk.RegistryKitError:
        return
    for d in getattr(parsed, "layers", ()) + getattr(parsed, "manifests", ()):
        assert digest_problem(d.digest) is None and 0 <= d.size <= 2**53


@given(json_values)
def test_any_descriptor_json_parses_or_names_the_field(value: object):
    try:
        d = Descriptor.from_json(value, "layers[3]")
    except rk.RegistryError as exc:
        assert "layers[3]" in str(exc)
        return
    assert digest_problem(d.digest) is None


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(
            ["architecture", "os", "variant", "history", "rootfs", "config", "created"]
        ),
        json_values,
    )
)
def test_any_config_json_parses_or_raises_a_registrykit_error(doc: dict[str, Any]):
    with contextlib.suppress(rk.RegistryKitError):
        ImageConfig.parse(json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"config": "x"}, "config"),
        ({"config": {"Env": "PATH=/bin"}}, "config.Env"),
        ({"config": {"Env": [1]}}, "config.Env[0]"),
        ({"config": {"Labels": {"a": 1}}}, "config.Labels"),
        ({"rootfs": {"diff_ids": [None]}}, "rootfs.diff_ids[0]"),
        ({"history": "x"}, "history"),
        ({"os": {"linux": True}}, "os"),
    ],
)
def test_wrong_typed_configs_name_the_field(config: dict[str, Any], named: str):
    with pytest.raises(rk.RegistryError) as err:
        ImageConfig.parse(json.dumps(config).encode())
    assert named in str(err.value)


# -- declared sizes ---------------------------------------------------------------------


def test_a_stream_longer_than_declared_stops_at_the_declared_size():
    seen: list[bytes] = []
    with pytest.raises(rk.DigestMismatch, match="longer than its declared 10 bytes"):
        for chunk in sized_chunks(iter([b"x" * 8, b"y" * 8, b"z" * 8]), 10, "blob"):
            seen.append(chunk)
    assert sum(map(len, seen)) <= 10


def test_a_stream_of_the_declared_size_passes():
    assert b"".join(sized_chunks([b"ab", b"cd"], 4, "blob")) == b"abcd"


@pytest.mark.parametrize("digest", ["md5:" + "0" * 32, "sha256:../../x", "SHA256:" + "0" * 64])
def test_the_cache_never_makes_a_file_of_a_malformed_digest(tmp_path: Path, digest: str):
    ContentCache(tmp_path / "cache").put(digest, b"data")
    assert not (tmp_path / "cache").exists()


# -- tag lists, through an in-process transport ---------------------------------------


def _registry(answer: httpx.Response | Any) -> RegistryClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return answer(request) if callable(answer) else answer

    http = httpx.Client(transport=httpx.MockTransport(handler), timeout=5.0)
    return RegistryClient(http, "reg.test", "https://reg.test", ContentCache(None))


@given(json_values)
def test_any_tag_list_json_is_tags_or_a_registrykit_error(body: object):
    reg = _registry(httpx.Response(200, json=body))
    try:
        tags = reg.tags("app")
    except rk.RegistryKitError:
        return
    assert all(isinstance(t, str) and tag_problem(t) is None for t in tags)


@given(st.lists(st.text(max_size=20), max_size=8))
def test_tag_lists_keep_exactly_the_valid_tags(names: list[str]):
    reg = _registry(httpx.Response(200, json={"name": "app", "tags": names}))
    assert reg.tags("app") == [n for n in names if tag_problem(n) is None]


@pytest.mark.parametrize("doc", [{"tags": "v1"}, {"tags": [1]}, {"tags": [None]}, [1], "x"])
def test_wrong_typed_tag_lists_name_the_field(doc: object):
    reg = _registry(httpx.Response(200, json=doc))
    with pytest.raises(rk.RegistryError) as err:
        reg.tags("app")
    assert "tag list" in str(err.value)


def test_a_hostile_repository_name_never_becomes_a_request():
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={})

    reg = _registry(record)
    for call in (
        lambda: reg.tags("../victim"),
        lambda: reg.manifest("app", "../../victim/manifests/pwned"),
        lambda: reg.blob("app", "md5:" + "0" * 32),
        lambda: reg.delete_manifest("app", "sha256:../../x"),
    ):
        with pytest.raises(rk.InvalidReference):
            call()
    assert sent == []
