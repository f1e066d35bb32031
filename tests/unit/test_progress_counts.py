"""Progress bars (issue 14 goal 4): counts and totals right, redrawn in batches, shown by default.

A fake ``tqdm.auto.tqdm`` records what the library asks of the bar: how it
was made (``delay``), each ``update`` and total change, the postfix and the
close. Listings and audits run against a ``FakeRegistry`` through
``Client(transport=...)``.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import httpx
import pytest
from support.fakeregistry import FakeRegistry, sample_image
from support.internals import AUTO_DELAY, REQUEST_THRESHOLD, listing, progress_bar

import registrykit as rk

HOST = "registry.example.com"


class FakeBar:
    """What a tqdm bar is asked to do."""

    made: ClassVar[list[FakeBar]] = []

    def __init__(self, total: int, **options: Any) -> None:
        self.total = total
        self.options = options
        self.n = 0
        self.updates = 0
        self.postfix = ""
        self.closed = 0
        FakeBar.made.append(self)

    def update(self, n: int) -> None:
        self.n += n
        self.updates += 1

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[FakeBar]:
    FakeBar.made = []
    monkeypatch.setattr("tqdm.auto.tqdm", FakeBar)
    return FakeBar.made


def test_ten_thousand_advances_draw_a_few_times_and_end_exact(bars: list[FakeBar]) -> None:
    shown = progress_bar(10_000, "tags", progress=True)
    for _ in range(10_000):
        shown.advance(1)
    (bar,) = bars
    assert bar.n == 10_000 and bar.closed == 1
    # Redrawn at most every REDRAW_INTERVAL and at the end, not per tag.
    assert bar.updates < 100


def test_counts_from_many_threads_add_up(bars: list[FakeBar]) -> None:
    shown = progress_bar(8 * 500, "tags", progress=True)

    def work() -> None:
        for _ in range(500):
            shown.advance(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bars[0].n == 4000 and bars[0].closed == 1


def test_a_growing_total_stays_open_until_closed(bars: list[FakeBar]) -> None:
    shown = progress_bar(0, "audit", progress=True, threshold=-1, grows=True)
    shown.grow(3)
    shown.advance(3)  # all known work done, but more may come
    shown.grow(2)
    shown.advance(2)
    (bar,) = bars
    assert bar.closed == 0
    shown.close()
    shown.close()
    assert (bar.total, bar.n, bar.closed) == (5, 5, 1)


def test_auto_waits_a_moment_and_asked_shows_at_once(bars: list[FakeBar]) -> None:
    progress_bar(REQUEST_THRESHOLD, "small").advance(1)  # auto, too small: no bar
    progress_bar(1000, "off", progress=False).advance(1)
    assert bars == []
    progress_bar(REQUEST_THRESHOLD + 1, "auto")
    progress_bar(1, "asked", progress=True)
    assert [b.options["delay"] for b in bars] == [AUTO_DELAY, 0.0]


def _fake(repository: str, tags: int) -> FakeRegistry:
    images = {
        f"1.{i}.0": sample_image(f"2024-01-01T00:00:{i:02d}Z", f"{repository}{i}".encode())
        for i in range(tags)
    }
    return FakeRegistry(HOST, repository, images)


def test_a_listing_counts_its_tags(bars: list[FakeBar]) -> None:
    fake = _fake("team/app", 40)
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake)) as client:
        records = listing.tag_records(f"{HOST}/team/app", client=client)
    assert len(records) == 40
    (bar,) = bars
    assert (bar.total, bar.n, bar.closed) == (40, 40, 1)
    assert bar.options["unit"] == "tag" and bar.options["delay"] == AUTO_DELAY


class TwoRepositories:
    """Two FakeRegistries behind one host, with a catalog listing both."""

    def __init__(self, *fakes: FakeRegistry) -> None:
        self.fakes = {f.repository: f for f in fakes}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/_catalog":
            return httpx.Response(200, json={"repositories": sorted(self.fakes)})
        for name, fake in self.fakes.items():
            if request.url.path.startswith(f"/v2/{name}/"):
                return fake(request)
        return httpx.Response(200, json={})


@pytest.mark.parametrize("concurrency", [1, 8])  # repositories side by side, or tags
def test_an_audit_bar_grows_by_each_repository_tags(bars: list[FakeBar], concurrency: int) -> None:
    both = TwoRepositories(_fake("team/a", 3), _fake("team/b", 5))
    transport = httpx.MockTransport(both)
    with rk.Client(cache_dir=None, concurrency=concurrency, transport=transport) as c:
        frame = rk.audit(HOST, client=c)
    assert frame["tags"].sum() == 8
    (bar,) = bars  # one bar for the audit, none per repository
    assert (bar.total, bar.n, bar.closed) == (8, 8, 1)
    assert bar.postfix == "2/2 repositories"
    assert bar.options["unit"] == "tag"
