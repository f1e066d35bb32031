"""What the benchmarks record: summaries over runs, process CPU, JSON files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import textwrap
from pathlib import Path
from typing import Any


def listing_child(function: str) -> str:
    """A ``python -c`` script timing ``rk.frames.listing.<function>(argv[1])`` in a fresh process.

    It prints seconds, resident bytes after imports, peak resident bytes
    (VmHWM) and the frame's row count, so only the call's own memory counts.
    """
    return textwrap.dedent(
        f"""
        import sys, time
        import registrykit as rk
        from registrykit.frames import listing

        def rss(field):
            for line in open("/proc/self/status"):
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
            return 0

        before = rss("VmRSS:")
        with rk.Client(cache_dir=None) as client:
            start = time.perf_counter()
            df = listing.{function}(sys.argv[1], client=client)
            seconds = time.perf_counter() - start
        print(seconds, before, rss("VmHWM:"), len(df))
        """
    )


def summary(values: list[float]) -> dict[str, float]:
    """Median and range of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); the split drops the first two.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version()}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}", flush=True)
