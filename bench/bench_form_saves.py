"""Benchmark CRF saves through the form service: audited field saves per second.

Usage::

    .venv/bin/python bench/bench_form_saves.py [--saves 1000] [--threads 4] [--postgres URL] [--sqlite-only]

Every save goes through :func:`celltrial.study.forms.service.save`, exactly as a coordinator's
does: permission and site check, type coercion, data-lock check (the study write lock), consent
check, optimistic version check (a conditional UPDATE), edit checks, the form revision, one
audit entry per changed field in the hash chain, edit-check queries raised and resolved, commit.
Prints for SQLite (a file in a temporary directory) and PostgreSQL (a scratch database created
on the server and dropped afterwards):

- single-field saves, one transaction each, one coordinator after another (sequential);
- the same from ``--threads`` coordinators at once, each on their own subject's form;
- whole-form saves (the 9 fields of a vital-signs form changed at once), as field saves per second;
- bare audited transactions (the data-lock check and one audit entry, no form service), one
  after another and from ``--threads`` threads: the audit trail's own ceiling.

Each line also gives this process's CPU time per field save (Python, SQLAlchemy and, for SQLite,
the database engine itself): a figure that other load on the machine does not inflate. On
PostgreSQL it gives how long each transaction held the audit chain (from taking the chain head's
lock to the end of its commit, mean and 95th percentile; see :class:`ChainHold`): 1 / that time
is the most audited transactions per second the chain admits, however many writers. For scale,
the durable-commit latency of each database is printed first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from scratch import scratch_database, timed
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.study.audit import service as audit
from celltrial.study.consent import service as consents
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.locks import service as locks
from celltrial.study.sites import service as sites
from celltrial.study.subjects import service as subjects
from celltrial.study.trial import service as trials
from celltrial.study.users import passwords
from celltrial.study.users import service as users
from celltrial.study.users.models import Role, User

PASSWORD = "correct horse battery staple"
WHOLE_FORM = {
    "assessment_date": "2026-01-10",
    "temperature": 36.8,
    "heart_rate": 70,
    "systolic_bp": 118,
    "diastolic_bp": 76,
    "respiratory_rate": 14,
    "spo2": 98,
    "on_oxygen": False,
    "weight": 70.5,
}


class Bench:
    """A study with one consented subject (and its vital-signs form) per coordinator thread."""

    def __init__(self, sessions: sessionmaker[Session], subjects_wanted: int) -> None:
        self.sessions = sessions
        admin = users.operator("bench")
        with unit_of_work(sessions) as session:
            site = sites.create(session, code="S01", name="Bench Hospital", country="China", by=admin)
            sponsor = users.create(
                session,
                username="sponsor",
                full_name="Sponsor",
                role=Role.SPONSOR,
                password=PASSWORD,
                by=admin,
            )
            self.coordinator: User = users.create(
                session, username="coordinator", full_name="Coordinator", role=Role.COORDINATOR,
                password=PASSWORD, site_id=site.id, by=admin,
            )  # fmt: skip
            trial = trials.register(session, nct_id="NCT07008872", by=sponsor)
            consents.approve_icf_version(
                session, study_id=trial.id, version="1.0", approved_on=date(2025, 1, 1), by=sponsor
            )
            self.forms: list[int] = []
            for _ in range(subjects_wanted):
                subject = subjects.register(
                    session, study_id=trial.id, site_id=site.id, date_of_birth=date(1980, 1, 1), sex="female",
                    initials="AB", by=self.coordinator,
                )  # fmt: skip
                consents.record_consent(
                    session, subject_id=subject.id, icf_version="1.0",
                    signed_at=datetime.now(UTC) - timedelta(days=30), by=self.coordinator,
                )  # fmt: skip
                self.forms.append(
                    session.scalars(
                        select(FormInstance.id).where(
                            FormInstance.subject_id == subject.id, FormInstance.form_code == "vital_signs"
                        )
                    ).one()
                )
        self.versions = dict.fromkeys(self.forms, 0)

    def save(self, form_id: int, values: dict[str, object]) -> int:
        """One save; returns the number of fields it changed."""
        with unit_of_work(self.sessions) as session:
            result = forms.save(
                session, form_id=form_id, values=values, expected_version=self.versions[form_id],
                reason="benchmark correction", by=self.coordinator,
            )  # fmt: skip
            self.versions[form_id] = result.form.version
            return len(result.changes)


class ChainHold:
    """How long each transaction holds the audit chain, up to the end of its commit.

    It starts when the head's ``SELECT ... FOR UPDATE`` returns, or when the one-statement
    append that locks the head is sent (then it includes any wait for the lock: an upper bound).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.started: dict[int, float] = {}
        self.held: list[float] = []
        event.listen(engine, "before_cursor_execute", self._appending)
        event.listen(engine, "after_cursor_execute", self._locked)
        event.listen(Session, "after_commit", self._committed, insert=True)  # before the WAL flush

    def _appending(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("WITH moved_head"):
            self.started.setdefault(threading.get_ident(), time.perf_counter())

    def _locked(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT audit_chain_head.last_id") and "FOR UPDATE" in statement:
            self.started.setdefault(threading.get_ident(), time.perf_counter())

    def _committed(self, _session: Session) -> None:
        began = self.started.pop(threading.get_ident(), None)
        if began is not None:
            self.held.append(time.perf_counter() - began)

    def take(self) -> str:
        held, self.held = sorted(self.held), []
        if not held:
            return ""
        p95 = held[int(len(held) * 0.95) - 1] if len(held) >= 20 else held[-1]
        return f"; chain held {statistics.fmean(held) * 1000:.2f} ms (p95 {p95 * 1000:.2f})"

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._appending)
        event.remove(self.engine, "after_cursor_execute", self._locked)
        event.remove(Session, "after_commit", self._committed)


def _audited(sessions: sessionmaker[Session], number: int) -> int:
    """One bare audited transaction: the data-lock check and one audit entry."""
    with unit_of_work(sessions) as session:
        locks.ensure_unlocked(session, subject_id=1)
        audit.record(
            session, actor="coordinator", action="enter", entity="form", entity_id=number,
            field="vital_signs.heart_rate", new=60 + number % 50, subject_id=1, site_id=1,
        )  # fmt: skip
    return 1


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({count} in {seconds:.2f} s)"


def run(name: str, engine: Engine, *, saves: int, threads: int) -> None:
    sessions = session_factory(engine)
    bench = Bench(sessions, subjects_wanted=max(threads, 1))
    hold = ChainHold(engine)
    first = bench.forms[0]

    def sequential() -> int:
        changed = 0
        for number in range(saves):
            changed += bench.save(first, {"heart_rate": 60 + number % 50 + (1 if number % 50 == 0 else 0)})
        return changed

    def concurrent() -> int:
        changed = [0] * threads
        start = threading.Barrier(threads)

        def worker(index: int) -> None:
            start.wait()
            form = bench.forms[index]
            for number in range(saves // threads):
                changed[index] += bench.save(form, {"systolic_bp": 100 + number % 60})

        pool = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return sum(changed)

    def whole_forms() -> int:
        changed = 0
        for number in range(max(saves // 10, 1)):
            values = dict(WHOLE_FORM)
            values["heart_rate"] = 60 + number % 40
            values["weight"] = 60 + number % 30 + 0.5
            values["temperature"] = 36.0 + (number % 20) / 10
            values["respiratory_rate"] = 12 + number % 10
            values["spo2"] = 90 + number % 10
            values["systolic_bp"] = 110 + number % 30
            values["diastolic_bp"] = 70 + number % 20
            values["assessment_date"] = (date(2026, 1, 1) + timedelta(days=number % 300)).isoformat()
            changed += bench.save(first, values)
        return changed

    def bare_sequential() -> int:
        return sum(_audited(sessions, number) for number in range(saves))

    def bare_concurrent() -> int:
        done = [0] * threads

        def worker(index: int) -> None:
            for number in range(saves // threads):
                done[index] += _audited(sessions, number)

        pool = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return sum(done)

    print(f"{name}")
    for label, job in [
        ("single-field saves, sequential", sequential),
        (f"single-field saves, {threads} threads", concurrent),
        ("whole-form saves (field saves)", whole_forms),
        ("bare audited transactions, sequential", bare_sequential),
        (f"bare audited transactions, {threads} threads", bare_concurrent),
    ]:
        hold.take()
        began, cpu = time.perf_counter(), time.process_time()
        count = job()
        elapsed, used = time.perf_counter() - began, time.process_time() - cpu
        per_field = used / count * 1000
        held = hold.take() if engine.dialect.name == "postgresql" else ""
        print(f"  {label:<42} {_rate(count, elapsed)}; CPU here {per_field:.2f} ms per field{held}")
    hold.close()
    with sessions() as session:
        report = audit.verify(session)
    print(f"  audit chain after the run: {report}")


def commit_latency(engine: Engine, rounds: int = 100) -> float:
    """Milliseconds for one durable commit of a one-row insert: the floor under any audited save."""
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE bench_commit_probe (x INTEGER)"))
        connection.commit()
        began = time.perf_counter()
        for _ in range(rounds):
            connection.execute(text("INSERT INTO bench_commit_probe VALUES (1)"))
            connection.commit()
        elapsed = time.perf_counter() - began
        connection.execute(text("DROP TABLE bench_commit_probe"))
        connection.commit()
    return elapsed / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite-only", action="store_true")
    options = parser.parse_args()
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # set-up speed only

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}", pool_size=options.threads + 2)
        timed("migrate", lambda: upgrade(engine))
        print(f"SQLite: one durable commit takes {commit_latency(engine):.2f} ms")
        run("SQLite (WAL, synchronous=NORMAL)", engine, saves=options.saves, threads=options.threads)
        engine.dispose()
    if options.sqlite_only:
        return
    with scratch_database(options.postgres) as url:
        engine = make_engine(url, pool_size=options.threads + 2)
        timed("migrate", lambda: upgrade(engine))
        print(f"PostgreSQL: one durable commit takes {commit_latency(engine):.2f} ms")
        run("PostgreSQL", engine, saves=options.saves, threads=options.threads)
        engine.dispose()


if __name__ == "__main__":
    main()
