"""Test data of the study-core integration tests: two sites and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.study.sites import service as sites
from celltrial.study.sites.models import Site
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
