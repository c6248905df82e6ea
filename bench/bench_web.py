"""Benchmark the web API under load: reading a casebook and saving a form, 50 concurrent clients.

Usage::

    .venv/bin/python bench/bench_web.py [--seconds 60] [--clients 50] [--workers 2] [--think-ms 0]
        [--patients 60] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test | --sqlite]

A scratch PostgreSQL database is created on the server (and dropped afterwards) and filled with
the simulated trial (``celltrial.simulate``, 60 referred patients, seed 7); every client saves
a laboratory form of its own of a subject on treatment or in follow-up. ``celltrial serve``
runs it with ``--workers`` uvicorn processes on a free loopback port; the clients (one asyncio
task each, over HTTP/1.1 keep-alive, pausing ``--think-ms`` between requests) share this
process. By Little's law a closed loop of 50 clients without a pause keeps 50 requests in
flight, so its latency is 50 divided by the throughput.

Two scenarios run for ``--seconds`` each:

- *casebook read*: ``GET /api/v1/subjects/{id}/forms`` (every form of a subject, about eighty,
  with status, open queries and signature state);
- *form save*: ``PUT /api/v1/forms/{id}`` with ``If-Match`` (an audited save that runs the edit
  checks), each client on its own form, carrying the version from the previous answer.

Prints p50/p95/p99 latency, requests per second and errors per scenario, and the goal
(p95 < 100 ms, zero errors).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from celltrial.simulate import simulate_trial
from celltrial.simulate.demo_users import DEMO_PASSWORD
from celltrial.study.types import utcnow

POSTGRES = os.environ.get("CELLTRIAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GOAL_P95_MS = 100.0


@contextmanager
def scratch_database(admin_url: str | None) -> Iterator[str]:
    """A new database: on the PostgreSQL server of ``admin_url``, else a SQLite file."""
    if admin_url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"celltrial_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[str]:
    """``celltrial serve`` on a free loopback port until the block ends."""
    port = free_port()
    command = [sys.executable, "-c", "from celltrial.cli import run; run()", "serve", "--db", url,
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    log = (Path(tempfile.gettempdir()) / "celltrial-bench-server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
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
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


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


async def run_clients(
    clients: int,
    seconds: float,
    request: Callable[[httpx.AsyncClient, int], Awaitable[str]],
    base: str,
    think: float = 0.0,
) -> dict[str, float]:
    """Run ``clients`` tasks issuing ``request`` for ``seconds`` (each pausing about ``think``
    seconds, 0.5 to 1.5 times, between requests); latency percentiles and throughput."""
    latencies: list[float] = []
    pacing = random.Random(7)
    errors = 0
    kinds: dict[str, int] = {}
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def one(number: int) -> None:
            nonlocal errors
            if think:
                await asyncio.sleep(think * pacing.uniform(0, 1))  # users do not start in step
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    outcome = await request(http, number)
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                ok = outcome == "ok"
                if not ok:
                    kinds[outcome] = kinds.get(outcome, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok
                if think:
                    await asyncio.sleep(think * pacing.uniform(0.5, 1.5))

        began = time.monotonic()
        await asyncio.gather(*(one(number) for number in range(clients)))
        elapsed = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "error_kinds": kinds,
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--patients", type=int, default=60, help="patients referred to the simulated trial")
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="pause of each client between requests (0: back to back)"
    )
    parser.add_argument(
        "--postgres", default=POSTGRES, help="PostgreSQL server (admin URL) for the scratch database"
    )
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead of PostgreSQL")
    options = parser.parse_args()
    with scratch_database(None if options.sqlite else options.postgres) as url:
        simulate_trial(url, patients=options.patients, seed=7)
        with server(url, options.workers) as base:
            data = prepare(base)
            headers, forms, subjects = data["headers"], data["forms"], data["subjects"]
            if len(forms) < options.clients:
                raise SystemExit(f"only {len(forms)} laboratory forms for {options.clients} clients")
            versions = {form["id"]: form["version"] for form in forms}

            async def read_casebook(http: httpx.AsyncClient, number: int) -> str:
                answer = await http.get(
                    f"/api/v1/subjects/{subjects[number % len(subjects)]}/forms", headers=headers
                )
                return "ok" if answer.status_code == 200 else f"HTTP {answer.status_code}"

            async def save_form(http: httpx.AsyncClient, number: int) -> str:
                form_id = forms[number]["id"]
                values = {
                    "collection_date": utcnow().date().isoformat(),
                    "platelets": 100 + versions[form_id] % 200,
                }
                answer = await http.put(
                    f"/api/v1/forms/{form_id}",
                    json={"values": values, "reason": "benchmark correction"},
                    headers=headers | {"If-Match": f'W/"{versions[form_id]}"'},
                )
                if answer.status_code == 200:
                    versions[form_id] = answer.json()["form"]["version"]
                    return "ok"
                if answer.status_code == 409:
                    latest = await http.get(f"/api/v1/forms/{form_id}", headers=headers)
                    versions[form_id] = latest.json()["version"]
                return f"HTTP {answer.status_code}"

            results = {
                "database": url.split("://", 1)[0] if options.sqlite else "postgresql",
                "workers": options.workers,
                "clients": options.clients,
                "seconds": options.seconds,
                "casebook_forms_per_read": len(
                    httpx.get(f"{base}/api/v1/subjects/{subjects[0]}/forms", headers=headers).json()
                ),
                "think_ms": options.think_ms,
                "casebook_read": asyncio.run(
                    run_clients(
                        options.clients, options.seconds, read_casebook, base, options.think_ms / 1000
                    )
                ),
                "form_save": asyncio.run(
                    run_clients(options.clients, options.seconds, save_form, base, options.think_ms / 1000)
                ),
            }
    print(json.dumps(results, indent=2))
    for scenario in ("casebook_read", "form_save"):
        figures = results[scenario]
        verdict = "meets" if figures["p95_ms"] < GOAL_P95_MS and figures["errors"] == 0 else "misses"
        print(
            f"{scenario}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
            f"p99 {figures['p99_ms']} ms, "
            f"{figures['throughput_per_s']}/s, {figures['errors']} errors {figures['error_kinds'] or ''}: "
            f"{verdict} the goal "
            "(p95 < 100 ms, no error)"
        )


if __name__ == "__main__":
    main()
