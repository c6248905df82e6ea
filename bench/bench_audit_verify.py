"""Benchmark `celltrial audit verify`: entries verified per second on a long audit trail.

Usage::

    .venv/bin/python bench/bench_audit_verify.py [--entries 1000000] [--postgres URL] [--sqlite-only]
        [--reuse-postgres URL] [--reuse-sqlite FILE]

Loads ``--entries`` correctly chained entries (bulk, with their chain head) into a SQLite file
and a scratch PostgreSQL database (dropped afterwards), or reuses a database filled before,
then verifies the whole chain through :func:`celltrial.study.audit.service.verify` (streamed
driver tuples: a server-side cursor on PostgreSQL) three times and prints, per run:

- entries per second of wall-clock time (what a user waits; inflated by other load);
- entries per CPU-second of this process (the Python side: fetching, canonical JSON, SHA-256);
- on PostgreSQL, also per CPU-second of the server backend that streamed the rows, read from
  ``/proc`` (the server must run on this machine), and of both together.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from scratch import scratch_database, timed
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from celltrial.database import make_engine, session_factory, upgrade
from celltrial.study.audit import service as audit
from celltrial.study.audit.chain import GENESIS_HASH, entry_hash
from celltrial.study.audit.models import AuditChainHead, AuditEntry
from celltrial.study.types import utcnow

FIELDS = 20


def load_chain(engine: Engine, entries: int) -> None:
    """Append ``entries`` chained entries and move the chain head to the last (as if written one by one)."""
    at, previous, batch = utcnow(), GENESIS_HASH, []
    table = AuditEntry.__table__
    with engine.begin() as connection:
        for number in range(1, entries + 1):
            row = {
                "id": number, "at": at + timedelta(microseconds=number), "actor": "coordinator",
                "action": "update" if number % 3 else "enter", "entity": "form",
                "entity_id": str(number // FIELDS), "field": f"vital_signs.field_{number % FIELDS}",
                "old_value": str(number * 0.5) if number % 3 else None, "new_value": str(number * 1.5),
                "reason": "transcription error" if number % 3 else None, "subject_id": number % 40 + 1,
                "site_id": 1, "previous_hash": previous,
            }  # fmt: skip
            row["hash"] = previous = entry_hash(**row)  # type: ignore[arg-type]
            batch.append(row)
            if len(batch) == 10_000:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
        connection.execute(
            insert(AuditChainHead.__table__), {"id": 1, "last_id": entries, "last_hash": previous}
        )


def _backend_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(name: str, engine: Engine, rounds: int = 3) -> None:
    sessions = session_factory(engine)
    print(name)
    for _ in range(rounds):
        with sessions() as session:
            connection = session.connection()
            pid = (
                connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                if name == "PostgreSQL"
                else None
            )
            server = _backend_cpu(int(pid)) if pid else None
            began, cpu = time.perf_counter(), time.process_time()
            report = audit.verify(session)
            elapsed, used = time.perf_counter() - began, time.process_time() - cpu
            served = (_backend_cpu(int(pid)) or 0) - server if pid and server is not None else None
        assert report.ok, str(report)
        count = report.count
        line = f"  {report}: {count / elapsed:,.0f}/s wall, {count / used:,.0f} per CPU-second here"
        if served:
            line += f", {count / served:,.0f} per server CPU-second, {count / (used + served):,.0f} together"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--reuse-postgres", help="a database already holding the trail (left as it is)")
    parser.add_argument("--reuse-sqlite", help="a SQLite file already holding the trail (left as it is)")
    options = parser.parse_args()
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{options.reuse_sqlite or Path(folder) / 'trail.db'}")
        if not options.reuse_sqlite:
            upgrade(engine)
            timed("load", lambda: load_chain(engine, options.entries))
        bench("SQLite", engine)
        engine.dispose()
    if options.sqlite_only:
        return
    if options.reuse_postgres:
        engine = make_engine(options.reuse_postgres)
        bench("PostgreSQL", engine)
        engine.dispose()
        return
    with scratch_database(options.postgres) as url:
        engine = make_engine(url)
        upgrade(engine)
        timed("load", lambda: load_chain(engine, options.entries))
        bench("PostgreSQL", engine)
        engine.dispose()


if __name__ == "__main__":
    main()
