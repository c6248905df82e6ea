"""Web sessions and API tokens on SQLite and PostgreSQL: hashed secrets, expiry, idle timeout, revocation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.errors import InvalidInput, NotAllowed, NotFound
from celltrial.study.audit.models import AuditEntry
from celltrial.study.sessions import service as sign_in
from celltrial.study.sessions.models import ApiToken, WebSession
from celltrial.study.types import utcnow
from celltrial.study.users import passwords
from celltrial.study.users import service as users
from celltrial.study.users.models import User

PASSWORD = "Apheresis-Window-2025"


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def people(sessions: sessionmaker[Session]) -> dict[str, User]:
    admin = users.operator("tests")
    with unit_of_work(sessions) as session:
        return {
            name: users.create(
                session,
                username=name,
                full_name=f"{name.title()} Person",
                role="monitor",
                password=PASSWORD,
                by=admin,
            )
            for name in ("ann", "bob")
        }


def test_a_token_finds_its_user_and_only_its_hash_is_stored(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        secret, _ = sign_in.issue_token(session, user=people["ann"], lifetime=timedelta(hours=1))
    with unit_of_work(sessions) as session:
        assert sign_in.user_for_token(session, secret=secret).username == "ann"
        stored = session.scalars(select(ApiToken.secret_hash)).all()
    assert secret not in stored


def test_an_expired_token_is_refused(sessions: sessionmaker[Session], people: dict[str, User]) -> None:
    with unit_of_work(sessions) as session:
        secret, _ = sign_in.issue_token(session, user=people["ann"], lifetime=timedelta(minutes=1))
    with unit_of_work(sessions) as session, pytest.raises(NotAllowed, match="expired"):
        sign_in.user_for_token(session, secret=secret, now=utcnow() + timedelta(minutes=2))


def test_a_user_cannot_revoke_another_users_token(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        _, token = sign_in.issue_token(session, user=people["ann"], lifetime=timedelta(hours=1))
    with unit_of_work(sessions) as session, pytest.raises(NotFound):
        sign_in.revoke_token(session, token_id=token.id, by=people["bob"])


def test_a_token_of_a_disabled_user_is_refused(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        secret, _ = sign_in.issue_token(session, user=people["bob"], lifetime=timedelta(hours=1))
        users.disable(session, username="bob", reason="left", by=users.operator("tests"))
    with unit_of_work(sessions) as session, pytest.raises(NotAllowed, match="disabled"):
        sign_in.user_for_token(session, secret=secret)


def test_a_web_session_ends_after_the_idle_timeout(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        secret, _ = sign_in.start(session, user=people["ann"])
    idle = timedelta(minutes=15)
    with unit_of_work(sessions) as session:
        assert sign_in.resume(session, secret=secret, idle_timeout=idle) is not None
    with unit_of_work(sessions) as session:
        later = utcnow() + timedelta(minutes=16)
        assert sign_in.resume(session, secret=secret, idle_timeout=idle, now=later) is None
    with unit_of_work(sessions) as session:
        row = session.scalars(select(WebSession)).one()
        assert row.end_reason == "idle"
        assert sign_in.resume(session, secret=secret, idle_timeout=idle) is None


def test_logout_ends_the_session_and_is_audited(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        secret, _ = sign_in.start(session, user=people["ann"])
    with unit_of_work(sessions) as session:
        assert sign_in.end(session, secret=secret) is not None
    with unit_of_work(sessions) as session:
        assert sign_in.resume(session, secret=secret, idle_timeout=timedelta(hours=1)) is None
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ann")).all()
    assert "logout" in actions


def test_changing_the_password_ends_other_sessions_and_revokes_tokens(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        here, kept = sign_in.start(session, user=people["ann"])
        elsewhere, _ = sign_in.start(session, user=people["ann"])
        token, _ = sign_in.issue_token(session, user=people["ann"], lifetime=timedelta(hours=1))
    with unit_of_work(sessions) as session:
        user = users.get_or_raise(session, user_id=people["ann"].id)
        sign_in.change_password(
            session, user=user, current_password=PASSWORD, new_password="Infusion-Bag-Check-7", keep=kept
        )
    with unit_of_work(sessions) as session:
        hour = timedelta(hours=1)
        assert sign_in.resume(session, secret=here, idle_timeout=hour) is not None
        assert sign_in.resume(session, secret=elsewhere, idle_timeout=hour) is None
        with pytest.raises(NotAllowed):
            sign_in.user_for_token(session, secret=token)
        assert users.authenticate(session, username="ann", password="Infusion-Bag-Check-7").username == "ann"


def test_the_new_password_must_differ_from_the_current_one(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        user = users.get_or_raise(session, user_id=people["ann"].id)
        with pytest.raises(InvalidInput, match="differ"):
            sign_in.change_password(session, user=user, current_password=PASSWORD, new_password=PASSWORD)


def test_using_a_token_records_its_last_use_at_most_every_half_minute(
    sessions: sessionmaker[Session], people: dict[str, User]
) -> None:
    with unit_of_work(sessions) as session:
        secret, token = sign_in.issue_token(session, user=people["ann"], lifetime=timedelta(hours=1))
    later = utcnow() + timedelta(minutes=1)
    with unit_of_work(sessions) as session:
        sign_in.user_for_token(session, secret=secret, now=later)
    with unit_of_work(sessions) as session:
        sign_in.user_for_token(session, secret=secret, now=later + timedelta(seconds=5))
    with unit_of_work(sessions) as session:
        assert session.get_one(ApiToken, token.id).last_used_at == later


@pytest.mark.postgres
def test_a_request_never_waits_for_another_one_touching_the_same_token(postgres_database: str) -> None:
    from sqlalchemy import text

    from celltrial.database import upgrade

    engine = make_engine(postgres_database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    factory = session_factory(engine)
    try:
        admin = users.operator("tests")
        with unit_of_work(factory) as session:
            user = users.create(
                session, username="cat", full_name="Cat Person", role="sponsor", password=PASSWORD, by=admin
            )
            secret, token = sign_in.issue_token(session, user=user, lifetime=timedelta(hours=1))
        first, second = factory(), factory()
        try:
            sign_in.user_for_token(first, secret=secret, now=utcnow() + timedelta(minutes=1))  # holds the row
            second.execute(text("SET LOCAL lock_timeout = '500ms'"))
            sign_in.user_for_token(second, secret=secret, now=utcnow() + timedelta(minutes=2))
            second.commit()
            first.commit()
        finally:
            first.close()
            second.close()
        with unit_of_work(factory) as session:
            assert session.get_one(ApiToken, token.id).last_used_at is not None
    finally:
        engine.dispose()
