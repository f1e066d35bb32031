"""Shared fixtures: real local registries, a token server, skopeo, fixture images.

Tests live in tiers, one folder each, marked by folder (``pytest -m unit``):
``unit/`` (no processes, no registry), ``integration/`` (real registries; skopeo
referees), ``e2e/`` (browser, notebooks, binder, demo). Helpers are in ``support/``.

Registries are session-scoped (one process per mode) because starting one
costs a fraction of a second and every test would pay it; tests must
therefore use unique repository names rather than assume an empty registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from support.cloudclis import install_fake_clis
from support.credhelpers import Env, fake_helper_env
from support.images import FixtureImages, build_fixture_images
from support.internals import store as credential_store
from support.net import PUBLIC_REPOSITORY, TOKEN_PASSWORD, TOKEN_USER
from support.runtime import runtime_sandbox
from support.skopeo import Skopeo
from support.tokenserver import TokenServer

import registrykit as rk
from registrykit.lab.build import write_dir, write_oci_layout
from registrykit.lab.local import LocalRegistry, find_registry_binary

TESTS = Path(__file__).parent

# Hypothesis's 200 ms per-example deadline fails property tests on a loaded
# 2-core machine though the code is not slow; a pathological parser would still
# blow through two seconds.
settings.register_profile("registrykit", deadline=2000)
settings.load_profile("registrykit")
TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, the folder it lives in."""
    for item in items:
        try:
            tier = item.path.relative_to(TESTS).parts[0]
        except ValueError:  # notebooks collected by nbval
            continue
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


def _require_registry() -> None:
    try:
        find_registry_binary()
    except rk.RegistryUnavailable as exc:
        pytest.skip(str(exc))


# -- skopeo -------------------------------------------------------------------


@pytest.fixture(scope="session")
def referee(tmp_path_factory: pytest.TempPathFactory) -> Skopeo:
    """skopeo settings for every test registry; it never skips, so registries need not.

    Only a call to skopeo itself (``Skopeo.run``) skips when skopeo is missing.
    """
    return Skopeo(tmp_path_factory.mktemp("skopeo"))


@pytest.fixture(scope="session")
def skopeo(referee: Skopeo) -> Skopeo:
    if referee.binary is None:
        pytest.skip("skopeo is not installed")
    return referee


# -- registries -----------------------------------------------------------------


@pytest.fixture(scope="session")
def registry(referee: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry() as reg:
        referee.add(reg)
        yield reg


@pytest.fixture(scope="session")
def htpasswd_registry(referee: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry(auth="htpasswd", users={"reader": "reader-pass"}) as reg:
        referee.add(reg)
        yield reg


@pytest.fixture(scope="session")
def tls_registry(referee: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry(tls=True) as reg:
        referee.add(reg)
        yield reg


@pytest.fixture(scope="session")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    with TokenServer(
        tmp_path_factory.mktemp("tokenserver"),
        users={TOKEN_USER: TOKEN_PASSWORD},
        public_repositories=[PUBLIC_REPOSITORY],
    ) as server:
        yield server


@pytest.fixture(scope="session")
def token_registry(token_server: TokenServer, referee: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry(
        auth="token",
        token_realm=token_server.realm,
        token_service=token_server.service,
        token_issuer=token_server.issuer,
        token_rootcertbundle=token_server.rootcertbundle,
    ) as reg:
        referee.add(reg, creds=f"{TOKEN_USER}:{TOKEN_PASSWORD}")
        yield reg


# -- fixture images -------------------------------------------------------------


@pytest.fixture(scope="session")
def fixture_images(tmp_path_factory: pytest.TempPathFactory, referee: Skopeo) -> FixtureImages:
    root = tmp_path_factory.mktemp("fixture-images")
    images = build_fixture_images()
    oci = [(name, item) for name, item in images.items() if item.format == "oci"]
    layout = write_oci_layout(root / "layout", oci)
    # skopeo 1.9's oci: transport skips index.json entries with Docker media
    # types, so Docker-format fixtures go through its dir: transport instead.
    dirs = {
        name: write_dir(root / "dirs" / name, item)
        for name, item in images.items()
        if item.format == "docker"
    }
    return FixtureImages(layout=layout, images=images, dirs=dirs, skopeo=referee)


@pytest.fixture
def push_fixtures(fixture_images: FixtureImages) -> Callable[..., dict[str, tuple[str, str]]]:
    """``push_fixtures(registry, repo_prefix="fixtures")`` as a plain function."""
    return fixture_images.push_fixtures


# -- isolation -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets an empty home: no real credentials, caches or configs are touched."""
    home = tmp_path_factory.mktemp("home")
    # Where podman keeps logins without XDG_RUNTIME_DIR (this process only).
    monkeypatch.setattr(credential_store, "_RUN_CONTAINERS", home / "run-containers")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in (
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        "XDG_RUNTIME_DIR",
        "CONTAINERS_REGISTRIES_CONF",
    ):
        monkeypatch.delenv(name, raising=False)
    yield home
    rk.set_default_client(None)


@pytest.fixture
def client(isolated_home: Path) -> Iterator[Any]:
    """A client with no disk cache, closed after the test."""

    with rk.Client(cache_dir=None) as c:
        yield c


# -- fake credential helpers and cloud CLIs (unit and integration tests share them)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return fake_helper_env(tmp_path, monkeypatch)


@pytest.fixture
def clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_fake_clis(tmp_path, monkeypatch)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return runtime_sandbox(tmp_path, monkeypatch)
