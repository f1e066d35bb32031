"""``rk.tags`` cold at emulated round-trip times, at the default and at fixed concurrencies.

Every run goes through ``latency_proxy`` (at RTT 0 it only forwards, so the
request and connection counts are measured the same way at every RTT).
Configurations are interleaved within each repetition, so a slow moment of
the shared machine hits them alike. Recorded per RTT and concurrency: wall
time, client CPU (this process's process time: the proxy and the registry
are other processes), requests, connections, the registry's CPU, and the
network floor ``(ceil(requests / concurrency) + 2) * RTT``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from figures import process_cpu_seconds, summary
from latency_proxy import ProxyHandle, network_floor, running_proxy

import registrykit as rk
from registrykit.frames import listing

DEFAULT = "default"


def cold_listing(
    proxy: ProxyHandle, repo: str, concurrency: int | None
) -> tuple[float, float, int]:
    """Wall and client CPU seconds of one cold ``rk.tags`` through the proxy, and the
    concurrency it ended at (the default adapts)."""
    wall, cpu = time.perf_counter(), time.process_time()
    client = (
        rk.Client(cache_dir=None)
        if concurrency is None
        else rk.Client(cache_dir=None, concurrency=concurrency)
    )
    with client:
        listing.tags(f"{proxy.host}/{repo}", client=client)
        reached = client.concurrency
    return time.perf_counter() - wall, time.process_time() - cpu, reached


def measure_rtt(
    registry: rk.LocalRegistry, repo: str, rtt_ms: int, concurrencies: list[int | None], runs: int
) -> list[dict[str, Any]]:
    samples: dict[int | None, list[dict[str, float]]] = {c: [] for c in concurrencies}
    assert registry.pid is not None
    with running_proxy(registry.host, rtt_ms) as proxy:
        for _ in range(runs):
            for concurrency in concurrencies:
                registry_cpu = process_cpu_seconds(registry.pid)
                proxy.take_stats()
                wall, cpu, reached = cold_listing(proxy, repo, concurrency)
                counts = proxy.take_stats()
                samples[concurrency].append(
                    {
                        "wall_s": wall,
                        "client_cpu_s": cpu,
                        "registry_cpu_s": process_cpu_seconds(registry.pid) - registry_cpu,
                        "reached": reached,
                        **counts,
                    }
                )
        check = proxy.self_check
    return [_result(rtt_ms, c, samples[c], check) for c in concurrencies]


def _result(
    rtt_ms: int,
    concurrency: int | None,
    runs: list[dict[str, float]],
    self_check: dict[str, float],
) -> dict[str, Any]:
    # The default's floor is drawn at the median concurrency it reached.
    in_flight = concurrency or int(statistics.median(r["reached"] for r in runs))
    requests = int(max(r["requests"] for r in runs))
    floor = network_floor(requests, in_flight, rtt_ms / 1000)
    wall = summary([r["wall_s"] for r in runs])
    return {
        "rtt_ms": rtt_ms,
        "concurrency": DEFAULT if concurrency is None else concurrency,
        "in_flight": in_flight,
        "wall_s": wall,
        "client_cpu_s": summary([r["client_cpu_s"] for r in runs]),
        "client_cpu_ms_per_request": summary(
            [1000 * r["client_cpu_s"] / r["requests"] for r in runs]
        ),
        "registry_cpu_ms_per_request": summary(
            [1000 * r["registry_cpu_s"] / r["requests"] for r in runs]
        ),
        "requests": summary([r["requests"] for r in runs]),
        "connections": summary([r["connections"] for r in runs]),
        "concurrency_reached": summary([r["reached"] for r in runs]),
        "floor_s": floor,
        "wall_over_floor": wall["median"] / floor if floor else None,
        "proxy_self_check": self_check,
    }


def sweep(
    registry: rk.LocalRegistry,
    repo: str,
    rtts: list[int],
    concurrencies: list[int | None],
    runs: int,
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for rtt_ms in rtts:
        print(f"\nrk.tags cold at RTT {rtt_ms} ms ({runs} runs, interleaved)", flush=True)
        found = measure_rtt(registry, repo, rtt_ms, concurrencies, runs)
        best_fixed = min(
            (r["wall_s"]["median"] for r in found if r["concurrency"] != DEFAULT), default=None
        )
        for r in found:
            r["vs_best_fixed"] = r["wall_s"]["median"] / best_fixed if best_fixed else None
            print_result(r)
        results += found
    return results


def print_result(r: dict[str, Any]) -> None:
    wall = r["wall_s"]
    floor = f"{r['wall_over_floor']:.2f}x floor" if r["wall_over_floor"] else "floor 0"
    print(
        f"  concurrency {r['concurrency']!s:<8} (reached {r['concurrency_reached']['median']:.0f}) "
        f"{wall['median']:7.2f} s "
        f"({wall['min']:.2f}-{wall['max']:.2f})  {r['requests']['median']:.0f} requests, "
        f"{r['connections']['median']:.0f} connections, client CPU "
        f"{r['client_cpu_ms_per_request']['median']:.2f} ms/request, registry CPU "
        f"{r['registry_cpu_ms_per_request']['median']:.2f} ms/request; {floor}; "
        f"{r['vs_best_fixed']:.2f}x best fixed",
        flush=True,
    )


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    floors: set[int] = set()
    for concurrency in dict.fromkeys(r["concurrency"] for r in results):
        mine = [r for r in results if r["concurrency"] == concurrency]
        rtts = [r["rtt_ms"] for r in mine]
        medians = [r["wall_s"]["median"] for r in mine]
        spread = [
            [r["wall_s"]["median"] - r["wall_s"]["min"] for r in mine],
            [r["wall_s"]["max"] - r["wall_s"]["median"] for r in mine],
        ]
        line = ax.errorbar(rtts, medians, yerr=spread, marker="o", capsize=3)
        line.set_label(f"concurrency {concurrency}")
        # The default shares its floor with the fixed concurrency it equals: draw it once.
        if mine[0]["in_flight"] not in floors:
            floors.add(mine[0]["in_flight"])
            ax.plot(
                rtts,
                [r["floor_s"] for r in mine],
                linestyle=":",
                color=line.lines[0].get_color(),
                label=f"network floor at {mine[0]['in_flight']} in flight",
            )
    ax.set_xlabel("round-trip time (ms)")
    ax.set_ylabel("cold rk.tags (s, median and range)")
    ax.set_title("rk.tags cold listing against emulated latency")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}", flush=True)
