"""The benchmarks' arithmetic: the latency proxy's delays and request counting, the floor.

The benchmark modules are scripts in ``benchmarks/``, not a package: they
are loaded from their files, so this runs whatever the import path.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and annotations look the module up
    spec.loader.exec_module(module)
    return module


proxy = _load("latency_proxy")
figures = _load("figures")


def test_each_direction_adds_half_the_round_trip() -> None:
    assert proxy.one_way_delay(0.080) == pytest.approx(0.040)
    assert proxy.due_at(10.0, 0.020) == pytest.approx(10.010)
    assert proxy.due_at(10.0, 0.0) == 10.0


def test_a_request_costs_one_rtt_kept_alive_and_two_on_a_new_connection() -> None:
    assert proxy.expected_request_time(0.020, new_connection=False) == pytest.approx(0.020)
    assert proxy.expected_request_time(0.020, new_connection=True) == pytest.approx(0.040)


def test_network_floor_is_waves_of_concurrency_plus_two_round_trips() -> None:
    # The figures of issue 14: 502 requests at 8 in flight and 20 ms; at 32 and 80 ms.
    assert proxy.network_floor(502, 8, 0.020) == pytest.approx((63 + 2) * 0.020)
    assert proxy.network_floor(502, 32, 0.080) == pytest.approx((16 + 2) * 0.080)
    assert proxy.network_floor(16, 8, 0.010) == pytest.approx(4 * 0.010)
    assert proxy.network_floor(17, 8, 0.010) == pytest.approx(5 * 0.010)
    assert proxy.network_floor(0, 8, 0.010) == pytest.approx(2 * 0.010)
    assert proxy.network_floor(502, 8, 0.0) == 0.0


def test_network_floor_refuses_no_concurrency() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        proxy.network_floor(10, 0, 0.020)


def test_rtts_parse_as_milliseconds() -> None:
    assert proxy.parse_rtts("0,20,80") == [0, 20, 80]
    assert proxy.parse_rtts(" 5 ") == [5]
    for bad in ("", "20,-1"):
        with pytest.raises(ValueError, match="non-negative"):
            proxy.parse_rtts(bad)


def test_proxy_forwards_only_to_loopback() -> None:
    assert proxy.loopback_target("127.0.0.1:5000") == ("127.0.0.1", 5000)
    assert proxy.loopback_target("localhost:5000") == ("localhost", 5000)
    assert proxy.loopback_target("[::1]:5000") == ("::1", 5000)
    with pytest.raises(ValueError, match="only forwards to loopback"):
        proxy.loopback_target("10.0.0.1:5000")


GET = b"GET /v2/ HTTP/1.1\r\nHost: r\r\n\r\n"
# The body holds what looks like a request: only Content-Length tells it is not one.
PUT = b"PUT /v2/a/manifests/1 HTTP/1.1\r\nHost: r\r\ncontent-LENGTH: 30\r\n\r\n" + GET.ljust(30)


def test_counter_counts_pipelined_requests_and_skips_bodies() -> None:
    counter = proxy.RequestCounter()
    counter.feed(GET + PUT + GET)
    assert counter.requests == 3


@given(st.lists(st.integers(min_value=0, max_value=len(GET + PUT + GET)), max_size=8))
def test_counter_is_indifferent_to_how_the_stream_is_chunked(cuts: list[int]) -> None:
    stream = GET + PUT + GET
    counter = proxy.RequestCounter()
    edges = [0, *sorted(cuts), len(stream)]
    for start, end in itertools.pairwise(edges):
        counter.feed(stream[start:end])
    assert counter.requests == 3


def test_counter_gives_up_on_a_head_that_never_ends() -> None:
    counter = proxy.RequestCounter()
    counter.feed(b"X" * (proxy.MAX_HEAD + 1))
    counter.feed(GET)
    assert counter.requests == 0


def test_counter_gives_up_on_a_content_length_it_cannot_read() -> None:
    counter = proxy.RequestCounter()
    counter.feed(b"PUT /x HTTP/1.1\r\nContent-Length: lots\r\n\r\n" + GET)
    assert counter.requests == 1


def test_summary_is_median_and_range() -> None:
    assert figures.summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
