"""A TCP proxy on 127.0.0.1 that puts a round-trip time between a client and a loopback server.

Each chunk read from either side is written to the other RTT/2 later, in
order (a queue per direction, so chunks in flight overlap as on a real
link); a new connection waits one RTT before its first byte moves (the TCP
handshake). A request on a kept-alive connection therefore costs about one
RTT, the first request on a new connection about two. It also counts the
connections it accepted and the HTTP requests that went through them.

Run as a child of a benchmark (``running_proxy``): it serves only
127.0.0.1, forwards only to a loopback target, prints its port and a
self-check (a bare GET through it, timed on a new and on a kept-alive
connection) as one JSON line, answers ``stats`` and ``reset`` on stdin, and
exits when stdin closes, so it stops with the benchmark that started it.

    python benchmarks/latency_proxy.py --target 127.0.0.1:5000 --rtt-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import ipaddress
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

CHUNK = 64 * 1024
# Chunks queued per direction: enough for a burst, small enough that a slow
# reader pushes back on the sender instead of filling memory.
QUEUE_CHUNKS = 256
# A request head larger than this is not HTTP we can count; stop parsing it.
MAX_HEAD = 64 * 1024


def one_way_delay(rtt: float) -> float:
    """The delay each direction adds: half the round trip."""
    return rtt / 2


def due_at(now: float, rtt: float) -> float:
    """When a chunk read at ``now`` is written to the other side."""
    return now + one_way_delay(rtt)


def expected_request_time(rtt: float, new_connection: bool) -> float:
    """What a bare request through the proxy should take, server time aside."""
    return 2 * rtt if new_connection else rtt


def network_floor(requests: int, concurrency: int, rtt: float) -> float:
    """The fastest ``requests`` can finish with ``concurrency`` in flight at ``rtt``.

    Waves of ``concurrency`` requests, one RTT each, plus two RTTs that no
    client avoids: the connection's handshake and the first request that
    tells what to fetch (the tag list).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    return (math.ceil(requests / concurrency) + 2) * rtt


def parse_rtts(text: str) -> list[int]:
    """``"0,20,80"`` as milliseconds."""
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(v < 0 for v in values):
        raise ValueError(f"RTTs are non-negative milliseconds separated by commas, not {text!r}")
    return values


def loopback_target(text: str) -> tuple[str, int]:
    """``HOST:PORT`` of a loopback server; anything else is refused."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    if not address.is_loopback:
        raise ValueError(f"the latency proxy only forwards to loopback, not {host}")
    return host, int(port)


class RequestCounter:
    """Counts HTTP/1.1 requests in one connection's client-to-server bytes.

    Bodies are skipped by ``Content-Length``; the benchmarks send no chunked
    request bodies through the proxy.
    """

    def __init__(self) -> None:
        self.requests = 0
        self._head = bytearray()
        self._body_left = 0
        self._lost = False

    def feed(self, data: bytes) -> None:
        while data and not self._lost:
            if self._body_left:
                taken = min(self._body_left, len(data))
                self._body_left -= taken
                data = data[taken:]
                continue
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                self._lost = len(self._head) > MAX_HEAD
                return
            head, data = bytes(self._head[:end]), bytes(self._head[end + 4 :])
            self._head.clear()
            self.requests += 1
            length = content_length(head)
            self._lost = length is None
            self._body_left = length or 0


def content_length(head: bytes) -> int | None:
    """The body length a request head declares (0 without one); None when unreadable."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return 0


class LatencyProxy:
    def __init__(self, target: tuple[str, int], rtt: float) -> None:
        self.target = target
        self.rtt = rtt
        self.connections = 0
        self._open: set[RequestCounter] = set()
        self._closed_requests = 0
        self._counted_before = 0

    @property
    def requests(self) -> int:
        total = self._closed_requests + sum(c.requests for c in self._open)
        return total - self._counted_before

    def reset(self) -> None:
        self.connections = 0
        self._counted_before += self.requests

    async def serve(self) -> asyncio.Server:
        return await asyncio.start_server(self._connection, "127.0.0.1", 0)

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        counter = RequestCounter()
        self._open.add(counter)
        try:
            await asyncio.sleep(self.rtt)
            server_r, server_w = await asyncio.open_connection(*self.target)
            upstream = asyncio.create_task(self._pipe(client_r, server_w, counter))
            try:
                # HTTP is over when the server closes; the client's side follows.
                await self._pipe(server_r, client_w, None)
            finally:
                upstream.cancel()
                server_w.close()
        except OSError:
            pass  # either side went away: the other sees its connection close
        except asyncio.CancelledError:
            pass  # the proxy is stopping: nobody is left to tell
        finally:
            client_w.close()
            self._open.discard(counter)
            self._closed_requests += counter.requests

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, counter: RequestCounter | None
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUE_CHUNKS)

        async def read() -> None:
            try:
                while chunk := await src.read(CHUNK):
                    if counter is not None:
                        counter.feed(chunk)
                    await queue.put((due_at(loop.time(), self.rtt), chunk))
            finally:
                await queue.put((due_at(loop.time(), self.rtt), b""))

        reader = asyncio.create_task(read())
        try:
            while True:
                due, chunk = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if dst.can_write_eof():
                        dst.write_eof()
                    break
                dst.write(chunk)
                await dst.drain()
        finally:
            reader.cancel()


def self_check(port: int) -> dict[str, float]:
    """A bare ``GET /v2/`` through the proxy: seconds on a new and a kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            conn.request("GET", "/v2/")
            conn.getresponse().read()
            times.append(time.perf_counter() - start)
    finally:
        conn.close()
    return {"new_connection_s": times[0], "kept_alive_s": times[1]}


async def run(target: tuple[str, int], rtt: float) -> None:
    proxy = LatencyProxy(target, rtt)
    server = await proxy.serve()
    port = server.sockets[0].getsockname()[1]
    check = await asyncio.to_thread(self_check, port)
    proxy.reset()
    _answer({"port": port, "rtt_s": rtt, "self_check": check})
    async with server:
        while await asyncio.to_thread(sys.stdin.readline):
            # Every line asks for the counts since the last one.
            _answer({"connections": proxy.connections, "requests": proxy.requests})
            proxy.reset()


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class ProxyHandle:
    """The parent's side of a running proxy child."""

    def __init__(self, process: subprocess.Popen[str], hello: dict[str, Any]) -> None:
        self._process = process
        self.port: int = hello["port"]
        self.rtt: float = hello["rtt_s"]
        self.self_check: dict[str, float] = hello["self_check"]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def take_stats(self) -> dict[str, int]:
        """Connections accepted and requests seen since the last call; counting restarts."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("stats\n")
        self._process.stdin.flush()
        answer: dict[str, int] = json.loads(self._process.stdout.readline())
        return answer

    def describe(self) -> str:
        rtt_ms = self.rtt * 1000
        new, kept = self.self_check["new_connection_s"], self.self_check["kept_alive_s"]
        return (
            f"latency proxy {self.host} at RTT {rtt_ms:.0f} ms; bare GET /v2/: "
            f"new connection {new * 1000:.1f} ms (~{2 * rtt_ms:.0f} expected), "
            f"kept-alive {kept * 1000:.1f} ms (~{rtt_ms:.0f} expected)"
        )


@contextmanager
def running_proxy(target: str, rtt_ms: int) -> Iterator[ProxyHandle]:
    """A proxy child in front of ``target`` (a loopback ``HOST:PORT``) for the block's life."""
    loopback_target(target)
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--target", target, "--rtt-ms", str(rtt_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        handle = ProxyHandle(process, json.loads(process.stdout.readline()))
        print(handle.describe(), flush=True)
        yield handle
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", required=True, help="loopback HOST:PORT to forward to")
    parser.add_argument("--rtt-ms", type=int, default=20)
    args = parser.parse_args()
    with suppress(KeyboardInterrupt):
        asyncio.run(run(loopback_target(args.target), args.rtt_ms / 1000))


if __name__ == "__main__":
    main()
