"""registries.conf honoured as podman reads it (containers/image sysregistriesv2, shortnames).

Blocked prefixes, short-name aliases and unqualified-search registries, and
the files read when CONTAINERS_REGISTRIES_CONF is set; mirrors are in
test_registries_conf_mirrors.py. The podman referee for the same
configurations is tests/integration/test_registries_conf_podman.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from support.internals import is_short_name, load_registry_settings, prefix_match
from support.regconf import DIGEST, conf_settings, manifest_response, mock_client, not_found, refuse
from support.runtime import write

import registrykit as rk

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
    s = conf_settings(tmp_path, BLOCKED)
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
def test_blockedrefuses_before_any_request(tmp_path: Path, call) -> None:
    with (
        mock_client(conf_settings(tmp_path, BLOCKED), refuse) as c,
        pytest.raises(rk.PermissionDenied) as info,
    ):
        call(c)
    message = str(info.value)
    assert str(tmp_path / "registries.conf") in message
    assert "blocked = true" in message and "prefix = " in message


def test_v1_block_list_is_a_blocked_prefix(tmp_path: Path) -> None:
    s = conf_settings(tmp_path, "[registries.block]\nregistries = ['v1.example.com']\n")
    with mock_client(s, refuse) as c, pytest.raises(rk.PermissionDenied):
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
        mock_client(conf_settings(tmp_path, SEARCH), refuse) as c,
        caplog.at_level(logging.INFO, logger="registrykit._client"),
    ):
        assert str(c.reference("myapp:1")) == "quay.io/team/myapp:1"
        assert str(c.reference("myapp")) == "quay.io/team/myapp:latest"
        assert str(c.reference("hub@" + DIGEST)) == f"docker.io/library/hubapp@{DIGEST}"
        assert str(c.reference("myapp", repository=True)) == "quay.io/team/myapp"
    assert "as an alias" in caplog.text and "quay.io/team/myapp" in caplog.text


def test_one_search_registry_is_used(tmp_path: Path) -> None:
    s = conf_settings(tmp_path, 'unqualified-search-registries = ["reg.example.com:5000"]\n')
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"name": "team/app", "tags": []})

    with mock_client(s, handler) as c:
        assert str(c.reference("team/app:1")) == "reg.example.com:5000/team/app:1"
        assert rk.tags("team/app", client=c, progress=False).empty
    assert seen == ["https://reg.example.com:5000/v2/team/app/tags/list?n=1000"]


def test_no_configuration_means_docker_hub(tmp_path: Path) -> None:
    with mock_client(conf_settings(tmp_path, ""), refuse) as c:
        assert str(c.reference("myapp")) == "docker.io/library/myapp:latest"
        assert str(c.reference("team/app:1")) == "docker.io/team/app:1"


def test_several_search_registries_are_tried_in_order_for_reads(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.host}")
        return manifest_response() if request.url.host == "b.example.com" else not_found()

    with mock_client(conf_settings(tmp_path, SEARCH), handler) as c:
        assert str(c.reference("team/app:1")) == "b.example.com/team/app:1"
    assert seen == ["HEAD a.example.com", "HEAD b.example.com"]


def test_several_search_registries_found_nowhere_lists_every_candidate(tmp_path: Path) -> None:
    with (
        mock_client(conf_settings(tmp_path, SEARCH), lambda r: not_found()) as c,
        pytest.raises(rk.NotFound) as info,
    ):
        c.reference("team/app:1")
    assert "a.example.com/team/app:1" in str(info.value)
    assert "b.example.com/team/app:1" in str(info.value)


def test_writes_never_guess_between_search_registries(tmp_path: Path) -> None:
    with (
        mock_client(conf_settings(tmp_path, SEARCH), refuse) as c,
        pytest.raises(rk.InvalidReference) as info,
    ):
        rk.delete("team/app:1", client=c)
    assert "a.example.com/team/app:1" in str(info.value)


def test_enforcing_moderefuses_an_ambiguous_short_name(tmp_path: Path) -> None:
    s = conf_settings(tmp_path, 'short-name-mode = "enforcing"\n' + SEARCH)
    assert s.short_name_mode == "enforcing"
    with mock_client(s, refuse) as c, pytest.raises(rk.InvalidReference) as info:
        c.reference("team/app:1")
    assert "enforcing" in str(info.value) and "b.example.com/team/app:1" in str(info.value)
    with mock_client(s, refuse) as c:  # an alias is never ambiguous
        assert str(c.reference("myapp")) == "quay.io/team/myapp:latest"


def test_disabled_mode_tries_every_candidate(tmp_path: Path) -> None:
    s = conf_settings(tmp_path, 'short-name-mode = "disabled"\n' + SEARCH)
    with mock_client(s, lambda r: manifest_response()) as c:
        assert str(c.reference("team/app:1")) == "a.example.com/team/app:1"


def test_a_blocked_candidate_is_skipped(tmp_path: Path) -> None:
    s = conf_settings(
        tmp_path, SEARCH + '\n[[registry]]\nlocation = "a.example.com"\nblocked = true\n'
    )
    with mock_client(s, lambda r: manifest_response()) as c:
        assert str(c.reference("team/app:1")) == "b.example.com/team/app:1"


def test_drop_in_aliases_merge_and_an_empty_value_resets(tmp_path: Path) -> None:
    s = conf_settings(
        tmp_path,
        SEARCH,
        shortnames='[aliases]\n"tool" = "quay.io/tools/tool"\n"myapp" = ""\n',
    )
    assert s.aliases["tool"] == "quay.io/tools/tool"
    assert "myapp" not in s.aliases
    assert s.origins["alias tool"] == str(tmp_path / "registries.conf.d" / "shortnames.conf")


def test_bad_aliases_skip_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        s = conf_settings(tmp_path, '[aliases]\n"quay.io/x" = "quay.io/x"\n"y" = "y"\n')
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
    s = conf_settings(
        tmp_path,
        '[[registry]]\nlocation = "x.example.com"\nblocked = true\n'
        '[[registry]]\nlocation = "x.example.com"\n',
    )
    assert s.blocked == ("x.example.com",)
    s = conf_settings(
        tmp_path,
        '[[registry]]\nlocation = "x.example.com"\nblocked = true\n',
        later='[[registry]]\nlocation = "x.example.com"\n',
    )
    assert s.blocked == ()


def test_v1_drop_ins_and_mixed_files_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        s = conf_settings(
            tmp_path,
            'unqualified-search-registries = ["v2.example.com"]\n'
            '[registries.search]\nregistries = ["v1.example.com"]\n',
            v1="[registries.block]\nregistries = ['x.example.com']\n",
        )
    assert s.sources == () and s.blocked == ()
    assert "mixing" in caplog.text and "v2 format" in caplog.text


def test_a_repository_short_name_takes_the_first_registry_that_has_it(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.example.com":
            return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})
        return httpx.Response(200, json={"name": "team/app", "tags": ["1"]})

    with mock_client(conf_settings(tmp_path, SEARCH), handler) as c:
        assert str(c.reference("team/app", repository=True)) == "b.example.com/team/app"


def test_sync_resolves_its_source_and_refuses_an_ambiguous_destination(tmp_path: Path) -> None:
    s = conf_settings(tmp_path, 'unqualified-search-registries = ["a.example.com"]\n')
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, json={"name": "team/app", "tags": []})

    with mock_client(s, handler) as c:
        plan = rk.sync_plan("team/app", "reg.example.com/team/app", client=c)
    assert plan.attrs["source"] == "a.example.com/team/app"
    assert set(hosts) == {"a.example.com", "reg.example.com"}
    with (
        mock_client(conf_settings(tmp_path, SEARCH), refuse) as c,
        pytest.raises(rk.InvalidReference),
    ):
        rk.sync("reg.example.com/team/app", "team/app", client=c)


def test_mirror_locations_with_credentials_are_refused_without_echoing_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    conf = (
        '[[registry]]\nlocation = "docker.io"\n'
        '[[registry.mirror]]\nlocation = "bob:s3cr3t-pw@mirror.example.com/cache"\n'
    )
    assert conf_settings(tmp_path, conf).mirrors == {}
    daemon = write(
        tmp_path / "daemon.json",
        '{"registry-mirrors": ["https://bob:s3cr3t-pw@mirror.example.com", "http://a b"]}',
    )
    assert load_registry_settings([], [daemon]).mirrors == {}
    assert "s3cr3t-pw" not in caplog.text
    assert "credentials" in caplog.text


def test_a_blocked_namespace_is_refused_through_a_host_client_too(tmp_path: Path) -> None:
    # c.registry(host) is allowed when only host/namespace is blocked; the namespace
    # must still be refused where its URLs are built, not only where references are read.
    sent: list[str] = []

    def only_the_api_root(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/v2/":
            return httpx.Response(200)
        raise AssertionError(f"sent {request.url.path} to a blocked namespace")

    with mock_client(conf_settings(tmp_path, BLOCKED), only_the_api_root) as c:
        host = c.registry("ok.example.com")
        with pytest.raises(rk.PermissionDenied, match="blocked"):
            host.tags("bad/app")
        with pytest.raises(rk.PermissionDenied):
            host.manifest("bad/app", "1")
    assert set(sent) <= {"/v2/"}
