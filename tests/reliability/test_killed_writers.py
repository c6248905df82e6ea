"""Crash safety: a writer of forms, adverse events and custody hand-overs is killed with SIGKILL at
random points, again and again; after each kill the database opens, every save the writer reported
as committed is there, no record is half written, and the audit chain verifies.

5 kills per database in ``make test``; 50 in ``make test-stress`` (the ``full`` variant). The writer
(``crash_writer.py``) reports each unit of work after its commit; the kill lands at a random
moment after a random number of reports, so mostly in the middle of the next unit of work.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from reliability_world import TrialWorld, build_trial
from sqlalchemy import Select, func, select, text
from sqlalchemy.engine import Engine
from stress_report import record_stress

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.product.models import ApheresisCollection, CustodyEvent
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntry
from celltrial.study.forms.models import FormInstance, FormRevision
from celltrial.study.safety.models import AdverseEvent

WRITER = Path(__file__).with_name("crash_writer.py")
WAIT = 120.0
"""Seconds to wait for one line of the writer (a busy machine; never reached when all is well)."""


class Writer:
    """The crash writer process: forks a writer per :meth:`start`, its lines read by a thread."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=WRITER.parent,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        assert self.next() == "ready", self.errors()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self.lines.put(raw.decode().rstrip("\n"))
        self.lines.put("closed")

    def next(self) -> str:
        try:
            return self.lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"the writer said nothing for {WAIT} s; {self.errors()}") from None

    def errors(self) -> str:
        self.log.flush()
        return "writer's stderr: " + Path(self.log.name).read_text(errors="replace")[-3000:]

    def start(self, url: str, lab2: str, seed: int) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(f"run {url} {lab2} {seed}\n".encode())
        self.process.stdin.flush()
        word, pid = self.next().split()
        assert word == "child", self.errors()
        return int(pid)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


@dataclass
class Reported:
    """What the writers reported as committed."""

    forms: dict[int, int] = field(default_factory=dict)
    events: set[int] = field(default_factory=set)
    custody: set[int] = field(default_factory=set)
    collections: set[int] = field(default_factory=set)

    def add(self, line: str) -> None:
        kind, *numbers = line.split()
        if kind == "form":
            form_id, version = map(int, numbers)
            self.forms[form_id] = max(version, self.forms.get(form_id, 0))
        elif kind in ("ae", "custody", "collection"):
            {"ae": self.events, "custody": self.custody, "collection": self.collections}[kind].add(
                int(numbers[0])
            )
        else:
            raise AssertionError(f"the writer said {line!r}")

    @property
    def saves(self) -> int:
        return len(self.forms) + len(self.events) + len(self.custody) + len(self.collections)


def _entries(engine: Engine, entity: str) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEntry.entity_id, func.count())
            .where(AuditEntry.entity == entity, AuditEntry.action == "create")
            .group_by(AuditEntry.entity_id)
        )
        return {str(entity_id): int(count) for entity_id, count in rows}


def damage(engine: Engine, reported: Reported) -> list[str]:
    """Everything wrong with the database after a kill (empty when it survived)."""
    problems: list[str] = []
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            integrity = connection.exec_driver_sql("PRAGMA integrity_check").scalar()
            if integrity != "ok":
                problems.append(f"integrity_check: {integrity}")

        def pairs(query: Select[tuple[int, Any]]) -> dict[int, Any]:
            return dict(connection.execute(query).all())

        versions = pairs(select(FormInstance.id, FormInstance.version))
        revisions = pairs(select(FormRevision.form_id, func.count()).group_by(FormRevision.form_id))
        events = set(connection.scalars(select(AdverseEvent.id)))
        handovers = pairs(select(CustodyEvent.id, CustodyEvent.collection_id))
        chains = pairs(select(ApheresisCollection.id, ApheresisCollection.custody_step))
        latest = select(func.max(CustodyEvent.id)).group_by(CustodyEvent.collection_id)
        last_steps = pairs(
            select(CustodyEvent.collection_id, CustodyEvent.step).where(CustodyEvent.id.in_(latest))
        )
    for form_id, version in reported.forms.items():
        if versions.get(form_id, -1) < version:
            problems.append(f"form {form_id} reported at version {version}, found {versions.get(form_id)}")
    for form_id, version in versions.items():
        if revisions.get(form_id, 0) != version:
            problems.append(f"form {form_id} at version {version} has {revisions.get(form_id, 0)} revisions")
    problems += [f"adverse event {n} reported, missing" for n in sorted(reported.events - events)]
    problems += [f"custody event {n} reported, missing" for n in sorted(reported.custody - set(handovers))]
    problems += [f"collection {n} reported, missing" for n in sorted(reported.collections - set(chains))]
    for entity, rows in (
        ("adverse_event", events),
        ("custody_event", set(handovers)),
        ("apheresis_collection", set(chains)),
        ("form", set(versions)),
    ):
        created = _entries(engine, entity)
        problems += [
            f"{entity} {n} has {created.get(str(n), 0)} create entries"
            for n in rows
            if created.get(str(n)) != 1
        ]
        problems += [f"audit entry of {entity} {n} without its row" for n in created if int(n) not in rows]
    for chain, step in chains.items():
        if last_steps.get(chain) != step:
            problems.append(
                f"collection {chain} at {step}, its last custody event is {last_steps.get(chain)}"
            )
    with unit_of_work(session_factory(engine)) as session:
        chain_report = audit.verify(session)
    if not chain_report.ok:
        problems.append(f"audit chain: {chain_report}")
    return problems


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    """One writer process for the module (its start-up is most of a kill's cost)."""
    running = Writer(tmp_path_factory.mktemp("writer") / "writer.log")
    try:
        yield running
    finally:
        running.close()


def _kill_at_random(
    writer: Writer, world: TrialWorld, reported: Reported, pick: random.Random, seed: int
) -> int:
    """Start a writer, let it commit a few units of work, kill it mid-flight; its exit signal."""
    pid = writer.start(world.url, world.lab2, seed)
    for _ in range(pick.randint(1, 6)):
        line = writer.next()
        assert not line.startswith("ended"), f"the writer stopped by itself: {writer.errors()}"
        reported.add(line)
    time.sleep(pick.uniform(0, 0.04))
    os.kill(pid, signal.SIGKILL)
    while not (line := writer.next()).startswith("ended"):
        reported.add(line)
    _, ended, how = line.split()
    assert int(ended) == pid
    return int(how)


def test_writers_killed_at_random_points_lose_nothing_they_reported_and_leave_no_half_record(
    database_url: str, writer: Writer, full_scale: bool
) -> None:
    kills = 50 if full_scale else 5
    world = build_trial(database_url, enrolled=40 if full_scale else 12)
    pick = random.Random(2026)
    reported = Reported()
    engine = make_engine(database_url)
    failed: list[str] = []
    try:
        for kill in range(kills):
            how = _kill_at_random(writer, world, reported, pick, seed=kill)
            assert how == signal.SIGKILL, f"the writer ended with {how}: {writer.errors()}"
            engine.dispose()  # as a restarted application would: new connections
            failed += [f"after kill {kill + 1}: {problem}" for problem in damage(engine, reported)]
        with engine.connect() as connection:
            entries = connection.scalar(text("SELECT count(*) FROM audit_entry"))
    finally:
        engine.dispose()
    dialect = database_url.split(":", 1)[0].split("+")[0]
    survived = kills - len({problem.split(":")[0] for problem in failed})
    record_stress(
        "faults",
        f"SIGKILL writer ({dialect})",
        kills,
        kills - survived,
        f"{survived}/{kills} survived; {reported.saves} reported records checked "
        f"({len(reported.forms)} forms, {len(reported.events)} AEs, "
        f"{len(reported.custody) + len(reported.collections)} custody); {entries} audit entries verified",
    )
    assert not failed, "\n".join(failed[:20])
    assert reported.forms, "no form save was reported"
    assert reported.events, "no adverse event was reported"
    assert reported.custody, "no custody step was reported"
