"""The enrolment cap under real concurrency, on SQLite and PostgreSQL.

39 subjects are enrolled (cap 40) and 200 eligible, consented subjects are enrolled at the same
moment from 200 threads, each with its own connection and transaction: exactly one succeeds.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

from edc_world import TODAY, Edc, at, edc_fixture  # noqa: F401
from sqlalchemy import func, select

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.errors import CelltrialError, Conflict
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntry
from celltrial.study.consent.models import Consent, IcfVersion
from celltrial.study.screening.models import ScreeningAttempt
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial.models import Trial


def _populate(edc: Edc, *, enrolled: int, candidates: int) -> list[int]:
    """``enrolled`` subjects already enrolled at S01 and ``candidates`` ready to enrol; their ids."""
    investigator = edc["investigator"]
    site_id = edc.world.s01.id
    with unit_of_work(edc.sessions) as session:
        icf = session.scalars(select(IcfVersion).where(IcfVersion.study_id == edc.study_id)).one()
        for number in range(1, enrolled + 1):
            session.add(
                Subject(
                    study_id=edc.study_id,
                    site_id=site_id,
                    screening_number=f"S01-S{number:03d}",
                    subject_number=f"S01-{number:03d}",
                    status=SubjectStatus.ENROLLED,
                    date_of_birth=date(1970, 1, 1),
                    sex="male",
                    initials="AB",
                    enrolment_date=TODAY - timedelta(days=30),
                    created_by_id=investigator.id,
                )
            )
        session.get_one(Trial, edc.study_id).enrolled_count = enrolled
        waiting = [
            Subject(
                study_id=edc.study_id,
                site_id=site_id,
                screening_number=f"S01-S{enrolled + number:03d}",
                status=SubjectStatus.SCREENING,
                date_of_birth=date(1980, 1, 1),
                sex="female",
                initials="CD",
                created_by_id=investigator.id,
            )
            for number in range(1, candidates + 1)
        ]
        session.add_all(waiting)
        session.flush()
        for subject in waiting:
            session.add(
                Consent(
                    subject_id=subject.id,
                    icf_version_id=icf.id,
                    signed_at=at(TODAY - timedelta(days=4)),
                    signer="subject",
                    recorded_by_id=investigator.id,
                )
            )
            session.add(
                ScreeningAttempt(
                    subject_id=subject.id,
                    attempt=1,
                    screening_date=TODAY - timedelta(days=2),
                    rule_set_version="test",
                    engine_decision="eligible",
                    decision="eligible",
                    snapshot={"decision": "eligible", "screening_date": str(TODAY), "criteria": []},
                    snapshot_hash="0" * 64,
                    recorded_by_id=investigator.id,
                )
            )
        return [subject.id for subject in waiting]


def _race(edc: Edc, url: str, candidates: list[int]) -> tuple[list[int], Counter[str]]:
    """Enrol every candidate at once, one thread and connection each; the winners and the errors."""
    engine = make_engine(url, pool_size=40, max_overflow=0, pool_timeout=120)
    sessions = session_factory(engine)
    investigator = edc["investigator"]
    start = threading.Barrier(len(candidates))
    winners: list[int] = []
    errors: Counter[str] = Counter()
    guard = threading.Lock()

    def attempt(subject_id: int) -> None:
        start.wait()
        try:
            with unit_of_work(sessions) as session:
                subjects.enrol(session, subject_id=subject_id, by=investigator)
        except CelltrialError as error:
            with guard:
                errors[f"{type(error).__name__}: {error.field}"] += 1
        else:
            with guard:
                winners.append(subject_id)

    threads = [threading.Thread(target=attempt, args=(subject_id,)) for subject_id in candidates]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads), "an enrolment attempt hung"
    finally:
        engine.dispose()
    return winners, errors


def test_with_39_enrolled_exactly_one_of_200_simultaneous_enrolments_succeeds(
    edc: Edc, database_url: str
) -> None:
    candidates = _populate(edc, enrolled=39, candidates=200)
    winners, errors = _race(edc, database_url, candidates)
    assert len(winners) == 1
    assert errors == Counter({f"{Conflict.__name__}: enrolment": 199})
    with edc.sessions() as session:
        enrolled = session.scalars(select(Subject).where(Subject.subject_number.is_not(None))).all()
        trial = session.get_one(Trial, edc.study_id)
        enrol_entries = session.scalar(select(func.count()).where(AuditEntry.action == "enrol"))
        chain = audit.verify(session)
    assert len(enrolled) == 40
    assert trial.enrolled_count == 40
    [winner] = [subject for subject in enrolled if subject.id in winners]
    assert (winner.subject_number, winner.status) == ("S01-040", SubjectStatus.ENROLLED)
    assert enrol_entries == 1
    assert chain.ok, str(chain)


def test_simultaneous_enrolments_below_the_cap_all_succeed_with_distinct_subject_numbers(
    edc: Edc, database_url: str
) -> None:
    candidates = _populate(edc, enrolled=35, candidates=8)
    winners, errors = _race(edc, database_url, candidates)
    assert len(winners) == 5
    assert errors == Counter({f"{Conflict.__name__}: enrolment": 3})
    with edc.sessions() as session:
        numbers = sorted(
            session.scalars(select(Subject.subject_number).where(Subject.id.in_(winners))).all(),
            key=lambda number: number or "",
        )
    assert numbers == [f"S01-{number:03d}" for number in range(36, 41)]


def test_the_race_fixture_builds_candidates_ready_to_enrol(edc: Edc) -> None:
    [candidate] = _populate(edc, enrolled=0, candidates=1)
    edc.run(lambda s: subjects.enrol(s, subject_id=candidate, by=edc["investigator"]))
    assert edc.subject(candidate).subject_number == "S01-001"
