"""The demo accounts: one per role, the printed password, site roles at the site, created once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.simulate.demo_users import DEMO_PASSWORD, DEMO_USERS, create_demo_users, quick_password_hashing
from celltrial.study.audit import service as audit
from celltrial.study.sites import service as sites
from celltrial.study.users import passwords
from celltrial.study.users import service as users
from celltrial.study.users.models import SITE_ROLES, Role


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def test_there_is_one_demo_account_per_role_and_a_second_call_adds_nothing(
    sessions: sessionmaker[Session],
) -> None:
    admin = users.operator("demo")
    with quick_password_hashing(), unit_of_work(sessions) as session:
        site = sites.create(session, code="S01", name="First Hospital", country="China", by=admin)
        made = create_demo_users(session, site_id=site.id, by=admin)
    assert set(made) == set(Role)
    with sessions() as session:
        entries = audit.count(session)
        for role, (username, _name) in DEMO_USERS.items():
            user = users.get_by_username_or_raise(session, username=username)
            assert Role(user.role) is role
            assert (user.site_id == site.id) == (role in SITE_ROLES)
            assert passwords.needs_rehash(user.password_hash)
    with quick_password_hashing(), unit_of_work(sessions) as session:
        again = create_demo_users(session, site_id=site.id, by=admin)
    assert {role: user.id for role, user in again.items()} == {role: user.id for role, user in made.items()}
    with sessions() as session:
        assert audit.count(session) == entries


def test_a_demo_account_signs_in_with_the_printed_password_and_its_hash_is_renewed(
    sessions: sessionmaker[Session],
) -> None:
    admin = users.operator("demo")
    with quick_password_hashing(), unit_of_work(sessions) as session:
        site = sites.create(session, code="S01", name="First Hospital", country="China", by=admin)
        create_demo_users(session, site_id=site.id, by=admin)
    with unit_of_work(sessions) as session:
        user = users.authenticate(session, username="monitor", password=DEMO_PASSWORD)
        assert not passwords.needs_rehash(user.password_hash)
    with unit_of_work(sessions) as session:
        assert users.authenticate(session, username="monitor", password=DEMO_PASSWORD).username == "monitor"
