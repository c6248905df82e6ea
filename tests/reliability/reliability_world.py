"""Test data of the reliability tests: the trial with its staff, enrolled subjects and candidates.

The sites, staff and study are set up by the simulator's own setup (:mod:`celltrial.simulate.staff`,
through the services, demo logins with :data:`DEMO_PASSWORD`); the subjects are then written
directly (enrolled ones with their consent, candidates consented and screened eligible), which
takes a fraction of a second for hundreds of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scratch_databases import scratch_postgres
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.simulate.demo_users import DEMO_PASSWORD, quick_password_hashing
from celltrial.simulate.scenario import default_scenario
from celltrial.simulate.staff import register_study, set_up_staff
from celltrial.study.audit import service as audit
from celltrial.study.audit.chain import VerifyReport
from celltrial.study.consent.models import Consent, IcfVersion
from celltrial.study.forms.models import FormInstance, FormRevision
from celltrial.study.screening.models import ScreeningAttempt
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial.models import Trial
from celltrial.study.visits import service as visits

__all__ = ["DEMO_PASSWORD", "TrialWorld", "build_trial", "forms_and_chain", "scratch_database"]

TODAY = datetime.now(UTC).date()


@dataclass(frozen=True)
class TrialWorld:
    """The trial RECRUITING at sites S01 and S02; subjects of S01 (ids); the demo logins' password."""

    url: str
    study_id: int
    site_id: int
    enrolled: list[int]
    candidates: list[int]
    investigator: str = "investigator"
    coordinator: str = "coordinator"
    lab: str = "lab"
    lab2: str = "s01.lab2"
    password: str = DEMO_PASSWORD


@contextmanager
def scratch_database(like: str, folder: Path) -> Iterator[str]:
    """A new, empty database of the kind of ``like``: a SQLite file in ``folder``, or a database on
    the same PostgreSQL server, dropped with its connections at the end (even after a restart)."""
    if like.startswith("sqlite"):
        yield f"sqlite:///{folder / f'scratch_{uuid.uuid4().hex[:8]}.db'}"
        return
    with scratch_postgres("celltrial_reliability", admin_url=like) as url:
        yield url


def forms_and_chain(session: Session) -> tuple[dict[int, int], dict[int, int], VerifyReport]:
    """Each form's version, each form's number of revisions, and the audit chain's verification:
    after any run, a form's version must equal its revisions and the chain must verify."""
    versions = dict(session.execute(select(FormInstance.id, FormInstance.version)).all())
    counted = select(FormRevision.form_id, func.count()).group_by(FormRevision.form_id)
    revisions = dict(session.execute(counted).all())
    return versions, revisions, audit.verify(session)


def _eligible(screening_date: date) -> dict[str, object]:
    """A screening snapshot: every inclusion met, every exclusion not met (as the engine writes it)."""
    criteria = [
        {
            "id": identifier,
            "kind": kind,
            "text": f"criterion {identifier}",
            "verdict": "met" if kind == "inclusion" else "not_met",
            "reason": "from the screening form",
            "evidence": [{"fact": "age", "value": 40, "unit": "a", "date": str(screening_date)}],
        }
        for identifier, kind in [(f"I{n}", "inclusion") for n in range(1, 10)]
        + [(f"E{n}", "exclusion") for n in range(1, 13)]
    ]
    return {"decision": "eligible", "screening_date": str(screening_date), "criteria": criteria}


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def build_trial(url: str, *, enrolled: int, candidates: int = 0, casebooks: int = 0) -> TrialWorld:
    """Migrate the empty database at ``url`` and fill it: staff, study, ``enrolled`` enrolled subjects
    and ``candidates`` consented subjects screened eligible, waiting to be enrolled (all at S01).

    ``casebooks``: the first ``casebooks`` enrolled subjects have their visits scheduled, each
    with its forms (about eighty a subject), through the visit service.
    """
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        scenario = default_scenario()
        with quick_password_hashing(), unit_of_work(sessions) as session:
            staff = set_up_staff(session, scenario)
            study_id = register_study(session, scenario, staff)
        team = staff.sites["S01"]
        with unit_of_work(sessions) as session:
            icf = session.scalars(select(IcfVersion).where(IcfVersion.study_id == study_id)).one()
            people = [
                Subject(
                    study_id=study_id,
                    site_id=team.site_id,
                    screening_number=f"S01-S{number:04d}",
                    subject_number=f"S01-{number:03d}" if number <= enrolled else None,
                    status=SubjectStatus.ENROLLED if number <= enrolled else SubjectStatus.SCREENING,
                    date_of_birth=date(1970 + number % 30, 1 + number % 12, 1 + number % 28),
                    sex="female" if number % 2 else "male",
                    initials="AB",
                    enrolment_date=TODAY - timedelta(days=20) if number <= enrolled else None,
                    created_by_id=team.investigator.id,
                )
                for number in range(1, enrolled + candidates + 1)
            ]
            session.add_all(people)
            session.get_one(Trial, study_id).enrolled_count = enrolled
            session.flush()
            for subject in people:
                session.add(
                    Consent(
                        subject_id=subject.id,
                        icf_version_id=icf.id,
                        signed_at=_at(TODAY - timedelta(days=30)),
                        signer="subject",
                        recorded_by_id=team.investigator.id,
                    )
                )
                session.add(
                    ScreeningAttempt(
                        subject_id=subject.id,
                        attempt=1,
                        screening_date=TODAY - timedelta(days=25),
                        rule_set_version="reliability",
                        engine_decision="eligible",
                        decision="eligible",
                        snapshot=_eligible(TODAY - timedelta(days=25)),
                        snapshot_hash="0" * 64,
                        recorded_by_id=team.investigator.id,
                    )
                )
            ids = [subject.id for subject in people]
            for subject in people[: min(casebooks, enrolled)]:
                visits.schedule_after_enrolment(session, subject=subject, by=team.investigator)
    finally:
        engine.dispose()
    return TrialWorld(
        url=url,
        study_id=study_id,
        site_id=team.site_id,
        enrolled=ids[:enrolled],
        candidates=ids[enrolled:],
        lab2=team.lab2.username,
    )
