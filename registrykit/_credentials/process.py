"""Run a helper program with a hard timeout, and trim messages of secrets.

Credential helpers, cloud CLIs and runtime detection all start programs that
may hang on a keychain prompt or echo a secret; they share this one runner.
Every secret the client sends (passwords, tokens, Authorization values) is
remembered here, so any message built from text another party wrote (a
registry's error, a helper's output) can be scrubbed of all of them.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Sequence

__all__ = ["printable", "remember_secret", "run_tool", "scrub"]

# Registry text copied into a message is cut to this many characters.
MESSAGE_LIMIT = 300
# Secrets shorter than this are too likely to be ordinary words to replace.
_MIN_SECRET = 4
# The most secrets remembered at once (oldest forgotten first): tokens expire.
_MAX_SECRETS = 512
# C0 and C1 control characters and DEL; tabs and newlines are whitespace to
# collapse, not to keep.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPE_RE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)?")

_secrets: OrderedDict[str, None] = OrderedDict()
_secrets_lock = threading.Lock()


def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    input: str | None = None,
    errors: str = "replace",
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with a hard ``timeout``, capturing text stdout/stderr.

    The program runs in its own session so that, on timeout, the whole process
    group is killed: a shell script that started ``sleep`` would otherwise
    leave the child holding our pipes open. Raises ``FileNotFoundError`` when
    the program is missing and ``subprocess.TimeoutExpired`` on timeout; the
    caller turns those into messages, because only it knows what to advise.
    Output is decoded as UTF-8 after the program ended; ``errors="strict"``
    raises ``UnicodeDecodeError`` on anything else.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(
            input=input.encode() if input is not None else None, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()
        # Re-raised without the captured output: it may hold half a secret.
        raise subprocess.TimeoutExpired(list(argv), timeout) from None
    return subprocess.CompletedProcess(
        list(argv), proc.returncode, out.decode(errors=errors), err.decode(errors=errors)
    )


def remember_secret(secret: str) -> None:
    """Note a secret the client sends, so that :func:`scrub` removes it from messages.

    Its base64 form (as in a Basic ``Authorization`` value) is remembered too.
    """
    if len(secret) < _MIN_SECRET:
        return
    forms = [secret, base64.b64encode(secret.encode()).decode("ascii")]
    if secret.startswith(("Basic ", "Bearer ")):
        forms.append(secret.split(" ", 1)[1])
    with _secrets_lock:
        # "Bearer t" passes the length check whole, but "t" alone would blank every t.
        for form in (f for f in forms if len(f) >= _MIN_SECRET):
            _secrets[form] = None
            _secrets.move_to_end(form)
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)


def printable(text: str) -> str:
    """``text`` without terminal escape sequences and control characters."""
    return _CONTROL_RE.sub(" ", _ESCAPE_RE.sub("", text))


def scrub(text: str, *secrets: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text another party wrote, fit for a message: no secret, no control character, short.

    ``secrets`` adds to the ones remembered with :func:`remember_secret`.
    """
    with _secrets_lock:
        known = list(_secrets)
    # Longest first, so a secret that contains another is removed whole.
    for secret in sorted({*known, *(s for s in secrets if s)}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = " ".join(printable(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
