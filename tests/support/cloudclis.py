"""Fake cloud CLIs (aws, gcloud, az) that record their argv and print a token."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TOKEN = "eyJ0b2tlbiI6ICJzZWNyZXQtY2xvdWQtdG9rZW4tOTg3NjUifQ"


FAKE_CLI = """#!{python}
import json, os, sys, time
with open(os.environ["FAKE_CLI_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
mode = os.environ.get("FAKE_CLI_MODE", "ok")
token = os.environ["FAKE_CLI_TOKEN"]
if mode == "hang":
    time.sleep(30)
if mode == "fail":
    print(token)
    sys.stderr.write("An error occurred (ExpiredToken): expired; token was " + token + "\\n")
    sys.exit(255)
if os.path.basename(sys.argv[0]) == "az":
    print(json.dumps({{"accessToken": token, "loginServer": "x.azurecr.io"}}))
else:
    print(token)
"""


def calls(root: Path) -> list[list[str]]:
    log = root / "argv.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def install_fake_clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put fake aws, gcloud and az (alone) on PATH; their calls are logged under tmp_path."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("aws", "gcloud", "az"):
        path = bindir / name
        path.write_text(FAKE_CLI.format(python=sys.executable))
        path.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("FAKE_CLI_LOG", str(tmp_path / "argv.log"))
    monkeypatch.setenv("FAKE_CLI_TOKEN", TOKEN)
    monkeypatch.delenv("FAKE_CLI_MODE", raising=False)
    return tmp_path
