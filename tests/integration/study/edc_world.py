"""Test data of the EDC integration tests: the trial, an ICF, eligibility results, subjects.

Builds on the study-core ``world`` fixture (sites S01, S02 and one user per role). Import the
fixture into a test module with ``from edc_world import edc_fixture  # noqa: F401``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from study_world import World

from celltrial.database import Base, unit_of_work
from celltrial.study.audit.models import AuditEntry
from celltrial.study.consent import service as consents
from celltrial.study.screening import service as screenings
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import Subject
from celltrial.study.trial import service as trials

T = TypeVar("T")
TODAY = datetime.now(UTC).date()
ICF_APPROVED = TODAY - timedelta(days=400)
INCLUSIONS = [f"I{number}" for number in range(1, 10)]
EXCLUSIONS = [f"E{number}" for number in range(1, 13)]
EDC_TABLES = (
    "study",
    "subject",
    "screening_attempt",
    "eligibility_judgment",
    "icf_version",
    "consent",
    "visit",
    "form_instance",
    "form_revision",
    "source_verification",
    "data_query",
    "query_event",
)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def eligibility_result(
    *,
    screening_date: date | None = None,
    verdicts: dict[str, str] | None = None,
    rule_set_version: str | None = "NCT07008872 rules 1",
) -> dict[str, Any]:
    """An engine result: inclusions met and exclusions not met, unless ``verdicts`` say otherwise."""
    verdicts = verdicts or {}
    criteria = [
        {
            "id": identifier,
            "kind": kind,
            "text": f"criterion {identifier}",
            "verdict": verdicts.get(identifier, "met" if kind == "inclusion" else "not_met"),
            "reason": "from the screening form",
            "evidence": [{"fact": "age", "value": 40, "unit": "a", "date": str(screening_date or TODAY)}],
        }
        for identifier, kind in [(i, "inclusion") for i in INCLUSIONS]
        + [(e, "exclusion") for e in EXCLUSIONS]
    ]
    inclusion = [c["verdict"] for c in criteria if c["kind"] == "inclusion"]
    exclusion = [c["verdict"] for c in criteria if c["kind"] == "exclusion"]
    if "not_met" in inclusion or "met" in exclusion:
        decision = "ineligible"
    elif all(v == "met" for v in inclusion) and all(v == "not_met" for v in exclusion):
        decision = "eligible"
    else:
        decision = "incomplete"
    result: dict[str, Any] = {
        "decision": decision,
        "screening_date": str(screening_date or days_ago(3)),
        "criteria": criteria,
    }
    if rule_set_version:
        result["rule_set_version"] = rule_set_version
    return result


@dataclass
class Edc:
    """The trial registered and RECRUITING, with ICF version 1 approved, on top of the core world."""

    sessions: sessionmaker[Session]
    world: World
    study_id: int

    def __getitem__(self, name: str) -> Any:
        return self.world[name]

    def run(self, action: Callable[[Session], T]) -> T:
        """Run ``action`` in one unit of work."""
        with unit_of_work(self.sessions) as session:
            return action(session)

    def new_subject(
        self, *, site: str = "S01", born: date = date(1980, 5, 17), sex: str = "female", initials: str = "ABC"
    ) -> int:
        by = self["investigator"] if site == "S01" else self["investigator_s02"]
        site_id = self.world.s01.id if site == "S01" else self.world.s02.id
        return self.run(
            lambda s: (
                subjects.register(
                    s,
                    study_id=self.study_id,
                    site_id=site_id,
                    date_of_birth=born,
                    sex=sex,
                    initials=initials,
                    by=by,
                ).id
            )
        )

    def consent(self, subject_id: int, *, day: date | None = None, version: str = "1.0") -> None:
        by = self._site_user(subject_id)
        self.run(
            lambda s: consents.record_consent(
                s, subject_id=subject_id, icf_version=version, signed_at=at(day or days_ago(5)), by=by
            )
        )

    def screen(self, subject_id: int, **result: Any) -> int:
        by = self._site_user(subject_id)
        return self.run(
            lambda s: (
                screenings.record(s, subject_id=subject_id, result=eligibility_result(**result), by=by).id
            )
        )

    def eligible_subject(self, *, site: str = "S01", **options: Any) -> int:
        subject_id = self.new_subject(site=site, **options)
        self.consent(subject_id)
        self.screen(subject_id)
        return subject_id

    def enrolled_subject(self, *, site: str = "S01", on: date | None = None, **options: Any) -> int:
        subject_id = self.eligible_subject(site=site, **options)
        by = self._site_user(subject_id)
        self.run(lambda s: subjects.enrol(s, subject_id=subject_id, by=by, on=on))
        return subject_id

    def subject(self, subject_id: int) -> Subject:
        return self.run(lambda s: s.get_one(Subject, subject_id))

    def _site_user(self, subject_id: int) -> Any:
        site_id = self.run(lambda s: s.get_one(Subject, subject_id).site_id)
        return self["investigator"] if site_id == self.world.s01.id else self["investigator_s02"]

    def footprint(self) -> dict[str, int]:
        """Rows in every EDC table and in the audit trail."""
        with self.sessions() as session:
            counts = {
                name: int(session.scalar(select(func.count()).select_from(Base.metadata.tables[name])) or 0)
                for name in EDC_TABLES
            }
            counts["audit_entry"] = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        return counts

    def refuses(
        self, error: type[Exception], action: Callable[[Session], object], *, field: str
    ) -> Exception:
        """Assert ``action`` fails with ``error`` naming ``field`` and leaves nothing written."""
        before = self.footprint()
        with pytest.raises(error) as refused:
            self.run(action)
        assert getattr(refused.value, "field", None) == field, str(refused.value)
        assert self.footprint() == before
        return refused.value


@pytest.fixture(name="edc")
def edc_fixture(world: World, sessions: sessionmaker[Session]) -> Edc:
    """The trial NCT07008872 registered by the sponsor, RECRUITING, ICF 1.0 approved."""
    sponsor = world["sponsor"]
    with unit_of_work(sessions) as session:
        trial = trials.register(session, nct_id="NCT07008872", by=sponsor)
        trials.change_status(
            session, study_id=trial.id, status="RECRUITING", reason="site initiated", by=sponsor
        )
        consents.approve_icf_version(
            session, study_id=trial.id, version="1.0", approved_on=ICF_APPROVED, by=sponsor
        )
        study_id = trial.id
    return Edc(sessions=sessions, world=world, study_id=study_id)
