"""The unit tier starts no processes: a test that tries fails and says where it belongs."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        raise AssertionError(f"unit tests start no processes ({args!r}); use tests/integration")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
