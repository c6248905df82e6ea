"""Test data of the end-to-end tests: two sites and one user per role, made through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.study.consent import service as consents
from celltrial.study.sites import service as sites
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users import service as users
from celltrial.study.users.models import SITE_ROLES, Role

PASSWORD = "Marrow-Aphaeresis-2025"
"""Every test user's password (it follows the password rules)."""


@dataclass
class World:
    """The trial RECRUITING with ICF 1.0; site A (S01) and site B (S02); usernames by role."""

    url: str
    site_a: int
    site_b: int
    study_id: int = 0
    usernames: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, who: str) -> str:
        return self.usernames[who]


def build_world(url: str, sessions: sessionmaker[Session]) -> World:
    """Sites A and B, one user per role (site roles at A), an investigator and a coordinator at B."""
    admin = users.operator("e2e")
    with unit_of_work(sessions) as session:
        site_a = sites.create(session, code="S01", name="Hospital A", country="China", by=admin)
        site_b = sites.create(session, code="S02", name="Hospital B", country="China", by=admin)
        world = World(url=url, site_a=site_a.id, site_b=site_b.id)
        for role in Role:
            username = role.value.replace("_", "-")
            users.create(
                session,
                username=username,
                full_name=f"Dr {role.value.replace('_', ' ').title()} Tester",
                role=role,
                password=PASSWORD,
                site_id=site_a.id if role in SITE_ROLES else None,
                by=admin,
            )
            world.usernames[role.value] = username
        for role in (Role.INVESTIGATOR, Role.COORDINATOR):
            username = f"{role.value}-b"
            users.create(
                session,
                username=username,
                full_name=f"Dr {role.value.title()} Of Site B",
                role=role,
                password=PASSWORD,
                site_id=site_b.id,
                by=admin,
            )
            world.usernames[f"{role.value}_b"] = username
        sponsor = users.get_by_username_or_raise(session, username=world["sponsor"])
        trial = trials.register(session, nct_id="NCT07008872", by=sponsor)
        trials.change_status(
            session, study_id=trial.id, status="RECRUITING", reason="sites initiated", by=sponsor
        )
        approved = utcnow().date() - timedelta(days=400)
        consents.approve_icf_version(
            session, study_id=trial.id, version="1.0", approved_on=approved, by=sponsor
        )
        world.study_id = trial.id
    return world
