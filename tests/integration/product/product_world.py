"""Test data of the product integration tests: sites, users, enrolled subjects, and a chain driver.

``Lab`` drives a subject's product from apheresis to infusion through the services, one unit of
work per call, with the times of a plausible 3-week vein-to-vein path ending yesterday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from celltrial.clinical.isbt128 import make_din
from celltrial.database import Base, unit_of_work
from celltrial.product import bedside, custody, identity, manufacturing
from celltrial.product.bedside import BedsideRead
from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep, TemperatureRange, TemperatureReading
from celltrial.product.identity import BagSpec
from celltrial.product.models import ApheresisCollection, ChainOfIdentity, ManufacturingLot
from celltrial.product.release_rules import ReleaseResults
from celltrial.protocol.status import StudyStatus
from celltrial.study.audit.models import AuditEntry
from celltrial.study.sites import service as sites
from celltrial.study.sites.models import Site
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial.models import Trial
from celltrial.study.users import service as users
from celltrial.study.users.models import Role, User

T = TypeVar("T")
S = CustodyStep
PASSWORD = "correct horse battery staple"
PRODUCT_TABLES = (
    "chain_of_identity",
    "apheresis_collection",
    "manufacturing_lot",
    "product_bag",
    "release_test",
    "custody_event",
    "temperature_reading",
    "bedside_verification",
    "signature",
)
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=22)
DAY = {
    S.COLLECTED: 0.0,
    S.SHIPPED_TO_MANUFACTURING: 0.2,
    S.RECEIVED: 1.0,
    S.MANUFACTURING_STARTED: 2.0,
    S.QC_SAMPLED: 11.0,
    S.RELEASED: 13.0,
    S.CRYOPRESERVED: 13.2,
    S.SHIPPED_TO_SITE: 15.0,
    S.RECEIVED_AT_SITE: 16.0,
    S.STORED_LN2: 16.1,
    S.THAWED: 21.0,
    S.INFUSED: 21.05,
}
"""Day of each step after apheresis: vein-to-vein 21.05 days."""
COLD = TemperatureRange(2.0, 8.0)
CRYO = TemperatureRange(-196.0, -150.0)
GOOD_RESULTS = ReleaseResults(
    viability_percent=91.0,
    car_positive_percent=42.0,
    cd3_positive_percent=96.0,
    sterility="no_growth",
    endotoxin_eu_per_ml=0.5,
    mycoplasma="negative",
    vector_copy_number=2.0,
)


def when(step: CustodyStep, start: datetime = START) -> datetime:
    return start + timedelta(days=DAY[step])


def din(sequence: int) -> str:
    """A DIN as typed (13 characters and the check character) of facility G1234, year 26."""
    return make_din("G1234", 26, sequence).keyboard_entry


@dataclass
class Lab:
    """Sites, users and enrolled subjects, and the calls that move a product along its chain."""

    sessions: sessionmaker[Session]
    s01: Site
    s02: Site
    people: dict[str, User]
    subjects: dict[str, int]
    bags_of: dict[int, list[str]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> User:
        return self.people[name]

    def run(self, action: Callable[[Session], T]) -> T:
        with unit_of_work(self.sessions) as session:
            return action(session)

    # -- the chain, step by step ---------------------------------------------------------------
    def collect(
        self, subject: str, *, sequence: int | None = None, start: datetime = START
    ) -> ApheresisCollection:
        subject_id = self.subjects[subject]
        number = din(sequence if sequence is not None else subject_id)
        return self.run(
            lambda s: identity.record_collection(
                s,
                by=self["lab"],
                subject_id=subject_id,
                din=number,
                collected_at=start,
                expires_at=start + timedelta(hours=72),
                location="Apheresis unit, First Hospital",
                handed_over_by=self["nurse"],
                received_by=self["lab"],
                counterpart_password=PASSWORD,
            )
        )

    def step(self, subject: str, step: CustodyStep, *, start: datetime = START, **options: Any) -> Any:
        subject_id = self.subjects[subject]
        defaults: dict[str, Any] = {
            "occurred_at": when(step, start) if step in DAY else start,
            "location": "Cell therapy laboratory",
            "handed_over_by": self["lab"],
            "received_by": self["lab2"],
            "counterpart_password": PASSWORD,
        }
        if step is S.SHIPPED_TO_MANUFACTURING:
            defaults["temperature_range"] = COLD
        if step is S.SHIPPED_TO_SITE:
            defaults["temperature_range"] = CRYO
        if step is S.MANUFACTURING_STARTED:
            defaults["lot_number"] = f"LOT-{subject}"
        if step in (S.THAWED, S.INFUSED):
            defaults["bags"] = self.bags_of[subject_id]
            defaults["handed_over_by"] = self["lab"]
            defaults["received_by"] = self["nurse"]
        chosen = {**defaults, **options}
        by = chosen.pop("by", self["lab"])
        return self.run(
            lambda s: custody.record_custody_event(s, by=by, subject_id=subject_id, step=step, **chosen)
        )

    def lot_id(self, subject: str) -> int:
        subject_id = self.subjects[subject]

        def find(session: Session) -> int:
            lot_id = session.scalar(
                select(ManufacturingLot.id)
                .join(ApheresisCollection, ApheresisCollection.id == ManufacturingLot.collection_id)
                .join(ChainOfIdentity, ChainOfIdentity.id == ApheresisCollection.coi_id)
                .where(ChainOfIdentity.subject_id == subject_id)
                .order_by(ManufacturingLot.id.desc())
                .limit(1)
            )
            assert lot_id is not None
            return lot_id

        return self.run(find)

    def end_manufacturing(self, subject: str, *, failure: str | None = None, start: datetime = START) -> None:
        lot_id = self.lot_id(subject)
        at = when(S.MANUFACTURING_STARTED, start) + timedelta(days=8)
        self.run(
            lambda s: manufacturing.end_manufacturing(
                s, by=self["lab"], lot_id=lot_id, ended_at=at, failure_reason=failure
            )
        )

    def register_bags(
        self, subject: str, sequences: tuple[int, ...], *, start: datetime = START
    ) -> list[str]:
        lot_id = self.lot_id(subject)
        expiry = start + timedelta(days=200)
        specs = [BagSpec(din(n), 70.0, 2.0e8, expiry) for n in sequences]
        self.run(lambda s: identity.register_bags(s, by=self["lab"], lot_id=lot_id, bags=specs))
        typed = [din(n) for n in sequences]
        self.bags_of[self.subjects[subject]] = typed
        return typed

    def release_tests(
        self, subject: str, results: ReleaseResults = GOOD_RESULTS, *, start: datetime = START
    ) -> None:
        lot_id = self.lot_id(subject)
        at = when(S.QC_SAMPLED, start) + timedelta(days=1)
        self.run(
            lambda s: manufacturing.record_release_tests(
                s, by=self["lab"], lot_id=lot_id, results=results, weight_kg=70.0, tested_at=at
            )
        )

    def verify(
        self, subject: str, *, bag: str | None = None, wristband: str | None = None, start: datetime = START
    ) -> Any:
        subject_id = self.subjects[subject]
        bag_din = bag or self.bags_of[subject_id][0]
        band = wristband or subject
        at = when(S.THAWED, start) + timedelta(minutes=30)
        return self.run(
            lambda s: bedside.verify_at_bedside(
                s,
                by=self["nurse"],
                subject_id=subject_id,
                verified_at=at,
                first=BedsideRead(bag_din, band),
                second_person=self["nurse2"],
                second_password=PASSWORD,
                second=BedsideRead(bag_din, band),
            )
        )

    def advance(
        self,
        subject: str,
        until: CustodyStep,
        *,
        bags: tuple[int, ...] | None = None,
        start: datetime = START,
    ) -> None:
        """Take the subject's product through every step up to ``until`` (lot end, bags, release, check)."""
        sequences = bags or (self.subjects[subject] * 100 + 1,)
        for step in CHAIN_ORDER[: CHAIN_ORDER.index(until) + 1]:
            if step is S.COLLECTED:
                self.collect(subject, start=start)
                continue
            if step is S.QC_SAMPLED:
                self.end_manufacturing(subject, start=start)
            if step is S.RELEASED:
                self.register_bags(subject, sequences, start=start)
                self.release_tests(subject, start=start)
            if step is S.INFUSED:
                self.verify(subject, start=start)
            self.step(subject, step, start=start)

    # -- what the database holds ---------------------------------------------------------------
    def footprint(self) -> dict[str, int]:
        with self.sessions() as session:
            counts = {
                name: int(session.scalar(select(func.count()).select_from(Base.metadata.tables[name])) or 0)
                for name in PRODUCT_TABLES
            }
            counts["audit_entry"] = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        return counts

    def refuses(
        self, error: type[Exception], action: Callable[[], object], *, field: str | None = None
    ) -> Exception:
        """Assert ``action`` fails with ``error`` (naming ``field``), leaving the product tables unchanged."""
        before = self.footprint()
        with pytest.raises(error) as refused:
            action()
        if field is not None:
            assert getattr(refused.value, "field", None) == field, str(refused.value)
        assert self.footprint() == before
        return refused.value


def build_lab(sessions: sessionmaker[Session]) -> Lab:
    """Sites S01 and S02, the product's people, and enrolled subjects S01-001, S01-002, S02-001."""
    admin = users.operator("tester")
    with unit_of_work(sessions) as session:
        s01 = sites.create(session, code="S01", name="First Hospital", country="China", by=admin)
        s02 = sites.create(session, code="S02", name="Second Hospital", country="China", by=admin)
        roster = {
            "lab": ("lab-one", Role.CELL_LAB, s01.id),
            "lab2": ("lab-two", Role.CELL_LAB, s01.id),
            "nurse": ("nurse-one", Role.INVESTIGATOR, s01.id),
            "nurse2": ("nurse-two", Role.INVESTIGATOR, s01.id),
            "coordinator": ("coordinator", Role.COORDINATOR, s01.id),
            "lab_s02": ("lab-s02", Role.CELL_LAB, s02.id),
            "sponsor": ("sponsor", Role.SPONSOR, None),
            "monitor": ("monitor", Role.MONITOR, None),
            "dsmb": ("dsmb", Role.DSMB, None),
        }
        people = {
            key: users.create(
                session,
                username=username,
                full_name=f"Dr {username.replace('-', ' ').title()}",
                role=role,
                password=PASSWORD,
                site_id=site_id,
                by=admin,
            )
            for key, (username, role, site_id) in roster.items()
        }
        trial = Trial(nct_id="NCT07008872", title="CD7 CAR-T", status=StudyStatus.RECRUITING)
        session.add(trial)
        session.flush()
        enrolled = {"S01-001": s01.id, "S01-002": s01.id, "S01-003": s01.id, "S02-001": s02.id}
        made: dict[str, Subject] = {}
        for n, (number, site_id) in enumerate(enrolled.items(), start=1):
            made[number] = Subject(
                study_id=trial.id,
                site_id=site_id,
                screening_number=f"SCR-{n:03d}",
                subject_number=number,
                status=SubjectStatus.ENROLLED,
                date_of_birth=date(1980, 1, n),
                sex="female",
                initials="AB",
                enrolment_date=START.date(),
                created_by_id=people["coordinator"].id,
            )
        made["SCR-900"] = Subject(
            study_id=trial.id,
            site_id=s01.id,
            screening_number="SCR-900",
            subject_number=None,
            status=SubjectStatus.SCREENING,
            date_of_birth=date(1990, 2, 2),
            sex="male",
            initials="CD",
            created_by_id=people["coordinator"].id,
        )
        session.add_all(made.values())
        session.flush()
        subject_ids = {number: subject.id for number, subject in made.items()}
    return Lab(sessions=sessions, s01=s01, s02=s02, people=people, subjects=subject_ids)


__all__ = [
    "CRYO",
    "GOOD_RESULTS",
    "PASSWORD",
    "START",
    "Lab",
    "TemperatureReading",
    "build_lab",
    "din",
    "when",
]
