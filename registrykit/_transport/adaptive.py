"""How many requests a client keeps in flight: a fixed number, or one that adapts.

``Client(concurrency="auto")`` (the default) starts at ``START`` items in
flight and adapts to what each answer's latency says. The transport reports
every answer with its latency (``record``); its *inflation* is that latency
over the least seen for the same kind of request to the same host (a
manifest GET, a blob HEAD, ...: endpoints differ in service time), the
round trip without queueing.
After each window of answers sent while a fan-out had items waiting, the
window's median inflation decides (a median, so the few answers that paid
for a new connection do not):

* inflation at most ``GROW_BELOW``: round trips dominate, so the limit
  doubles. Even if what the requests wait for were saturated, twice as many
  in flight would still finish at least ``1/(1 - 1/(2 * GROW_BELOW))``
  (1.2x) as many a second;
* at least ``SHRINK_ABOVE``: requests mostly queue (a saturated CPU, here or
  at the registry), and fewer in flight finish as many: a quarter less,
  never below ``FLOOR``;
* the process busy at least ``CPU_BUSY`` of a core: the interpreter is the
  bottleneck, so the limit does not grow;
* 429, 503 or a Retry-After: the limit halves at once (again only after
  a window's worth of answers) and does not grow for ``COOLDOWN`` windows.

The limit never leaves ``[1, CAP]``, so threads and connections stay bounded
whatever a registry answers.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable
from typing import Literal

AUTO: Literal["auto"] = "auto"
START = 16  # small requests; a registry that minds says so (429) and is heeded
# Heavy queueing shrinks the limit no further: on a registry sharing the
# machine (RTT 0), 8 in flight measured slower than 16, and 16 no slower than 32.
FLOOR = 16
# 64 in flight was no faster than 32 at 20 and 80 ms on the benchmark rig
# (slower in two of three runs): more connections to open and keep, no gain.
CAP = 32
GROW_BELOW = 3.0
# Well above GROW_BELOW: on a machine shared with the registry (or with other
# work) more in flight still wins a larger share of the CPU, so shrink late.
SHRINK_ABOVE = 12.0
CPU_BUSY = 0.9  # process CPU seconds per wall second
COOLDOWN = 4  # windows without growth after a throttling answer
MIN_WINDOW = 8  # answers per window, at least (half the limit when larger): half a round
THROTTLING = frozenset({429, 503})

Concurrency = int | Literal["auto"]


class ConcurrencyLimit:
    """The in-flight limit of a client's fan-outs, fixed or adaptive (thread-safe).

    A fan-out says while it has items waiting for a slot (``waiting``); the
    transport reports each answer (``record``). A window counts only while
    some fan-out has items waiting, so the limit is what binds: a serial
    phase or the tail of a listing never reads as a slow limit.
    """

    def __init__(
        self,
        setting: Concurrency,
        *,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        if setting != AUTO and (isinstance(setting, bool) or not isinstance(setting, int)):
            raise ValueError(f"concurrency must be a positive int or 'auto', not {setting!r}")
        if isinstance(setting, int) and setting < 1:
            raise ValueError(f"concurrency must be at least 1, not {setting}")
        self.adaptive = setting == AUTO
        self.cap = CAP if isinstance(setting, str) else setting
        self._limit = START if isinstance(setting, str) else setting
        self._clock = clock
        self._cpu = cpu
        self._lock = threading.Lock()
        self._waiting = 0  # fan-outs with items waiting for a slot
        self._fastest: dict[str, float] = {}  # kind of request -> least latency seen
        self._cooldown = 0
        self._since_cut = max(MIN_WINDOW, self.cap)  # answers since the last halving
        self._start_window()

    def __repr__(self) -> str:
        mode = "auto" if self.adaptive else "fixed"
        return f"ConcurrencyLimit({mode}, limit={self._limit}, cap={self.cap})"

    @property
    def limit(self) -> int:
        return self._limit

    def waiting(self, fanouts: int) -> None:
        """A fan-out starts (1) or stops (-1) having items wait for a slot."""
        with self._lock:
            self._waiting += fanouts
            if self._waiting == fanouts == 1:
                self._start_window()  # the pipe just filled: measure from here

    def record(self, kind: str, latency: float, status: int, retry_after: bool = False) -> None:
        """One answer arrived ``latency`` seconds after its request of ``kind`` was sent.

        ``kind`` names the method, host and endpoint (``request_kind``).
        """
        if not self.adaptive:
            return
        with self._lock:
            self._since_cut += 1
            if status in THROTTLING or retry_after:
                self._throttled()
                return
            fastest = min(self._fastest.get(kind, latency), latency)
            self._fastest[kind] = fastest
            self._inflation.append(latency / fastest if fastest > 0 else 1.0)
            if not self._waiting:
                self._full = False
            if len(self._inflation) >= window_size(self._limit):
                self._close_window()

    # -- under the lock ---------------------------------------------------------------

    def _start_window(self) -> None:
        self._window_start = self._clock()
        self._window_cpu = self._cpu()
        self._inflation: list[float] = []
        self._full = True

    def _throttled(self) -> None:
        if self._since_cut >= window_size(self._limit):
            self._limit = max(1, self._limit // 2)
            self._since_cut = 0
        self._cooldown = COOLDOWN
        self._start_window()

    def _close_window(self) -> None:
        elapsed = self._clock() - self._window_start
        cpu_bound = elapsed > 0 and (self._cpu() - self._window_cpu) / elapsed >= CPU_BUSY
        inflation = statistics.median(self._inflation)
        full = self._full
        self._start_window()
        if not full:
            return
        if self._cooldown:
            self._cooldown -= 1
        elif inflation <= GROW_BELOW and not cpu_bound:
            self._limit = min(self.cap, self._limit * 2)
        elif inflation >= SHRINK_ABOVE and self._limit > FLOOR:
            self._limit = max(FLOOR, self._limit - self._limit // 4)


def window_size(limit: int) -> int:
    """Answers in one window at ``limit``: half a round, so a ramp costs little."""
    return max(MIN_WINDOW, limit // 2)


_ENDPOINT = re.compile(r"^/v2/.+?/(manifests|blobs|tags|referrers)(?:/|$)")


def request_kind(method: str, host: str, path: str) -> str:
    """What ``record`` compares latencies within: ``GET host manifests``, ``HEAD host blobs``.

    Anything else (the API root, a blob redirected to storage) is ``other``:
    the kinds stay a handful per host, never one per blob.
    """
    match = _ENDPOINT.match(path)
    return f"{method} {host} {match[1] if match else 'other'}"
