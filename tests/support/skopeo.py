"""skopeo as the referee: an isolated auth file and per-registry TLS/credential flags."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from registrykit.lab.local import LocalRegistry


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
