"""Shared fixtures: real local registries, a token server, skopeo, fixture images.

Registries are session-scoped (one process per mode) because starting one
costs a fraction of a second and every test would pay it; tests must
therefore use unique repository names rather than assume an empty registry.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tokenserver import TokenServer

from registrykit._model.errors import RegistryUnavailable
from registrykit.lab.build import (
    HistoryStep,
    Image,
    ImageFormat,
    Index,
    Layer,
    build_image,
    build_index,
    gzip_layer,
    tar_layer,
    write_dir,
    write_oci_layout,
)
from registrykit.lab.local import LocalRegistry, find_registry_binary

TOKEN_USER = "tokenuser"
TOKEN_PASSWORD = "token-pass"  # test-only credential for the fake token server
PUBLIC_REPOSITORY = "public/hello"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _require_registry() -> None:
    try:
        find_registry_binary()
    except RegistryUnavailable as exc:
        pytest.skip(str(exc))


# -- skopeo -------------------------------------------------------------------


class Skopeo:
    """skopeo with an isolated auth file and per-registry TLS/credential flags.

    Registries are ``add``-ed so that ``copy``/``inspect`` pick the right
    ``--*-tls-verify``/``--*-cert-dir``/``--*-creds`` flags from the host in a
    ``docker://`` reference; explicit ``creds=`` wins.
    """

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("skopeo")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.auth_file = workdir / "auth.json"
        self.auth_file.write_text('{"auths": {}}')
        self._hosts: dict[str, tuple[Path | None, str | None]] = {}
        env = dict(os.environ)
        # Never read or write the user's credentials.
        env["REGISTRY_AUTH_FILE"] = str(self.auth_file)
        self.env = env

    def add(self, registry: LocalRegistry, creds: str | None = None) -> None:
        cert_dir: Path | None = None
        if registry.ca_file is not None:
            # A dedicated directory holding only the CA: c/image treats every
            # *.key in a cert dir as a client key and demands a matching *.cert.
            cert_dir = self.workdir / "certs" / registry.host.replace(":", "_")
            cert_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(registry.ca_file, cert_dir / "ca.crt")
        if creds is None and registry.username and registry.password:
            creds = f"{registry.username}:{registry.password}"
        self._hosts[registry.host] = (cert_dir, creds)

    def run(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        if self.binary is None:
            pytest.skip("skopeo is not installed")
        cmd = [self.binary, "--insecure-policy", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args[:1])} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def _flags(self, ref: str, side: str, creds: str | None) -> list[str]:
        if not ref.startswith("docker://"):
            return []
        host = ref[len("docker://") :].split("/", 1)[0]
        cert_dir, known_creds = self._hosts.get(host, (None, None))
        prefix = f"--{side}-" if side else "--"
        flags = [f"{prefix}cert-dir={cert_dir}"] if cert_dir else [f"{prefix}tls-verify=false"]
        creds = creds or known_creds
        if creds:
            flags.append(f"{prefix}creds={creds}")
        return flags

    def copy(
        self,
        src: str,
        dst: str,
        *extra: str,
        src_creds: str | None = None,
        dest_creds: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        flags = self._flags(src, "src", src_creds) + self._flags(dst, "dest", dest_creds)
        return self.run("copy", *flags, *extra, src, dst, check=check)

    def inspect(self, ref: str, *extra: str, creds: str | None = None) -> Any:
        """``skopeo inspect`` as parsed JSON (``--raw``/``--config`` included)."""
        out = self.run("inspect", *self._flags(ref, "", creds), *extra, ref).stdout
        return json.loads(out)


@pytest.fixture(scope="session")
def skopeo(tmp_path_factory: pytest.TempPathFactory) -> Skopeo:
    helper = Skopeo(tmp_path_factory.mktemp("skopeo"))
    if helper.binary is None:
        pytest.skip("skopeo is not installed")
    return helper


# -- registries -----------------------------------------------------------------


@pytest.fixture(scope="session")
def registry(skopeo: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry() as reg:
        skopeo.add(reg)
        yield reg


@pytest.fixture(scope="session")
def htpasswd_registry(skopeo: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry(auth="htpasswd", users={"reader": "reader-pass"}) as reg:
        skopeo.add(reg)
        yield reg


@pytest.fixture(scope="session")
def tls_registry(skopeo: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry(tls=True) as reg:
        skopeo.add(reg)
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
def token_registry(token_server: TokenServer, skopeo: Skopeo) -> Iterator[LocalRegistry]:
    _require_registry()
    with LocalRegistry(
        auth="token",
        token_realm=token_server.realm,
        token_service=token_server.service,
        token_issuer=token_server.issuer,
        token_rootcertbundle=token_server.rootcertbundle,
    ) as reg:
        skopeo.add(reg, creds=f"{TOKEN_USER}:{TOKEN_PASSWORD}")
        yield reg


# -- fixture images -------------------------------------------------------------


@dataclass
class FixtureImages:
    """Deterministic images, on disk in ``layout`` (OCI) and ``dirs`` (skopeo dir:)."""

    layout: Path
    images: dict[str, Image | Index]
    dirs: dict[str, Path]
    skopeo: Skopeo
    tag: str = "1.0"
    pushed: dict[tuple[str, str], dict[str, tuple[str, str]]] = field(default_factory=dict)

    def source(self, name: str) -> str:
        """The skopeo source reference of a fixture (oci: or dir:)."""
        if name in self.dirs:
            return f"dir:{self.dirs[name]}"
        return f"oci:{self.layout}:{name}"

    def push_fixtures(
        self, registry: LocalRegistry, repo_prefix: str = "fixtures"
    ) -> dict[str, tuple[str, str]]:
        """Push every fixture; return name -> (reference without transport, digest).

        ``--preserve-digests`` makes skopeo refuse any conversion, so the
        registry holds exactly the built manifests. Repeated calls for the same
        registry and prefix push once.
        """
        key = (registry.host, repo_prefix)
        if key in self.pushed:
            return self.pushed[key]
        result: dict[str, tuple[str, str]] = {}
        for name, item in self.images.items():
            ref = f"{registry.host}/{repo_prefix}/{name}:{self.tag}"
            extra = ["--preserve-digests"]
            if isinstance(item, Index):
                extra.append("--all")
            self.skopeo.copy(self.source(name), f"docker://{ref}", *extra)
            result[name] = (ref, item.digest)
        self.pushed[key] = result
        return result


def build_fixture_images() -> dict[str, Image | Index]:
    """The fixture set; same bytes, same digests, on every machine."""
    base = gzip_layer(
        tar_layer(
            {
                "etc/os-release": b'NAME="registrykit fixture"\nID=fixture\n',
                "bin/hello": b"#!/bin/sh\necho hello\n",
                "bin/sh": b"",
            }
        )
    )
    app = gzip_layer(tar_layer({"app/main.py": b"print('hello')\n", "app/data.bin": bytes(4096)}))
    cleanup = gzip_layer(tar_layer({"app/data.bin": None, "app/README": b"fixture\n"}))
    layers: list[Layer] = [base, app, cleanup]
    history: list[str | HistoryStep] = [
        "ADD rootfs /",
        HistoryStep("ENV APP=/app", empty_layer=True),
        "COPY app /app",
        "RUN rm /app/data.bin",
        HistoryStep('CMD ["/bin/hello"]', empty_layer=True),
    ]
    common: dict[str, Any] = {
        "history": history,
        "env": ["PATH=/bin", "APP=/app"],
        "cmd": ["/bin/hello"],
        "labels": {"org.opencontainers.image.title": "fixture"},
    }
    single = build_image(layers, **common)
    docker = build_image(layers, format="docker", **common)

    def arm(fmt: ImageFormat) -> Image:
        layer = gzip_layer(tar_layer({"etc/arch": b"arm64\n"}))
        return build_image([base, layer], architecture="arm64", variant="v8", format=fmt)

    def amd(fmt: ImageFormat) -> Image:
        layer = gzip_layer(tar_layer({"etc/arch": b"amd64\n"}))
        return build_image([base, layer], format=fmt)

    return {
        "single": single,
        "docker": docker,
        "multi": build_index([amd("oci"), arm("oci")]),
        "manifest-list": build_index([amd("docker"), arm("docker")], format="docker"),
    }


@pytest.fixture(scope="session")
def fixture_images(tmp_path_factory: pytest.TempPathFactory, skopeo: Skopeo) -> FixtureImages:
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
    return FixtureImages(layout=layout, images=images, dirs=dirs, skopeo=skopeo)


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
    import registrykit as rk

    yield home
    rk.set_default_client(None)


@pytest.fixture
def client(isolated_home: Path) -> Iterator[Any]:
    """A client with no disk cache, closed after the test."""
    import registrykit as rk

    with rk.Client(cache_dir=None) as c:
        yield c
