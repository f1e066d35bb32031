"""registries.conf read by podman and registrykit alike: the same file, the same answers.

podman (4.3, in a sandbox per test: tests/support/podman.py) is the referee.
Both read the file ``CONTAINERS_REGISTRIES_CONF`` names, plus the system and
user drop-in directories (sysregistriesv2). Each test writes one
configuration and checks that podman and registrykit resolve the same short
name to the same image, or refuse the same blocked name. podman runs without
a terminal here, as a library call does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.internals import RegistrySettings, RetryPolicy
from support.podman import Podman, podman_sandbox

import registrykit as rk
from registrykit.lab.build import build_image, gzip_layer, tar_layer, write_oci_layout
from registrykit.lab.local import LocalRegistry

pytestmark = pytest.mark.timeout(240)

# A port nothing listens on: a search registry that cannot be reached.
DEAD = "127.0.0.1:9"


@pytest.fixture
def podman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Podman:
    return podman_sandbox(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def pushed(registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``HOST/rkconf/app:1``, ``HOST/rkblocked/app:1`` and ``HOST/mirror/app:1`` on the registry."""
    image = build_image([gzip_layer(tar_layer({"conf.txt": b"registries.conf"}))])
    layout = write_oci_layout(tmp_path_factory.mktemp("conf-image"), [("1", image)])
    with rk.Client(cache_dir=None, settings=RegistrySettings()) as c:
        for repo in ("rkconf/app", "rkblocked/app", "mirror/rkmirrored/app"):
            rk.push(layout, f"{registry.host}/{repo}:1", client=c)
    return registry.host


def _conf(podman: Podman, text: str) -> None:
    (podman.root / "registries.conf").write_text(text)


def _podman_pull(podman: Podman, name: str) -> tuple[bool, str]:
    proc = podman.run("pull", "--tls-verify=false", name, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def _insecure(host: str) -> str:
    return f'[[registry]]\nlocation = "{host}"\ninsecure = true\n'


def test_one_search_registry_resolves_a_short_name(podman: Podman, pushed: str) -> None:
    _conf(podman, f'unqualified-search-registries = ["{pushed}"]\n' + _insecure(pushed))
    ok, out = _podman_pull(podman, "rkconf/app:1")
    assert ok, out
    assert f"{pushed}/rkconf/app:1" in podman.names()
    with rk.Client(cache_dir=None) as c:
        assert str(c.reference("rkconf/app:1")) == f"{pushed}/rkconf/app:1"
        assert rk.inspect("rkconf/app:1", client=c).name.startswith(f"{pushed}/rkconf/app")
        assert str(podman.root / "registries.conf") in c.settings.sources


def test_several_search_registries_are_tried_in_order(podman: Podman, pushed: str) -> None:
    _conf(
        podman,
        f'unqualified-search-registries = ["{DEAD}", "{pushed}"]\n'
        + _insecure(DEAD)
        + _insecure(pushed),
    )
    ok, out = _podman_pull(podman, "rkconf/app:1")
    assert ok, out
    assert f"{pushed}/rkconf/app:1" in podman.names()
    with rk.Client(cache_dir=None, retry=RetryPolicy(attempts=1)) as c:
        assert str(c.reference("rkconf/app:1")) == f"{pushed}/rkconf/app:1"


def test_enforcing_mode_refuses_an_ambiguous_short_name(podman: Podman, pushed: str) -> None:
    _conf(
        podman,
        'short-name-mode = "enforcing"\n'
        f'unqualified-search-registries = ["{DEAD}", "{pushed}"]\n' + _insecure(pushed),
    )
    ok, out = _podman_pull(podman, "rkconf/app:1")
    assert not ok and "enforc" in out
    with rk.Client(cache_dir=None) as c, pytest.raises(rk.InvalidReference, match="enforcing"):
        c.reference("rkconf/app:1")


def test_an_alias_wins_over_the_search_registries(podman: Podman, pushed: str) -> None:
    _conf(
        podman,
        f'unqualified-search-registries = ["{DEAD}"]\n'
        + _insecure(pushed)
        + f'[aliases]\n"rkalias" = "{pushed}/rkconf/app"\n',
    )
    ok, out = _podman_pull(podman, "rkalias:1")
    assert ok, out
    assert f"{pushed}/rkconf/app:1" in podman.names()
    with rk.Client(cache_dir=None) as c:
        assert str(c.reference("rkalias:1")) == f"{pushed}/rkconf/app:1"


def test_blocked_namespace_is_refused_by_both(podman: Podman, pushed: str, tmp_path: Path) -> None:
    _conf(
        podman,
        _insecure(pushed) + f'[[registry]]\nlocation = "{pushed}/rkblocked"\nblocked = true\n',
    )
    ok, out = _podman_pull(podman, f"{pushed}/rkblocked/app:1")
    assert not ok and "blocked" in out
    ok, out = _podman_pull(podman, f"{pushed}/rkconf/app:1")
    assert ok, out
    push = podman.run(
        "push",
        "--tls-verify=false",
        f"{pushed}/rkconf/app:1",
        f"{pushed}/rkblocked/app:2",
        check=False,
    )
    assert push.returncode != 0 and "blocked" in push.stderr
    with rk.Client(cache_dir=None) as c:
        for call in (
            lambda: rk.pull(f"{pushed}/rkblocked/app:1", tmp_path / "out", client=c),
            lambda: rk.copy(f"{pushed}/rkconf/app:1", f"{pushed}/rkblocked/app:2", client=c),
            lambda: rk.inspect(f"{pushed}/rkblocked/app:1", client=c),
            lambda: rk.delete(f"{pushed}/rkblocked/app:1", dry_run=True, client=c),
        ):
            with pytest.raises(rk.PermissionDenied, match="blocked"):
                call()
        assert rk.inspect(f"{pushed}/rkconf/app:1", client=c).digest


def test_a_mirror_with_a_namespace_serves_an_unreachable_registry(
    podman: Podman, pushed: str
) -> None:
    # The registry itself does not resolve; only its mirror (a namespace on
    # the local registry) holds the image.
    _conf(
        podman,
        '[[registry]]\nprefix = "rk-unreachable.invalid"\nlocation = "rk-unreachable.invalid"\n'
        f'[[registry.mirror]]\nlocation = "{pushed}/mirror"\ninsecure = true\n',
    )
    ok, out = _podman_pull(podman, "rk-unreachable.invalid/rkmirrored/app:1")
    assert ok, out
    with rk.Client(cache_dir=None, retry=RetryPolicy(attempts=1)) as c:
        info = rk.inspect("rk-unreachable.invalid/rkmirrored/app:1", client=c)
        assert info.digest
        assert c.registry("rk-unreachable.invalid").tags("rkmirrored/app") == ["1"]


def test_user_drop_ins_apply_with_containers_registries_conf(podman: Podman, pushed: str) -> None:
    # CONTAINERS_REGISTRIES_CONF names the main file; the user's drop-in
    # directory is still read after it, by podman and registrykit alike.
    _conf(podman, f'unqualified-search-registries = ["{DEAD}"]\n' + _insecure(pushed))
    drop_in = podman.root / "home" / ".config" / "containers" / "registries.conf.d" / "50-rk.conf"
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text(f'unqualified-search-registries = ["{pushed}"]\n')
    ok, out = _podman_pull(podman, "rkconf/app:1")
    assert ok, out
    assert f"{pushed}/rkconf/app:1" in podman.names()
    with rk.Client(cache_dir=None) as c:
        assert str(drop_in) in c.settings.sources
        assert str(c.reference("rkconf/app:1")) == f"{pushed}/rkconf/app:1"
