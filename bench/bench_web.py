"""Benchmark the web API under load: reading a casebook and saving a form, 50 concurrent clients.

Usage::

    .venv/bin/python bench/bench_web.py [--seconds 60] [--clients 50] [--workers N] [--think-ms 0]
        [--patients 60] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test | --sqlite
         | --database URL] [--scenario both|read|save]

A scratch PostgreSQL database is created on the server (and dropped afterwards) and filled with
the simulated trial (``celltrial.simulate``, 60 referred patients, seed 7); ``--database`` uses
a database already filled that way instead (``celltrial simulate``), and leaves it in place.
Every client saves a laboratory form of its own of a subject on treatment or in follow-up.
``celltrial serve`` runs it with ``--workers`` uvicorn processes (default: its own default) on a
free loopback port; the clients (one asyncio task each, over HTTP/1.1 keep-alive, pausing
``--think-ms`` between requests) share this process. By Little's law a closed loop of 50 clients
without a pause keeps 50 requests in flight, so its mean latency is 50 divided by the throughput.

The clients speak plain HTTP/1.1 over asyncio streams (a request is one write, an answer one
header read and one body read) so that the load generator costs little of the two cores it
shares with the server and the database; the CPU each side used per request is reported.

Two scenarios run for ``--seconds`` each:

- *casebook read*: ``GET /api/v1/subjects/{id}/forms`` (every form of a subject, about eighty,
  with status, open queries and signature state);
- *form save*: ``PUT /api/v1/forms/{id}`` with ``If-Match`` (an audited save that runs the edit
  checks), each client on its own form, carrying the version from the previous answer's ETag.

Prints p50/p95/p99 latency, requests per second, errors, and the CPU time per request of the
clients (this process), the server (its processes) and PostgreSQL (the backends serving the
benchmark's database), with the machine's busy share, per scenario; then the goal (p95 < 100 ms,
zero errors). The CPU figures (from ``/proc``) say what bounds the throughput: two cores give
2,000 ms of CPU per second to share between the three.

What bounds it (November 2026, two cores): CPU, and for saves also their serial part. A casebook
read costs the server about 8.1 million instructions (callgrind, in process: FastAPI, SQLAlchemy,
pydantic and five database round trips: pool ping, BEGIN, the bearer token with its user, the
casebook in one statement, COMMIT) and a save about 8.35 million (thirteen round trips: the form
with its subject, the shared study write lock, one UPDATE that also refuses a data lock, the
revision, the answer's detail and signatures, the audit chain's head and entry); early in
November they cost 22 and 19 million. On 2026-11-25, on a machine somewhat slower than the one
the issues' yardsticks were stated for, 60 s without a pause gave reads at 174 a
second (p95 503 ms, server 5.6 ms CPU per read, machine 97% busy) and saves at 102 a second
(p95 809 ms, server 10.9 ms, PostgreSQL 1.1 ms, machine 78% busy: saves wait on one another for
the audit chain's head, which each locks from its audit entry to its commit).
Fifty clients without a pause wait 50 / throughput on average: p95 < 100 ms needs some 600
requests a second, about 3 ms of CPU per request in all (server, PostgreSQL, clients), which
neither comes near. What is left per request is mostly the framework's (FastAPI's dependency
resolution, SQLAlchemy's session and ORM loading of the user and the form, the
pool's ping) rather than celltrial's. With the pause of a person at a screen
(``--think-ms 1000``) the load is about 48 requests a second: p95 was 21 ms (reads) and 29 ms
(saves) on a quiet machine, and 68 to 415 ms while other work kept both cores busy. Wall-clock
figures move with whatever else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from scratch import scratch_database
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from celltrial.simulate.demo_users import DEMO_PASSWORD
from celltrial.study.types import utcnow

POSTGRES = os.environ.get("CELLTRIAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GOAL_P95_MS = 100.0
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running ``celltrial serve``: its base URL and process id."""

    base: str
    pid: int


@contextmanager
def server(url: str, workers: int | None) -> Iterator[Server]:
    """``celltrial serve`` on a free loopback port until the block ends."""
    port = free_port()
    command = [sys.executable, "-c", "from celltrial.cli import run; run()", "serve", "--db", url,
               "--port", str(port)]  # fmt: skip
    if workers is not None:
        command += ["--workers", str(workers)]
    with (
        tempfile.NamedTemporaryFile(prefix="celltrial-bench-server-", suffix=".log", delete=False) as log,
        subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT) as process,
    ):
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log.name}")
                time.sleep(0.5)
            yield Server(base=base, pid=process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


# -- CPU accounting (Linux /proc) ---------------------------------------------------------------


def _process_ticks() -> dict[int, tuple[int, int, int]]:
    """Every process: (parent pid, user + system ticks, start time) from ``/proc/<pid>/stat``."""
    found: dict[int, tuple[int, int, int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19]))
    return found


def _descendants(root: int, table: dict[int, tuple[int, int, int]]) -> set[int]:
    family, added = {root}, True
    while added:
        grown = family | {pid for pid, (parent, _, _) in table.items() if parent in family}
        added, family = grown != family, grown
    return family


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of the whole machine from ``/proc/stat``."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0, 0
    values = [int(value) for value in first]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


@dataclass
class CpuMeter:
    """CPU time used by the clients, the server's processes and the database's backends."""

    server_pid: int
    backend_pids: Callable[[], set[int]]
    started: dict[str, Any] = field(default_factory=dict)

    def _sample(self) -> dict[str, Any]:
        table = _process_ticks()
        server = _descendants(self.server_pid, table)
        backends = self.backend_pids()
        return {
            "client": time.process_time(),
            "server": {pid: table[pid][1:] for pid in server if pid in table},
            "database": {pid: table[pid][1:] for pid in backends if pid in table},
            "machine": _machine_ticks(),
            "wall": time.monotonic(),
        }

    def start(self) -> None:
        self.started = self._sample()

    def stop(self, requests: int) -> dict[str, float]:
        ended = self._sample()

        def spent(kind: str) -> float:
            before: dict[int, tuple[int, int]] = self.started[kind]
            total = 0
            for pid, (ticks, born) in ended[kind].items():
                earlier = before.get(pid)
                total += ticks - (earlier[0] if earlier and earlier[1] == born else 0)
            return total / TICKS

        wall = ended["wall"] - self.started["wall"]
        busy = ended["machine"][0] - self.started["machine"][0]
        total = ended["machine"][1] - self.started["machine"][1]
        per = 1000 / max(requests, 1)
        client = ended["client"] - self.started["client"]
        return {
            "client_cpu_ms_per_request": round(client * per, 2),
            "server_cpu_ms_per_request": round(spent("server") * per, 2),
            "database_cpu_ms_per_request": round(spent("database") * per, 2),
            "client_share_of_machine": round(client / (wall * (os.cpu_count() or 1)), 3),
            "machine_busy": round(busy / total, 3) if total else 0.0,
        }


def database_backends(url: str) -> Callable[[], set[int]]:
    """The process ids of the PostgreSQL backends connected to the database of ``url``."""
    if not url.startswith("postgresql"):
        return set
    engine = create_engine(url, pool_pre_ping=True)
    name = url.rsplit("/", 1)[1].split("?", 1)[0]

    def backends() -> set[int]:
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                    {"n": name},
                )
                return {int(row[0]) for row in rows}
        except OperationalError:  # the server restarted: its backends are not counted
            return set()

    return backends


# -- a lean HTTP/1.1 keep-alive client --------------------------------------------------------------

_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


@dataclass
class Answer:
    """An HTTP answer: status, lower-cased headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection; a request is one write, an answer two reads."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in {"POST", "PUT"}:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = _STATUS.match(head)
            if status is None:
                raise ConnectionError(f"not an HTTP answer: {head[:40]!r}")
            answer_headers = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name:
                    answer_headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
            if answer_headers.get("transfer-encoding", "").lower() == "chunked":
                content = await self._chunked()
            else:
                content = await self.reader.readexactly(int(answer_headers.get("content-length", "0")))
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        if answer_headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(int(status.group(1)), answer_headers, content)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_clients(
    clients: int,
    seconds: float,
    request: Callable[[Connection, int], Awaitable[str]],
    base: str,
    think: float = 0.0,
) -> tuple[dict[str, Any], int]:
    """Run ``clients`` tasks issuing ``request`` for ``seconds`` (each pausing about ``think``
    seconds, 0.5 to 1.5 times, between requests); latency percentiles, throughput, requests."""
    latencies: list[float] = []
    pacing = random.Random(7)
    errors = 0
    kinds: dict[str, int] = {}
    stop = time.monotonic() + seconds
    host, port = base.removeprefix("http://").split(":")

    async def one(number: int) -> None:
        nonlocal errors
        connection = Connection(host, int(port))
        if think:
            await asyncio.sleep(think * pacing.uniform(0, 1))  # users do not start in step
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                outcome = await asyncio.wait_for(request(connection, number), timeout=30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
                outcome = type(error).__name__
                await connection.close()
            ok = outcome == "ok"
            if not ok:
                kinds[outcome] = kinds.get(outcome, 0) + 1
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok
            if think:
                await asyncio.sleep(think * pacing.uniform(0.5, 1.5))
        await connection.close()

    began = time.monotonic()
    await asyncio.gather(*(one(number) for number in range(clients)))
    elapsed = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    figures = {
        "requests": len(latencies),
        "errors": errors,
        "error_kinds": kinds,
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
    }
    return figures, len(latencies)


ACTIVE = {"enrolled", "apheresed", "infused", "in_follow_up"}


def prepare(base: str) -> dict[str, Any]:
    """The coordinator's token, the subjects on treatment or follow-up, their laboratory forms."""
    client = httpx.Client(base_url=base, timeout=60)
    answer = client.post("/api/v1/auth/token", data={"username": "coordinator", "password": DEMO_PASSWORD})
    answer.raise_for_status()
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    listed = client.get("/api/v1/subjects?limit=500", headers=headers).json()["items"]
    subject_ids = [item["id"] for item in listed if item["status"] in ACTIVE]
    forms: list[dict[str, Any]] = []
    for subject in subject_ids:
        casebook = client.get(f"/api/v1/subjects/{subject}/forms", headers=headers).json()
        forms.extend(item for item in casebook if item["form_code"] == "labs" and item["status"] != "locked")
    return {"headers": headers, "subjects": subject_ids, "forms": forms}


def scenarios(data: dict[str, Any]) -> dict[str, Callable[[Connection, int], Awaitable[str]]]:
    """The two scenarios' requests, one call per request of client ``number``."""
    headers, forms, subjects = data["headers"], data["forms"], data["subjects"]
    versions = {form["id"]: form["version"] for form in forms}
    etag = re.compile(r'"(\d+)"')

    async def read_casebook(connection: Connection, number: int) -> str:
        answer = await connection.request(
            "GET", f"/api/v1/subjects/{subjects[number % len(subjects)]}/forms", headers
        )
        return "ok" if answer.status == 200 else f"HTTP {answer.status}"

    async def save_form(connection: Connection, number: int) -> str:
        form_id = forms[number]["id"]
        values = {"collection_date": utcnow().date().isoformat(), "platelets": 100 + versions[form_id] % 200}
        body = json.dumps({"values": values, "reason": "benchmark correction"}).encode()
        answer = await connection.request(
            "PUT",
            f"/api/v1/forms/{form_id}",
            headers | {"If-Match": f'W/"{versions[form_id]}"', "Content-Type": "application/json"},
            body,
        )
        saved = answer.status
        if saved == 409:  # somebody else's save: carry on from the form's current version
            answer = await connection.request("GET", f"/api/v1/forms/{form_id}", headers)
        found = etag.search(answer.headers.get("etag", ""))
        if found:
            versions[form_id] = int(found.group(1))
        return "ok" if saved == 200 and found else f"HTTP {saved}"

    return {"casebook_read": read_casebook, "form_save": save_form}


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def run_scenario(
    request: Callable[[Connection, int], Awaitable[str]],
    options: argparse.Namespace,
    meter: CpuMeter,
    base: str,
) -> dict[str, Any]:
    """One scenario under load, with its CPU use."""
    think = options.think_ms / 1000
    loop = _loop_factory()
    with asyncio.Runner(loop_factory=loop) as runner:
        runner.run(run_clients(options.clients, min(3.0, options.seconds), request, base, think))
        meter.start()
        figures, requests = runner.run(run_clients(options.clients, options.seconds, request, base, think))
    return figures | meter.stop(requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: serve's)")
    parser.add_argument("--patients", type=int, default=60, help="patients referred to the simulated trial")
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="pause of each client between requests (0: back to back)"
    )
    parser.add_argument(
        "--postgres", default=POSTGRES, help="PostgreSQL server (admin URL) for the scratch database"
    )
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead of PostgreSQL")
    parser.add_argument("--database", help="a database already filled by the simulation (kept as it is)")
    parser.add_argument("--scenario", choices=["both", "read", "save"], default="both")
    options = parser.parse_args()
    with _database(options) as url, server(url, options.workers) as running:
        data = prepare(running.base)
        if len(data["forms"]) < options.clients:
            raise SystemExit(f"only {len(data['forms'])} laboratory forms for {options.clients} clients")
        meter = CpuMeter(running.pid, database_backends(url))
        chosen = {"both": ("casebook_read", "form_save"), "read": ("casebook_read",), "save": ("form_save",)}
        requests = scenarios(data)
        results: dict[str, Any] = {
            "database": url.split("://", 1)[0].split("+", 1)[0],
            "workers": options.workers or "serve's default",
            "clients": options.clients,
            "seconds": options.seconds,
            "think_ms": options.think_ms,
            "cores": os.cpu_count(),
        }
        for scenario in chosen[options.scenario]:
            results[scenario] = run_scenario(requests[scenario], options, meter, running.base)
    print(json.dumps(results, indent=2))
    for scenario in chosen[options.scenario]:
        figures = results[scenario]
        verdict = "meets" if figures["p95_ms"] < GOAL_P95_MS and figures["errors"] == 0 else "misses"
        print(
            f"{scenario}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
            f"p99 {figures['p99_ms']} ms, "
            f"{figures['throughput_per_s']}/s, {figures['errors']} errors {figures['error_kinds'] or ''}; "
            f"CPU per request: clients {figures['client_cpu_ms_per_request']} ms, "
            f"server {figures['server_cpu_ms_per_request']} ms, "
            f"PostgreSQL {figures['database_cpu_ms_per_request']} ms; "
            f"machine busy {figures['machine_busy']:.0%}: {verdict} the goal (p95 < 100 ms, no error)"
        )


@contextmanager
def _database(options: argparse.Namespace) -> Iterator[str]:
    if options.database:
        yield options.database
        return
    from celltrial.simulate import simulate_trial

    with scratch_database(None if options.sqlite else options.postgres) as url:
        simulate_trial(url, patients=options.patients, seed=7)
        yield url


if __name__ == "__main__":
    main()
