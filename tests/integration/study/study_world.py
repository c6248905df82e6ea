"""Test data of the study-core integration tests: two sites and one user per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.protocol.status import StudyStatus
from celltrial.study.sites import service as sites
from celltrial.study.sites.models import Site
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial.models import Trial
from celltrial.study.users import service as users
from celltrial.study.users.models import SITE_ROLES, Role, User

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class World:
    """Two sites and one user per role (site roles at site S01, plus an investigator at S02)."""

    s01: Site
    s02: Site
    users: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


def build_world(sessions: sessionmaker[Session]) -> World:
    """Sites S01 and S02 and a user of every role, created by the console operator."""
    admin = users.operator("tester")
    with unit_of_work(sessions) as session:
        s01 = sites.create(session, code="S01", name="First Hospital", country="China", by=admin)
        s02 = sites.create(session, code="S02", name="Second Hospital", country="China", by=admin)
        people: dict[str, User] = {}
        for role in Role:
            people[role.value] = users.create(
                session,
                username=role.value.replace("_", "-"),
                full_name=f"Dr {role.value.title()} Person",
                role=role,
                password=PASSWORD,
                site_id=s01.id if role in SITE_ROLES else None,
                by=admin,
            )
        people["investigator_s02"] = users.create(
            session,
            username="investigator-two",
            full_name="Dr Second Investigator",
            role=Role.INVESTIGATOR,
            password=PASSWORD,
            site_id=s02.id,
            by=admin,
        )
    return World(s01, s02, people)


def add_subjects(sessions: sessionmaker[Session], world: World, count: int = 2) -> list[int]:
    """``count`` screened subjects at site S01 (rows only: the subject services are tested elsewhere)."""
    with unit_of_work(sessions) as session:
        trial = Trial(nct_id="NCT07008872", title="CD7 CAR-T", status=StudyStatus.RECRUITING)
        session.add(trial)
        session.flush()
        made = [
            Subject(
                study_id=trial.id,
                site_id=world.s01.id,
                screening_number=f"S01-SCR-{n:03d}",
                status=SubjectStatus.SCREENING,
                date_of_birth=date(1980, 1, n),
                sex="female",
                initials="AB",
                created_by_id=world["coordinator"].id,
            )
            for n in range(1, count + 1)
        ]
        session.add_all(made)
        session.flush()
        return [subject.id for subject in made]
