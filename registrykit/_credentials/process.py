"""Run a helper program with a hard timeout, and trim its messages of secrets.

Credential helpers, cloud CLIs and runtime detection all start programs that
may hang on a keychain prompt or echo a secret; they share this one runner.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

__all__ = ["run_tool", "scrub_secrets"]


def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with a hard ``timeout``, capturing text stdout/stderr.

    The program runs in its own session so that, on timeout, the whole process
    group is killed: a shell script that started ``sleep`` would otherwise
    leave the child holding our pipes open. Raises ``FileNotFoundError`` when
    the program is missing and ``subprocess.TimeoutExpired`` on timeout; the
    caller turns those into messages, because only it knows what to advise.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()
        # Re-raised without the captured output: it may hold half a secret.
        raise subprocess.TimeoutExpired(list(argv), timeout) from None
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def scrub_secrets(text: str, *secrets: str, limit: int = 400) -> str:
    """Trim a program's message for an exception, with any known secret removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
