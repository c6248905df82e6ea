"""Benchmark the audit trail: audited saves per second, and `audit verify` entries per second.

Usage::

    .venv/bin/python bench/bench_audit.py [--entries 1000000] [--saves 2000] [--postgres URL]

Prints, for SQLite (a file in a temporary directory) and PostgreSQL (a scratch database
created on the server and dropped afterwards):

- audited field saves per second: one transaction per field save (take the study write lock,
  check the data lock, append the audit entry, commit), and one transaction per form save of
  20 fields; sequential and with 4 threads;
- ``audit verify`` entries per second over a chain of ``--entries`` entries (bulk-loaded with
  correct hashes, then verified by streaming).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from scratch import scratch_database
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import GENESIS_HASH, AuditEntry
from celltrial.study.locks import service as locks
from celltrial.study.types import utcnow

FIELDS = 20


def _save_fields(sessions: sessionmaker[Session], form: int, fields: int) -> None:
    with unit_of_work(sessions) as session:
        locks.ensure_unlocked(session, subject_id=None)
        for field in range(fields):
            audit.record(
                session, actor="coordinator", action="create", entity="crf_value", entity_id=form,
                field=f"field_{field}", new=field * 1.5, subject_id=1, site_id=1,
            )  # fmt: skip


def _rate(work: Callable[[int], None], count: int, threads: int) -> float:
    per_thread = count // threads
    start = time.perf_counter()
    workers = [
        threading.Thread(target=lambda t=t: [work(t * per_thread + i) for i in range(per_thread)])
        for t in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - start)


def bench_saves(sessions: sessionmaker[Session], saves: int) -> dict[str, float]:
    figures = {}
    for threads in (1, 4):
        one = _rate(lambda i: _save_fields(sessions, i, 1), saves, threads)
        figures[f"1 field per transaction, {threads} thread(s)"] = one
        forms = max(saves // FIELDS, threads)
        many = _rate(lambda i: _save_fields(sessions, i, FIELDS), forms, threads) * FIELDS
        figures[f"{FIELDS} fields per transaction, {threads} thread(s)"] = many
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
        assert report.ok, str(report)
    return figures


def load_chain(engine: Engine, entries: int, *, start: int = 1, previous: str = GENESIS_HASH) -> None:
    """Append ``entries`` correctly chained entries in bulk (as if written one by one)."""
    at = utcnow()
    batch: list[dict[str, object]] = []
    table = AuditEntry.__table__
    with engine.begin() as connection:
        for number in range(start, start + entries):
            row = {
                "id": number, "at": at + timedelta(microseconds=number), "actor": "coordinator",
                "action": "create", "entity": "crf_value", "entity_id": str(number // FIELDS),
                "field": f"field_{number % FIELDS}", "old_value": None, "new_value": str(number * 1.5),
                "reason": None, "subject_id": number % 40 + 1, "site_id": 1, "previous_hash": previous,
            }  # fmt: skip
            row["hash"] = previous = audit.entry_hash(*row.values())  # type: ignore[arg-type]
            batch.append(row)
            if len(batch) == 10_000:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)


def bench_verify(engine: Engine, entries: int) -> tuple[float, float, int]:
    """Entries verified per second of wall-clock time and per CPU-second of this process."""
    with engine.connect() as connection:
        existing = connection.scalar(text("SELECT COUNT(*) FROM audit_entry")) or 0
        last = (
            connection.scalar(text("SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1")) or GENESIS_HASH
        )
    load_chain(engine, entries, start=existing + 1, previous=last)
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        start, cpu = time.perf_counter(), time.process_time()
        report = audit.verify(session)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert report.ok, str(report)
    return report.count / elapsed, report.count / cpu, report.count


def run(name: str, url: str, entries: int, saves: int) -> None:
    engine = make_engine(url, pool_size=8) if url.startswith("postgresql") else make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    print(f"== {name}")
    for label, rate in bench_saves(sessions, saves).items():
        print(f"  audited saves/s, {label}: {rate:,.0f}")
    rate, cpu_rate, count = bench_verify(engine, entries)
    print(f"  audit verify: {rate:,.0f} entries/s ({cpu_rate:,.0f} per CPU-second) over {count:,} entries")
    engine.dispose()


def main() -> None:
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--saves", type=int, default=2_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", options.entries, options.saves)
    if options.skip_postgres:
        return
    with scratch_database(options.postgres) as url:
        run("PostgreSQL", url, options.entries, options.saves)


if __name__ == "__main__":
    main()
