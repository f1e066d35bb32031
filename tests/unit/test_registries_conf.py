"""registries.conf honoured as podman reads it (containers/image sysregistriesv2, shortnames).

Blocked prefixes, short-name aliases and unqualified-search registries,
mirrors with a namespace and pull-from-mirror, and the files read when
CONTAINERS_REGISTRIES_CONF is set. The podman referee for the same
configurations is tests/integration/test_registries_conf_podman.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from support import oci as mt
from support.internals import (
    RegistrySettings,
    RetryPolicy,
    is_short_name,
    load_registry_settings,
    prefix_match,
)
from support.oci import compute_digest
from support.runtime import write

import registrykit as rk

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": compute_digest(b"{}"), "size": 2},
        "layers": [],
    }
).encode()
DIGEST = compute_digest(MANIFEST)


def _manifest() -> httpx.Response:
    return httpx.Response(
        200,
        content=MANIFEST,
        headers={"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": DIGEST},
    )


def _not_found() -> httpx.Response:
    return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})


def _settings(tmp_path: Path, text: str, **drop_ins: str) -> RegistrySettings:
    conf = write(tmp_path / "registries.conf", text)
    for name, body in drop_ins.items():
        write(tmp_path / "registries.conf.d" / f"{name}.conf", body)
    return load_registry_settings([conf], [])


def _client(settings: RegistrySettings, handler, **kw) -> rk.Client:
    return rk.Client(
        cache_dir=None, transport=httpx.MockTransport(handler), settings=settings, **kw
    )


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


# -- prefix matching (sysregistriesv2 refMatchingPrefix) ---------------------------


@pytest.mark.parametrize(
    ("name", "prefix", "length"),
    [
        ("example.com/app", "example.com", 11),
        ("example.com", "example.com", 11),
        ("example.com/ns/app", "example.com/ns", 14),
        ("example.com/nsx/app", "example.com/ns", -1),
        ("example.comx/app", "example.com", -1),
        ("example.com:5000/app", "example.com", 11),  # podman's documented quirk
        ("a.example.com/app", "*.example.com", 13),
        ("a.b.example.com/app", "*.example.com", 15),
        ("example.com/app", "*.example.com", -1),
        ("other.io/a.example.com/app", "*.example.com", -1),
        ("a.example.community/app", "*.example.com", -1),
    ],
)
def test_prefix_match(name: str, prefix: str, length: int) -> None:
    assert prefix_match(name, prefix) == length


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("myapp", True),
        ("myapp:1", True),
        ("team/app", True),
        ("team/app@sha256:" + "a" * 64, True),
        ("localhost/app", False),
        ("quay.io/app", False),
        ("reg:5000/app", False),
        ("docker.io/library/alpine", False),
    ],
)
def test_is_short_name(text: str, short: bool) -> None:
    assert is_short_name(text) is short


# -- 1. blocked ----------------------------------------------------------------------

BLOCKED = """
[[registry]]
location = "blocked.example.com"
blocked = true

[[registry]]
prefix = "*.evil.example"
blocked = true

[[registry]]
location = "ok.example.com/bad"
blocked = true

[[registry]]
location = "ok.example.com/bad/good"
"""


def test_blocked_prefixes_follow_the_longest_match(tmp_path: Path) -> None:
    s = _settings(tmp_path, BLOCKED)
    assert s.blocked_by("blocked.example.com/app") == "blocked.example.com"
    assert s.blocked_by("sub.evil.example/app") == "*.evil.example"
    assert s.blocked_by("evil.example/app") is None
    assert s.blocked_by("ok.example.com/bad/app") == "ok.example.com/bad"
    # The longest prefix governs: an unblocked entry inside a blocked one is allowed.
    assert s.blocked_by("ok.example.com/bad/good/app") is None
    assert s.blocked_by("ok.example.com/other") is None


@pytest.mark.parametrize(
    "call",
    [
        lambda c: rk.tags("blocked.example.com/app", client=c),
        lambda c: rk.inspect("sub.evil.example/app:1", client=c),
        lambda c: rk.delete("ok.example.com/bad/app:1", client=c),
        lambda c: rk.tag("ok.example.com/bad/app:1", "v2", client=c),
        lambda c: rk.copy("ok.example.com/app:1", "blocked.example.com/app:1", client=c),
        lambda c: rk.pull("blocked.example.com/app:1", "/nonexistent/layout", client=c),
        lambda c: c.registry("blocked.example.com"),
    ],
    ids=["tags", "inspect", "delete", "tag", "copy-to", "pull", "registry"],
)
def test_blocked_refuses_before_any_request(tmp_path: Path, call) -> None:
    with (
        _client(_settings(tmp_path, BLOCKED), _refuse) as c,
        pytest.raises(rk.PermissionDenied) as info,
    ):
        call(c)
    message = str(info.value)
    assert str(tmp_path / "registries.conf") in message
    assert "blocked = true" in message and "prefix = " in message


def test_v1_block_list_is_a_blocked_prefix(tmp_path: Path) -> None:
    s = _settings(tmp_path, "[registries.block]\nregistries = ['v1.example.com']\n")
    with _client(s, _refuse) as c, pytest.raises(rk.PermissionDenied):
        c.reference("v1.example.com/app:1")


# -- 2. short names ---------------------------------------------------------------------

SEARCH = """
unqualified-search-registries = ["a.example.com", "b.example.com"]

[aliases]
"myapp" = "quay.io/team/myapp"
"hub" = "docker.io/hubapp"
"""


def test_an_alias_wins_and_keeps_the_tag(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with (
        _client(_settings(tmp_path, SEARCH), _refuse) as c,
        caplog.at_level(logging.INFO, logger="registrykit._client"),
    ):
        assert str(c.reference("myapp:1")) == "quay.io/team/myapp:1"
        assert str(c.reference("myapp")) == "quay.io/team/myapp:latest"
        assert str(c.reference("hub@" + DIGEST)) == f"docker.io/library/hubapp@{DIGEST}"
        assert str(c.reference("myapp", repository=True)) == "quay.io/team/myapp"
    assert "as an alias" in caplog.text and "quay.io/team/myapp" in caplog.text


def test_one_search_registry_is_used(tmp_path: Path) -> None:
    s = _settings(tmp_path, 'unqualified-search-registries = ["reg.example.com:5000"]\n')
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"name": "team/app", "tags": []})

    with _client(s, handler) as c:
        assert str(c.reference("team/app:1")) == "reg.example.com:5000/team/app:1"
        assert rk.tags("team/app", client=c, progress=False).empty
    assert seen == ["https://reg.example.com:5000/v2/team/app/tags/list?n=1000"]


def test_no_configuration_means_docker_hub(tmp_path: Path) -> None:
    with _client(_settings(tmp_path, ""), _refuse) as c:
        assert str(c.reference("myapp")) == "docker.io/library/myapp:latest"
        assert str(c.reference("team/app:1")) == "docker.io/team/app:1"


def test_several_search_registries_are_tried_in_order_for_reads(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.host}")
        return _manifest() if request.url.host == "b.example.com" else _not_found()

    with _client(_settings(tmp_path, SEARCH), handler) as c:
        assert str(c.reference("team/app:1")) == "b.example.com/team/app:1"
    assert seen == ["HEAD a.example.com", "HEAD b.example.com"]


def test_several_search_registries_found_nowhere_lists_every_candidate(tmp_path: Path) -> None:
    with (
        _client(_settings(tmp_path, SEARCH), lambda r: _not_found()) as c,
        pytest.raises(rk.NotFound) as info,
    ):
        c.reference("team/app:1")
    assert "a.example.com/team/app:1" in str(info.value)
    assert "b.example.com/team/app:1" in str(info.value)


def test_writes_never_guess_between_search_registries(tmp_path: Path) -> None:
    with (
        _client(_settings(tmp_path, SEARCH), _refuse) as c,
        pytest.raises(rk.InvalidReference) as info,
    ):
        rk.delete("team/app:1", client=c)
    assert "a.example.com/team/app:1" in str(info.value)


def test_enforcing_mode_refuses_an_ambiguous_short_name(tmp_path: Path) -> None:
    s = _settings(tmp_path, 'short-name-mode = "enforcing"\n' + SEARCH)
    assert s.short_name_mode == "enforcing"
    with _client(s, _refuse) as c, pytest.raises(rk.InvalidReference) as info:
        c.reference("team/app:1")
    assert "enforcing" in str(info.value) and "b.example.com/team/app:1" in str(info.value)
    with _client(s, _refuse) as c:  # an alias is never ambiguous
        assert str(c.reference("myapp")) == "quay.io/team/myapp:latest"


def test_disabled_mode_tries_every_candidate(tmp_path: Path) -> None:
    s = _settings(tmp_path, 'short-name-mode = "disabled"\n' + SEARCH)
    with _client(s, lambda r: _manifest()) as c:
        assert str(c.reference("team/app:1")) == "a.example.com/team/app:1"


def test_a_blocked_candidate_is_skipped(tmp_path: Path) -> None:
    s = _settings(tmp_path, SEARCH + '\n[[registry]]\nlocation = "a.example.com"\nblocked = true\n')
    with _client(s, lambda r: _manifest()) as c:
        assert str(c.reference("team/app:1")) == "b.example.com/team/app:1"


def test_drop_in_aliases_merge_and_an_empty_value_resets(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        SEARCH,
        shortnames='[aliases]\n"tool" = "quay.io/tools/tool"\n"myapp" = ""\n',
    )
    assert s.aliases["tool"] == "quay.io/tools/tool"
    assert "myapp" not in s.aliases
    assert s.origins["alias tool"] == str(tmp_path / "registries.conf.d" / "shortnames.conf")


def test_bad_aliases_skip_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        s = _settings(tmp_path, '[aliases]\n"quay.io/x" = "quay.io/x"\n"y" = "y"\n')
    assert s.aliases == {} and s.sources == ()
    assert "skipping" in caplog.text


def test_podman_short_name_aliases_conf_wins(sandbox: Path) -> None:
    write(sandbox / "etc-containers" / "registries.conf", SEARCH)
    cache = write(
        sandbox / "var-cache" / "containers" / "short-name-aliases.conf",
        '[aliases]\n"myapp" = "registry.example.com/chosen/myapp"\n',
    )
    s = load_registry_settings()
    assert s.aliases["myapp"] == "registry.example.com/chosen/myapp"
    assert str(cache) in s.sources


# -- 3. mirrors ---------------------------------------------------------------------------

MIRRORS = """
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "mirror.example.com/cache"
[[registry.mirror]]
location = "digest.example.com"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tag.example.com"
pull-from-mirror = "tag-only"

[[registry]]
prefix = "registry.example.com/team"
location = "registry.example.com/team"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m.example.com/x"
"""


def _recording(urls: list[str]):
    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(f"{request.url.scheme}://{request.url.host}{request.url.path}")
        return _not_found()

    return handler


def test_mirror_namespace_goes_after_v2_and_pull_from_mirror_is_honoured(tmp_path: Path) -> None:
    urls: list[str] = []
    with _client(_settings(tmp_path, MIRRORS), _recording(urls)) as c:
        with pytest.raises(rk.NotFound):
            c.registry("docker.io").manifest("library/alpine", "3")
        assert urls == [
            "https://mirror.example.com/v2/cache/library/alpine/manifests/3",
            "https://tag.example.com/v2/library/alpine/manifests/3",
            "https://registry-1.docker.io/v2/library/alpine/manifests/3",
        ]
        urls.clear()
        with pytest.raises(rk.NotFound):
            c.registry("docker.io").manifest("library/alpine", DIGEST)
        assert [u.split("/v2/")[0] for u in urls] == [
            "https://mirror.example.com",
            "https://digest.example.com",
            "https://registry-1.docker.io",
        ]


def test_mirror_by_digest_only_and_a_namespaced_prefix(tmp_path: Path) -> None:
    urls: list[str] = []
    with _client(_settings(tmp_path, MIRRORS), _recording(urls)) as c:
        with pytest.raises(rk.NotFound):
            c.registry("registry.example.com").manifest("team/app", "1")
        assert urls == ["https://registry.example.com/v2/team/app/manifests/1"]
        urls.clear()
        with pytest.raises(rk.NotFound):
            c.registry("registry.example.com").manifest("team/app", DIGEST)
        assert urls[0] == f"https://m.example.com/v2/x/app/manifests/{DIGEST}"
        urls.clear()
        with pytest.raises(rk.NotFound):  # outside the prefix: no mirror
            c.registry("registry.example.com").manifest("other/app", DIGEST)
        assert len(urls) == 1


def test_an_http_daemon_json_mirror_is_used_over_http(tmp_path: Path) -> None:
    daemon = write(
        tmp_path / "daemon.json", json.dumps({"registry-mirrors": ["http://10.0.0.5:5000/"]})
    )
    s = load_registry_settings([], [daemon])
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}")
        return _manifest()

    with _client(s, handler) as c:
        c.registry("docker.io").manifest("library/alpine", "3")
    assert urls == ["http://10.0.0.5:5000/v2/library/alpine/manifests/3"]


def _main_down(tags_ok: bool = True):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "registry.example.com":
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/tags/list"):
            return httpx.Response(200, json={"name": "mirror/team/app", "tags": ["1", "2"]})
        return _manifest()

    return handler


def test_tags_and_inspect_come_from_the_mirror_when_the_registry_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = _settings(
        tmp_path,
        '[[registry]]\nlocation = "registry.example.com"\n'
        '[[registry.mirror]]\nlocation = "mirror.example.com/mirror"\n',
    )
    retry = RetryPolicy(attempts=1)
    with _client(s, _main_down(), retry=retry) as c, caplog.at_level(logging.INFO):
        registry = c.registry("registry.example.com")
        assert registry.tags("team/app") == ["1", "2"]
        assert registry.head_manifest("team/app", "1").digest == DIGEST
    assert "mirror.example.com" in caplog.text and "unreachable" in caplog.text


def test_without_a_mirror_an_unreachable_registry_still_raises(tmp_path: Path) -> None:
    with (
        _client(_settings(tmp_path, ""), _main_down(), retry=RetryPolicy(attempts=1)) as c,
        pytest.raises(rk.RegistryUnavailable),
    ):
        c.registry("registry.example.com").tags("team/app")


# -- 4. which files ---------------------------------------------------------------------


def test_containers_registries_conf_reads_both_drop_in_dirs(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = write(sandbox / "etc-containers" / "registries.conf", "")
    sys_drop = write(sandbox / "etc-containers" / "registries.conf.d" / "50-a.conf", "")
    user_drop = write(
        sandbox / "home" / ".config" / "containers" / "registries.conf.d" / "50-a.conf",
        'unqualified-search-registries = ["user.example.com"]\n',
    )
    env = write(sandbox / "custom.conf", 'unqualified-search-registries = ["env.example.com"]\n')
    monkeypatch.setenv("CONTAINERS_REGISTRIES_CONF", str(env))
    s = load_registry_settings()
    # Same name in both dirs: both are read, the system one first (dropInConfigs).
    assert s.sources == (str(env), str(sys_drop), str(user_drop))
    assert s.unqualified_search == ("user.example.com",)
    assert str(system) not in s.sources

    monkeypatch.delenv("CONTAINERS_REGISTRIES_CONF")
    monkeypatch.setenv("REGISTRIES_CONFIG_PATH", str(env))
    assert load_registry_settings().sources[0] == str(env)


def test_the_user_file_replaces_the_system_file_and_its_drop_ins(sandbox: Path) -> None:
    write(sandbox / "etc-containers" / "registries.conf", BLOCKED)
    write(sandbox / "etc-containers" / "registries.conf.d" / "10.conf", SEARCH)
    user = write(sandbox / "home" / ".config" / "containers" / "registries.conf", "")
    s = load_registry_settings()
    assert s.sources == (str(user),)
    assert s.blocked == () and s.unqualified_search == ()


def test_first_prefix_in_a_file_wins_a_later_file_replaces_it(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        '[[registry]]\nlocation = "x.example.com"\nblocked = true\n'
        '[[registry]]\nlocation = "x.example.com"\n',
    )
    assert s.blocked == ("x.example.com",)
    s = _settings(
        tmp_path,
        '[[registry]]\nlocation = "x.example.com"\nblocked = true\n',
        later='[[registry]]\nlocation = "x.example.com"\n',
    )
    assert s.blocked == ()


def test_v1_drop_ins_and_mixed_files_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        s = _settings(
            tmp_path,
            'unqualified-search-registries = ["v2.example.com"]\n'
            '[registries.search]\nregistries = ["v1.example.com"]\n',
            v1="[registries.block]\nregistries = ['x.example.com']\n",
        )
    assert s.sources == () and s.blocked == ()
    assert "mixing" in caplog.text and "v2 format" in caplog.text


def test_blobs_come_from_any_mirror_whatever_its_pull_from_mirror(tmp_path: Path) -> None:
    urls: list[str] = []
    blob = compute_digest(b"{}")
    with _client(_settings(tmp_path, MIRRORS), _recording(urls)) as c, pytest.raises(rk.NotFound):
        c.registry("docker.io").blob("library/alpine", blob)
    assert [u.split("/v2/")[0] for u in urls] == [
        "https://mirror.example.com",
        "https://digest.example.com",
        "https://tag.example.com",
        "https://registry-1.docker.io",
    ]
    assert urls[0].endswith(f"/v2/cache/library/alpine/blobs/{blob}")


def test_an_insecure_registry_that_is_down_still_reaches_its_mirror(tmp_path: Path) -> None:
    # The scheme probe of an insecure host fails when it is down; the mirror still answers.
    s = _settings(
        tmp_path,
        '[[registry]]\nlocation = "10.1.2.3:5000"\ninsecure = true\n'
        '[[registry.mirror]]\nlocation = "mirror.example.com"\n',
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "10.1.2.3":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"name": "app", "tags": ["1"]})

    with _client(s, handler, retry=RetryPolicy(attempts=1)) as c:
        assert c.registry("10.1.2.3:5000").tags("app") == ["1"]
