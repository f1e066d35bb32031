"""Concurrency that fits the latency (issue 14, goal 2), without a network.

The limit is driven by hand with a fake clock, then through a ``Client`` whose
``MockTransport`` answers after a delay, so the whole loop (transport reports,
fan-out reads the limit) is exercised. Also: the per-host pool shards keep
their bounds, and no cookie is kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest
from support.internals import (
    ConcurrencyLimit,
    HostTransport,
    RetryPolicy,
    TransportPolicy,
    adaptive,
)

import registrykit as rk

HOST = "registry.example.com"


class FakeTime:
    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def clock(self) -> float:
        return self.wall

    def process(self) -> float:
        return self.cpu


def _auto(times: FakeTime) -> ConcurrencyLimit:
    return ConcurrencyLimit("auto", clock=times.clock, cpu=times.process)


def _window(limit: ConcurrencyLimit, times: FakeTime, latency: float, *, cpu: float = 0.1) -> None:
    """One window of answers at ``latency`` while a fan-out has items waiting."""
    for _ in range(adaptive.window_size(limit.limit)):
        times.wall += latency / limit.limit
        times.cpu += cpu * latency / limit.limit
        limit.record(HOST, latency, 200)


def _primed(times: FakeTime, fastest: float = 0.02) -> ConcurrencyLimit:
    limit = _auto(times)
    limit.record(HOST, fastest, 200)  # the serial phase: the tag list
    limit.waiting(1)
    return limit


def test_a_fixed_concurrency_never_moves() -> None:
    times = FakeTime()
    limit = ConcurrencyLimit(5, clock=times.clock, cpu=times.process)
    limit.waiting(1)
    for status in (200, 200, 429, 503, 200):
        limit.record(HOST, 0.01, status, retry_after=True)
    assert (limit.limit, limit.cap, limit.adaptive) == (5, 5, False)


@pytest.mark.parametrize("setting", [0, -3, True, "fast", 2.5, None])
def test_a_concurrency_that_is_no_positive_int_or_auto_is_refused(setting: object) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        rk.Client(cache_dir=None, concurrency=setting)  # type: ignore[arg-type]


def test_the_default_is_auto_starting_at_sixteen() -> None:
    with rk.Client(cache_dir=None) as client:
        assert client.concurrency == 16
        assert "concurrency=auto" in repr(client)
    with rk.Client(cache_dir=None, concurrency=3) as client:
        assert client.concurrency == 3
        assert "concurrency=3" in repr(client)


def test_while_round_trips_dominate_the_limit_doubles_up_to_the_cap() -> None:
    times = FakeTime()
    limit = _primed(times)
    seen = [limit.limit]
    for _ in range(6):
        _window(limit, times, 0.025)  # 1.25x the fastest round trip
        seen.append(limit.limit)
    assert seen == [16, 32, 32, 32, 32, 32, 32]
    assert limit.limit == adaptive.CAP


def test_queueing_stops_growth_and_heavy_queueing_shrinks_to_the_start() -> None:
    times = FakeTime()
    limit = _primed(times)
    _window(limit, times, 0.025)
    assert limit.limit == 32
    _window(limit, times, 0.02 * 5)  # queueing, not yet heavy: hold
    assert limit.limit == 32
    for _ in range(10):
        _window(limit, times, 0.02 * 20)
    assert limit.limit == adaptive.FLOOR == 16


def test_a_busy_interpreter_does_not_grow() -> None:
    times = FakeTime()
    limit = _primed(times)
    _window(limit, times, 0.025, cpu=1.0)
    assert limit.limit == 16


def test_answers_with_no_fanout_waiting_decide_nothing() -> None:
    times = FakeTime()
    limit = _auto(times)
    limit.record(HOST, 0.02, 200)
    for _ in range(5):
        _window(limit, times, 0.02)  # a serial phase, or the tail of a fan-out
    assert limit.limit == 16
    limit.waiting(1)
    limit.waiting(-1)
    _window(limit, times, 0.02)
    assert limit.limit == 16


def test_each_kind_of_request_is_measured_against_its_own_round_trip() -> None:
    times = FakeTime()
    limit = _primed(times, fastest=0.001)  # a near host
    limit.record("far.example.com", 0.08, 200)
    for _ in range(adaptive.window_size(limit.limit)):
        times.wall += 0.01
        limit.record("far.example.com", 0.09, 200)
    assert limit.limit == 32


@pytest.mark.parametrize(("status", "retry_after"), [(429, False), (503, False), (200, True)])
def test_throttling_halves_once_a_window_then_holds_growth(status: int, retry_after: bool) -> None:
    times = FakeTime()
    limit = _primed(times)
    _window(limit, times, 0.025)
    assert limit.limit == 32
    for _ in range(5):  # a burst of throttling answers within one window
        limit.record(HOST, 0.02, status, retry_after=retry_after)
    assert limit.limit == 16
    for _ in range(adaptive.COOLDOWN):
        _window(limit, times, 0.02)
        assert limit.limit == 16
    _window(limit, times, 0.02)
    assert limit.limit == 32


def test_persistent_throttling_goes_down_to_one_and_no_further() -> None:
    times = FakeTime()
    limit = _primed(times)
    for _ in range(10):
        limit.record(HOST, 0.02, 429)
        _window(limit, times, 0.02 * 20)
    assert limit.limit == 1


# -- through a Client ----------------------------------------------------------------


class SlowRegistry:
    """Answers after ``delay`` seconds, counting the most requests in flight at once."""

    def __init__(self, delay: float, status: Callable[[int], int] = lambda n: 200) -> None:
        self.delay = delay
        self.status = status
        self.lock = threading.Lock()
        self.in_flight = self.most = self.count = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.count += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            n = self.count
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        return httpx.Response(self.status(n), json={})


def _get(client: rk.Client) -> Callable[[int], int]:
    def get(i: int) -> int:
        return client.http.get(f"https://{HOST}/v2/").status_code

    return get


def test_the_default_grows_past_its_start_when_round_trips_dominate() -> None:
    registry = SlowRegistry(0.01)
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(registry)) as client:
        client.http.get(f"https://{HOST}/v2/")  # the fastest round trip, before the fan-out
        assert client.map(_get(client), list(range(600))) == [200] * 600
        assert client.concurrency > 16
    assert 16 < registry.most <= 32


def test_a_fixed_concurrency_bounds_the_fanout() -> None:
    registry = SlowRegistry(0.002)
    with rk.Client(cache_dir=None, concurrency=3, transport=httpx.MockTransport(registry)) as c:
        c.map(_get(c), list(range(60)))
    assert registry.most <= 3


def test_the_default_backs_off_when_the_registry_throttles() -> None:
    registry = SlowRegistry(0.002, status=lambda n: 429 if n > 1 else 200)
    transport = httpx.MockTransport(registry)
    no_retry = RetryPolicy(attempts=1)
    with rk.Client(cache_dir=None, transport=transport, retry=no_retry) as client:
        client.http.get(f"https://{HOST}/v2/")
        assert set(client.map(_get(client), list(range(300)))) == {429}
        assert client.concurrency == 1


def test_the_first_failure_in_item_order_is_raised_and_nothing_new_starts() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            started.append(i)
        time.sleep(0.002)
        if i in (5, 3):
            raise KeyError(i)
        return i

    with rk.Client(cache_dir=None, concurrency=4) as client:
        with pytest.raises(KeyError) as info:
            client.map(work, list(range(100)))
        assert info.value.args == (3,)
        assert len(started) < 20
        assert client.map(lambda i: i * 2, list(range(50))) == [i * 2 for i in range(50)]


def test_a_nested_fanout_runs_serially_in_its_worker() -> None:
    with rk.Client(cache_dir=None, concurrency=2) as client:
        got = client.map(lambda i: client.map(lambda j: (i, j), [0, 1, 2]), [0, 1, 2, 3])
    assert got == [[(i, j) for j in range(3)] for i in range(4)]


# -- pools and cookies -----------------------------------------------------------------


def test_each_hosts_connections_are_sharded_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[int | None, set[int]]] = []

    class FakePool(httpx.BaseTransport):
        def __init__(self, *, limits: httpx.Limits, **kwargs: object) -> None:
            self.threads: set[int] = set()
            made.append((limits.max_connections, self.threads))

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.threads.add(threading.get_ident())
            return httpx.Response(200)

    monkeypatch.setattr(httpx, "HTTPTransport", FakePool)
    transport = HostTransport(TransportPolicy(certs_dirs=()), max_connections=32)
    barrier = threading.Barrier(20)

    def use() -> None:
        barrier.wait(timeout=10)
        for _ in range(5):
            transport.handle_request(httpx.Request("GET", f"https://{HOST}/v2/"))

    threads = [threading.Thread(target=use) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 8  # 32 connections in shards of 4
    assert all(limit == 4 for limit, _ in made)
    assert sum(len(users) for _, users in made) == 20  # each thread kept to its shard


def test_no_cookie_is_kept_or_sent() -> None:
    cookies: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    with rk.Client(cache_dir=None, transport=httpx.MockTransport(handler)) as client:
        client.http.get(f"https://{HOST}/v2/")
        client.http.get(f"https://{HOST}/v2/")
        assert len(client.http.cookies) == 0
    assert cookies == [None, None]


def test_a_fanout_runs_on_no_more_threads_than_its_limit() -> None:
    threads: set[int] = set()

    def work(i: int) -> int:
        threads.add(threading.get_ident())
        time.sleep(0.001)
        return i

    with rk.Client(cache_dir=None, concurrency=4) as client:
        assert client.map(work, list(range(80))) == list(range(80))
    assert len(threads) <= 4


def test_request_kinds_stay_few_whatever_the_path() -> None:
    kind = adaptive.request_kind
    assert kind("GET", "reg", "/v2/team/app/manifests/v1") == "GET reg manifests"
    assert kind("HEAD", "reg", "/v2/team/app/blobs/sha256:ab") == "HEAD reg blobs"
    # A blob redirected to storage must not become a kind of its own per digest.
    storage = {
        kind("GET", "bucket", f"/docker/registry/v2/blobs/sha256/{d}{d}/{d * 8}/data")
        for d in "0123456789"
    }
    assert storage == {"GET bucket other"}
