"""The unit tier starts no processes: a test that tries fails and says where it belongs.

Nor does a unit test depend on the machine's docker: its daemon "does not
answer" unless a test says otherwise (asking would start ``docker version``).
``/run/containers`` is moved under the test's home by the shared
``isolated_home`` (tests/conftest.py), for every tier.
"""

from __future__ import annotations

import contextlib
import subprocess
from typing import Any

import pytest
from support.internals import credential_runtime


@pytest.fixture(autouse=True, scope="session")
def font_cache() -> None:
    """matplotlib builds its font cache on first use with ``fc-list``: do it before the guard."""
    with contextlib.suppress(ImportError):
        import matplotlib.font_manager  # noqa: F401


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        raise AssertionError(f"unit tests start no processes ({args!r}); use tests/integration")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture(autouse=True)
def no_docker_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credential_runtime, "docker_daemon", lambda timeout=0.0: None)
