"""Load for the reliability tests: ``celltrial serve`` in its own process, and a closed loop of clients.

The server runs as in production (``celltrial serve --workers N`` on a free loopback port), so
the clients (one asyncio task each, HTTP/1.1 keep-alive, in the test process) do not share its
interpreter. Each client calls ``step(http, client, iteration)`` back to back for the given time;
a step answers ``"ok"`` or what went wrong (``"HTTP 500"``, an httpx error's name).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

Step = Callable[[httpx.AsyncClient, int, int], Awaitable[str]]


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by process ``root`` and the processes below it (/proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grown = {root}, True
    while grown:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grown = bool(below)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Served:
    """A served app: its base URL, and the CPU seconds its processes have used (None: in this process)."""

    base: str
    cpu: Callable[[], float] | None = None


@contextmanager
def celltrial_serve(url: str, *, workers: int, log: Path) -> Iterator[Served]:
    """``celltrial serve`` on the database ``url`` until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, "-c", "from celltrial.cli import run; run()", "serve", "--db", url,
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"celltrial serve did not start: {log.read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(0.3)
            yield Served(base, lambda: cpu_seconds(process.pid))
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class LoadFigures:
    """What a run did: requests, failures by kind, latency percentiles (ms), throughput."""

    requests: int
    failures: Counter[str]
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    @property
    def server_errors(self) -> int:
        return sum(count for kind, count in self.failures.items() if kind.startswith("HTTP 5"))

    def summary(self) -> str:
        return (
            f"p50 {self.p50_ms:.0f} ms, p95 {self.p95_ms:.0f} ms, p99 {self.p99_ms:.0f} ms, "
            f"{self.requests / self.seconds:.0f} requests/s over {self.seconds:.0f} s"
            + (f", failures {dict(self.failures)}" if self.failures else "")
        )


async def _run(base: str, clients: int, seconds: float, step: Step) -> LoadFigures:
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        stop = time.monotonic() + seconds

        async def client(number: int) -> None:
            iteration = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    outcome = await step(http, number, iteration)
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                latencies.append((time.perf_counter() - started) * 1000)
                if outcome != "ok":
                    failures[outcome] += 1
                iteration += 1

        began = time.monotonic()
        await asyncio.gather(*(client(number) for number in range(clients)))
        elapsed = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return LoadFigures(len(latencies), failures, elapsed, cuts[49], cuts[94], cuts[98])


def run_clients(base: str, *, clients: int, seconds: float, step: Step) -> LoadFigures:
    """``clients`` clients calling ``step`` back to back for ``seconds``."""
    return run_in_own_loop(_run(base, clients, seconds, step))


def run_in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)`` on an event loop of its own thread: the test's thread may already
    have one running (the browser tests' Playwright, when the same worker ran them first)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()
