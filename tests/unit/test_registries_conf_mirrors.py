"""registries.conf mirrors as podman uses them (sysregistriesv2 PullSourcesFromReference).

A mirror location with a namespace goes after ``/v2/``; ``pull-from-mirror``
and ``mirror-by-digest-only`` limit which pulls use a mirror; an ``http://``
daemon.json mirror is plain http; tag lists and manifest HEADs come from a
mirror when the registry itself cannot be reached.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from support.internals import RetryPolicy, load_registry_settings
from support.oci import compute_digest
from support.regconf import DIGEST, conf_settings, manifest_response, mock_client, not_found
from support.runtime import write

import registrykit as rk

# -- mirrors ---------------------------------------------------------------------------

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
        return not_found()

    return handler


def test_mirror_namespace_goes_after_v2_and_pull_from_mirror_is_honoured(tmp_path: Path) -> None:
    urls: list[str] = []
    with mock_client(conf_settings(tmp_path, MIRRORS), _recording(urls)) as c:
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
    with mock_client(conf_settings(tmp_path, MIRRORS), _recording(urls)) as c:
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
        return manifest_response()

    with mock_client(s, handler) as c:
        c.registry("docker.io").manifest("library/alpine", "3")
    assert urls == ["http://10.0.0.5:5000/v2/library/alpine/manifests/3"]


def _main_down(tags_ok: bool = True):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "registry.example.com":
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/tags/list"):
            return httpx.Response(200, json={"name": "mirror/team/app", "tags": ["1", "2"]})
        return manifest_response()

    return handler


def test_tags_and_inspect_come_from_the_mirror_when_the_registry_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = conf_settings(
        tmp_path,
        '[[registry]]\nlocation = "registry.example.com"\n'
        '[[registry.mirror]]\nlocation = "mirror.example.com/mirror"\n',
    )
    retry = RetryPolicy(attempts=1)
    with mock_client(s, _main_down(), retry=retry) as c, caplog.at_level(logging.INFO):
        registry = c.registry("registry.example.com")
        assert registry.tags("team/app") == ["1", "2"]
        assert registry.head_manifest("team/app", "1").digest == DIGEST
    assert "mirror.example.com" in caplog.text and "unreachable" in caplog.text


def test_without_a_mirror_an_unreachable_registry_still_raises(tmp_path: Path) -> None:
    with (
        mock_client(conf_settings(tmp_path, ""), _main_down(), retry=RetryPolicy(attempts=1)) as c,
        pytest.raises(rk.RegistryUnavailable),
    ):
        c.registry("registry.example.com").tags("team/app")


def test_blobs_come_from_any_mirror_whatever_its_pull_from_mirror(tmp_path: Path) -> None:
    urls: list[str] = []
    blob = compute_digest(b"{}")
    with (
        mock_client(conf_settings(tmp_path, MIRRORS), _recording(urls)) as c,
        pytest.raises(rk.NotFound),
    ):
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
    s = conf_settings(
        tmp_path,
        '[[registry]]\nlocation = "10.1.2.3:5000"\ninsecure = true\n'
        '[[registry.mirror]]\nlocation = "mirror.example.com"\n',
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "10.1.2.3":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"name": "app", "tags": ["1"]})

    with mock_client(s, handler, retry=RetryPolicy(attempts=1)) as c:
        assert c.registry("10.1.2.3:5000").tags("app") == ["1"]


def test_a_down_registry_with_a_mirror_is_probed_once_per_client(tmp_path: Path) -> None:
    s = conf_settings(
        tmp_path,
        '[[registry]]\nlocation = "registry.example.com"\n'
        '[[registry.mirror]]\nlocation = "mirror.example.com/mirror"\n',
    )
    down = _main_down()
    probes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "registry.example.com" and request.url.path == "/v2/":
            probes.append(request.url.scheme)
        return down(request)

    # Named insecure, so the client probes for https or plain http before using it.
    insecure = ["registry.example.com"]
    with mock_client(s, handler, retry=RetryPolicy(attempts=1), insecure=insecure) as c:
        for _ in range(3):
            assert c.registry("registry.example.com").tags("team/app") == ["1", "2"]
    assert len(probes) == 1  # not one probe (and its retries) per operation
