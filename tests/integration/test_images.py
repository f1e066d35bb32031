"""Resolving tags: what a cold and a warm listing cost in requests."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from support.internals import REQUEST_THRESHOLD, bar, choose_platform, platform_matches

import registrykit as rk


class Counting(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls: Counter[tuple[str, str]] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = "manifest" if "/manifests/" in path else "blob" if "/blobs/" in path else path
        self.calls[(request.method, kind)] += 1
        return self.inner.handle_request(request)


def test_warm_listing_costs_a_tag_list_and_heads(registry, push_fixtures, tmp_path):
    pushed = push_fixtures(registry, "images")
    repo = pushed["multi"][0].rsplit(":", 1)[0]
    cold, warm = Counting(), Counting()
    with rk.Client(cache_dir=tmp_path, transport=cold) as client:
        first = rk.tags(repo, client=client)
    with rk.Client(cache_dir=tmp_path, transport=warm) as client:
        second = rk.tags(repo, client=client)
    assert first.equals(second)
    assert first["platform"].tolist() == ["linux/amd64", "linux/arm64/v8"]
    # Cold: the index by tag, two platform manifests, two configs; no HEAD needed.
    assert cold.calls[("GET", "manifest")] == 3
    assert cold.calls[("GET", "blob")] == 2
    assert cold.calls[("HEAD", "manifest")] == 0
    # Warm: the tag list and one HEAD; everything else comes from the digest cache.
    assert warm.calls[("HEAD", "manifest")] == 1
    assert warm.calls[("GET", "manifest")] == 0
    assert warm.calls[("GET", "blob")] == 0


def test_each_digest_is_fetched_once_across_tags():
    from registrykit.lab import samples

    # Its own registry: the shared one may already hold the samples' signature tag,
    # which would add a tag and a config fetch to the count below.
    with rk.LocalRegistry() as registry, rk.Client(cache_dir=None) as client:
        samples.push(registry, [s for s in samples.webapp()], client=client)
        counting = Counting()
        with rk.Client(cache_dir=None, transport=counting) as counted:
            records = rk.tags(f"{registry.host}/samples/webapp", client=counted)
    assert len(records) == 9  # 5 releases + latest, stable, date, git-sha on v1.4.0
    # 5 distinct manifests, but 9 tags: the sibling tags' GETs return the same digest,
    # while configs are fetched once per distinct digest.
    assert counting.calls[("GET", "blob")] == 5


def test_one_platform_rule() -> None:
    amd, arm = rk.Platform("linux", "amd64"), rk.Platform("linux", "arm64", "v8")
    assert choose_platform([arm, amd]) == amd
    assert choose_platform([arm]) == arm
    assert choose_platform([]) is None
    assert platform_matches(None, None) and platform_matches("linux/arm64", arm)
    assert not platform_matches("linux/amd64", arm) and not platform_matches("linux/amd64", None)


def test_progress_is_auto_on_or_off(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    class FakeBar:
        def __init__(self, total: int, **kw: object) -> None:
            made.append(total)
            self.n = 0

        def update(self, n: int) -> None:
            self.n += n

        def close(self) -> None:
            made.append(-1)

    monkeypatch.setattr("tqdm.auto.tqdm", FakeBar)
    bar(REQUEST_THRESHOLD, "small")(1)  # auto: too small for a bar
    bar(100, "big", progress=False)(1)
    assert made == []
    advance = bar(REQUEST_THRESHOLD + 1, "big")
    advance(REQUEST_THRESHOLD + 1)
    bar(1, "asked", progress=True)(1)
    assert made == [REQUEST_THRESHOLD + 1, -1, 1, -1]
