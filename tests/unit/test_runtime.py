"""detect_runtime and load_registry_settings, against fake tools and config files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from support.internals import RegistrySettings, _parse_version, load_registry_settings
from support.runtime import write

from registrykit import RuntimeInfo, detect_runtime

# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("Docker version 28.2.2, build e6534b4", "28.2.2"),
        ("podman version 4.9.3", "4.9.3"),
        ("skopeo version 1.9.3", "1.9.3"),
        ("skopeo version 1.13.3 commit: 5ae6d0e", "1.13.3"),
        ("Docker version 24.0.7-rc.1, build abc", "24.0.7-rc.1"),
        ("podman version 5.0.0-dev", "5.0.0-dev"),
        ("some-tool 2.1", "2.1"),
        ("no digits here", None),
    ],
)
def test_parse_version(text: str, version: str | None) -> None:
    assert _parse_version(text) == version


def test_nothing_installed(sandbox: Path) -> None:
    info = detect_runtime()
    assert (info.runtime, info.docker, info.podman, info.skopeo) == (None, None, None, None)
    assert info.commands == {}
    assert info.auth_files == ()


def test_auth_files_in_read_order(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = sandbox / "home"
    docker = write(home / ".docker" / "config.json", "{}")
    podman = write(home / ".config" / "containers" / "auth.json", "{}")
    runtime_auth = write(sandbox / "run" / "containers" / "auth.json", "{}")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(sandbox / "run"))
    info = detect_runtime()
    assert info.auth_files == (str(runtime_auth), str(podman), str(docker))


def test_runtime_info_is_constructible_directly() -> None:
    info = RuntimeInfo(runtime=None, docker=None, podman=None, skopeo="1.9.3")
    assert info.commands == {"skopeo": "skopeo --version"}
    assert info.settings == RegistrySettings()


# --------------------------------------------------------------------------- registries.conf

V2 = """
unqualified-search-registries = ["registry.fedoraproject.org", "index.docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.gcr.io"

[[registry.mirror]]
location = "https://local-mirror:5000"
insecure = true

[[registry]]
location = "dev.example.com:5000"
insecure = true

[[registry]]
prefix = "bad.example.com/evil"
location = "bad.example.com/evil"
blocked = true
"""

V1 = """
[registries.search]
registries = ['docker.io', 'quay.io']

[registries.insecure]
registries = ['old-insecure.example.com', '10.1.2.3:5000']

[registries.block]
registries = ['blocked.example.com']
"""


def test_registries_conf_v2(tmp_path: Path) -> None:
    conf = write(tmp_path / "registries.conf", V2)
    s = load_registry_settings([conf], [])
    assert s.unqualified_search == ("registry.fedoraproject.org", "docker.io")
    assert s.mirrors == {"docker.io": ("mirror.gcr.io", "local-mirror:5000")}
    assert s.insecure == ("local-mirror:5000", "dev.example.com:5000")
    assert s.blocked == ("bad.example.com/evil",)
    assert s.sources == (str(conf),)
    assert s.is_insecure("dev.example.com:5000")
    assert not s.is_insecure("dev.example.com:5001")
    assert not s.is_insecure("docker.io")


def test_registries_conf_v1(tmp_path: Path) -> None:
    conf = write(tmp_path / "registries.conf", V1)
    s = load_registry_settings([conf], [])
    assert s.unqualified_search == ("docker.io", "quay.io")
    assert s.insecure == ("old-insecure.example.com", "10.1.2.3:5000")
    assert s.blocked == ("blocked.example.com",)
    assert s.mirrors == {}
    assert s.is_insecure("old-insecure.example.com")
    assert s.is_insecure("old-insecure.example.com:443")
    assert s.is_insecure("10.1.2.3:5000")
    assert not s.is_insecure("10.1.2.3:5001")


def test_drop_ins_override_in_name_order(tmp_path: Path) -> None:
    conf = write(tmp_path / "registries.conf", V2)
    write(
        tmp_path / "registries.conf.d" / "20-search.conf",
        'unqualified-search-registries = ["quay.io"]\n',
    )
    write(
        tmp_path / "registries.conf.d" / "10-docker.conf",
        '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
        '[[registry.mirror]]\nlocation = "dropin-mirror.example.com"\n',
    )
    write(tmp_path / "registries.conf.d" / "ignored.txt", "not = toml = at all")
    s = load_registry_settings([conf], [])
    assert s.sources == (
        str(conf),
        str(tmp_path / "registries.conf.d" / "10-docker.conf"),
        str(tmp_path / "registries.conf.d" / "20-search.conf"),
    )
    assert s.unqualified_search == ("quay.io",)
    # A drop-in's [[registry]] with the same prefix replaces the earlier one.
    assert s.mirrors == {"docker.io": ("dropin-mirror.example.com",)}
    assert s.blocked == ("bad.example.com/evil",)


def test_a_directory_stands_for_its_conf_files(tmp_path: Path) -> None:
    write(tmp_path / "d" / "b.conf", 'unqualified-search-registries = ["b.io"]\n')
    write(tmp_path / "d" / "a.conf", 'unqualified-search-registries = ["a.io"]\n')
    s = load_registry_settings([tmp_path / "d"], [])
    assert s.unqualified_search == ("b.io",)


def test_broken_toml_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = write(tmp_path / "registries.conf", V1)
    bad = write(tmp_path / "registries.conf.d" / "50-bad.conf", "[[registry]\nlocation = ")
    wrong = write(
        tmp_path / "registries.conf.d" / "60-wrong.conf",
        "unqualified-search-registries = 'not-a-list'\n",
    )
    with caplog.at_level(logging.WARNING, logger="registrykit._transport.settings"):
        s = load_registry_settings([good, tmp_path / "missing.conf"], [])
    assert s.sources == (str(good),)
    assert s.unqualified_search == ("docker.io", "quay.io")
    assert str(bad) in caplog.text and str(wrong) in caplog.text


def test_daemon_json(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    daemon = write(
        tmp_path / "daemon.json",
        json.dumps(
            {
                "insecure-registries": ["myreg.local:5000", "10.0.0.0/8", "fd00::/8", "plain"],
                "registry-mirrors": ["https://mirror.gcr.io", "http://10.0.0.5:5000/"],
                "log-driver": "json-file",
            }
        ),
    )
    broken = write(tmp_path / "broken.json", "{")
    with caplog.at_level(logging.WARNING):
        s = load_registry_settings([], [daemon, broken, tmp_path / "absent.json"])
    assert str(broken) in caplog.text
    assert s.sources == (str(daemon),)
    assert s.insecure == ("myreg.local:5000", "10.0.0.0/8", "fd00::/8", "plain")
    # An http:// mirror keeps its scheme: docker talks plain http to it.
    assert s.mirrors == {"docker.io": ("mirror.gcr.io", "http://10.0.0.5:5000")}


@pytest.mark.parametrize(
    ("host", "insecure"),
    [
        ("10.1.2.3", True),
        ("10.1.2.3:5000", True),
        ("11.1.2.3:5000", False),
        ("[fd00::1]:5000", True),
        ("fd00::1", True),
        ("fe80::1", False),
        ("myreg.local:5000", True),
        ("myreg.local", False),
        ("plain", True),
        ("plain:8080", True),
        ("sub.wild.example", True),
        ("wild.example", False),
        ("https://myreg.local:5000/v2/", True),
    ],
)
def test_is_insecure(host: str, insecure: bool) -> None:
    s = RegistrySettings(
        insecure=("myreg.local:5000", "10.0.0.0/8", "fd00::/8", "plain", "*.wild.example")
    )
    assert s.is_insecure(host) is insecure


def test_default_locations(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = write(sandbox / "etc-containers" / "registries.conf", V1)
    system_dropin = write(
        sandbox / "etc-containers" / "registries.conf.d" / "10-sys.conf",
        'unqualified-search-registries = ["sys.io"]\n',
    )
    daemon = write(
        sandbox / "etc-docker" / "daemon.json", json.dumps({"registry-mirrors": ["m1.io"]})
    )
    rootless = write(
        sandbox / "xdg" / "docker" / "daemon.json", json.dumps({"registry-mirrors": ["m2.io"]})
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(sandbox / "xdg"))
    s = load_registry_settings()
    assert s.sources == (str(system), str(system_dropin), str(daemon), str(rootless))
    assert s.mirrors == {"docker.io": ("m1.io", "m2.io")}
    assert s.unqualified_search == ("sys.io",)

    # The user's registries.conf replaces the system one, and then only the user
    # drop-ins are read (sysregistriesv2 newConfigWrapper).
    user = write(sandbox / "home" / ".config" / "containers" / "registries.conf", V2)
    user_dropin = write(
        sandbox / "home" / ".config" / "containers" / "registries.conf.d" / "10-sys.conf",
        'unqualified-search-registries = ["user.io"]\n',
    )
    s = load_registry_settings()
    assert s.sources[:2] == (str(user), str(user_dropin))
    assert s.unqualified_search == ("user.io",)
    assert s.blocked == ("bad.example.com/evil",)

    # CONTAINERS_REGISTRIES_CONF names the main file; podman still reads the
    # system and user drop-ins after it, so the user drop-in's search list wins.
    env_conf = write(sandbox / "custom" / "registries.conf", V1)
    monkeypatch.setenv("CONTAINERS_REGISTRIES_CONF", str(env_conf))
    s = load_registry_settings()
    assert s.sources[:3] == (str(env_conf), str(system_dropin), str(user_dropin))
    assert s.unqualified_search == ("user.io",)


def test_detect_runtime_reads_settings(sandbox: Path) -> None:
    write(sandbox / "etc-containers" / "registries.conf", V2)
    info = detect_runtime()
    assert info.settings.mirrors["docker.io"] == ("mirror.gcr.io", "local-mirror:5000")
    assert "mirror.gcr.io" in repr(info)
