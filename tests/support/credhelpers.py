"""Fake ``docker-credential-*`` helpers and an isolated home for the credential tests.

The helpers are small Python programs that keep their "keychain" in a JSON
file and log every call, so tests can check that secrets only travel over stdin.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

DOCKER_HUB_KEY = "https://index.docker.io/v1/"  # where docker stores Docker Hub logins
SECRET = "s3cr3t:with:colons-Zq9"
TOKEN = "idtok-8f7e6d5c4b3a"


HELPER = """#!{python}
import json, os, sys, time
name = os.path.basename(sys.argv[0]).removeprefix("docker-credential-")
verb = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
mode = os.environ.get("FAKE_HELPER_MODE", "ok")
with open(os.environ["FAKE_HELPER_LOG"], "a") as log:
    stripped = data.strip()
    log.write(json.dumps({{
        "helper": name, "argv": sys.argv[1:],
        "stdin_in_argv": bool(stripped) and any(stripped in a for a in sys.argv),
    }}) + "\\n")
if mode == "hang":
    time.sleep(30)
if mode == "fail":
    print("keychain is locked; also echoing: " + data)
    sys.exit(3)
path = os.path.join(os.environ["FAKE_KEYCHAINS"], name + ".json")
chain = json.load(open(path)) if os.path.exists(path) else {{}}
def save():
    json.dump(chain, open(path, "w"))
if verb == "get":
    entry = chain.get(stripped)
    if entry is None:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({{"ServerURL": stripped, **entry}}))
elif verb == "store":
    d = json.loads(data)
    chain[d["ServerURL"]] = {{"Username": d["Username"], "Secret": d["Secret"]}}
    save()
elif verb == "erase":
    if stripped not in chain:
        print("credentials not found in native keychain")
        sys.exit(1)
    del chain[stripped]
    save()
elif verb == "list":
    print(json.dumps({{k: v["Username"] for k, v in chain.items()}}))
else:
    sys.exit(2)
"""


class Env:
    """Paths of an isolated home with fake helpers on PATH."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.bin = root / "bin"
        self.keychains = root / "keychains"
        self.log = root / "helper.log"
        for d in (self.home, self.bin, self.keychains):
            d.mkdir()

    @property
    def docker_config(self) -> Path:
        return self.home / ".docker" / "config.json"

    def add_helper(self, name: str) -> Path:
        path = self.bin / f"docker-credential-{name}"
        path.write_text(HELPER.format(python=sys.executable))
        path.chmod(0o755)
        return path

    def keychain(self, name: str) -> dict[str, Any]:
        path = self.keychains / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def set_keychain(self, name: str, entries: dict[str, tuple[str, str]]) -> None:
        doc = {k: {"Username": u, "Secret": s} for k, (u, s) in entries.items()}
        (self.keychains / f"{name}.json").write_text(json.dumps(doc))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    return path


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def assert_no_secret(text: str) -> None:
    for secret in (SECRET, TOKEN, b64(f"alice:{SECRET}")):
        assert secret not in text


def fake_helper_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    """An empty home with PATH holding only fake helpers (added with ``add_helper``)."""
    e = Env(tmp_path)
    monkeypatch.setenv("HOME", str(e.home))
    monkeypatch.setenv("PATH", str(e.bin))
    monkeypatch.setenv("FAKE_KEYCHAINS", str(e.keychains))
    monkeypatch.setenv("FAKE_HELPER_LOG", str(e.log))
    for var in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "FAKE_HELPER_MODE"):
        monkeypatch.delenv(var, raising=False)
    return e
