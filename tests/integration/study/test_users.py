"""Users: argon2id passwords, sign-in, lockout, disable, reset; logins in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from study_world import PASSWORD, World

from celltrial.database import unit_of_work
from celltrial.errors import Conflict, InvalidInput, NotAllowed, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntry
from celltrial.study.users import service as users
from celltrial.study.users.models import Role
from celltrial.study.users.passwords import PasswordPolicy

STRICT = PasswordPolicy(max_failed_logins=3)


def _login(
    sessions: sessionmaker[Session], username: str, password: str, policy: PasswordPolicy = STRICT
) -> str:
    with unit_of_work(sessions) as session:
        return users.authenticate(session, username=username, password=password, policy=policy).username


def _actions(sessions: sessionmaker[Session]) -> list[str]:
    with unit_of_work(sessions) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_passwords_are_stored_as_argon2id_hashes(sessions: sessionmaker[Session], world: World) -> None:
    with unit_of_work(sessions) as session:
        stored = users.get_by_username_or_raise(session, username="monitor").password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_user_signs_in_with_the_right_password_and_the_login_is_audited(
    sessions: sessionmaker[Session], world: World
) -> None:
    assert _login(sessions, "Monitor", PASSWORD) == "monitor"
    assert _actions(sessions)[-1] == "login"
    with unit_of_work(sessions) as session:
        assert users.get_by_username_or_raise(session, username="monitor").last_login_at is not None


def test_a_wrong_password_is_refused_and_the_failure_is_recorded_despite_the_rollback(
    sessions: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(NotAllowed, match="wrong username or password"):
        _login(sessions, "monitor", "not the password at all")
    with unit_of_work(sessions) as session:
        assert users.get_by_username_or_raise(session, username="monitor").failed_logins == 1
        failure = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert failure is not None
    assert (failure.action, failure.actor) == ("login.failed", "monitor")


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(
    sessions: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(NotAllowed, match="wrong username or password"):
        _login(sessions, "nobody", PASSWORD)
    assert _actions(sessions)[-1] == "login.failed"


def test_the_account_locks_after_the_configured_number_of_failures_even_for_the_right_password(
    sessions: sessionmaker[Session], world: World
) -> None:
    for _ in range(STRICT.max_failed_logins):
        with pytest.raises(NotAllowed):
            _login(sessions, "coordinator", "wrong wrong wrong")
    with pytest.raises(NotAllowed, match="locked after 3 failed logins"):
        _login(sessions, "coordinator", PASSWORD)
    assert "lock" in _actions(sessions)
    with unit_of_work(sessions) as session:
        assert users.get_by_username_or_raise(session, username="coordinator").locked


def test_lockout_defaults_to_five_failures(sessions: sessionmaker[Session], world: World) -> None:
    default = PasswordPolicy()
    for attempt in range(1, 6):
        with pytest.raises(NotAllowed):
            _login(sessions, "sponsor", "wrong wrong wrong", default)
        with unit_of_work(sessions) as session:
            assert users.get_by_username_or_raise(session, username="sponsor").locked is (attempt == 5)


def test_a_successful_login_resets_the_failure_count(sessions: sessionmaker[Session], world: World) -> None:
    for _ in range(2):
        with pytest.raises(NotAllowed):
            _login(sessions, "dsmb", "wrong wrong wrong")
    _login(sessions, "dsmb", PASSWORD)
    with unit_of_work(sessions) as session:
        assert users.get_by_username_or_raise(session, username="dsmb").failed_logins == 0


def test_a_password_reset_lifts_the_lockout(sessions: sessionmaker[Session], world: World) -> None:
    for _ in range(STRICT.max_failed_logins):
        with pytest.raises(NotAllowed):
            _login(sessions, "coordinator", "wrong wrong wrong")
    with unit_of_work(sessions) as session:
        users.reset_password(
            session, username="coordinator", password="a brand new passphrase", by=users.operator("tester")
        )
    assert _login(sessions, "coordinator", "a brand new passphrase") == "coordinator"


def test_a_disabled_account_cannot_sign_in(sessions: sessionmaker[Session], world: World) -> None:
    with unit_of_work(sessions) as session:
        users.disable(session, username="sponsor", reason="left the company", by=users.operator("tester"))
    with pytest.raises(NotAllowed, match="disabled"):
        _login(sessions, "sponsor", PASSWORD)
    with unit_of_work(sessions) as session:
        entry = audit.history(session, entity="user", entity_id=str(world["sponsor"].id))[1]
    assert (entry.action, entry.reason) == ("disable", "left the company")


def test_site_roles_need_a_site_and_central_roles_have_none(
    sessions: sessionmaker[Session], world: World
) -> None:
    admin = users.operator("tester")
    with pytest.raises(InvalidInput, match="belongs to a site"), unit_of_work(sessions) as session:
        users.create(
            session, username="nosite", full_name="No Site", role="coordinator", password=PASSWORD, by=admin
        )
    with pytest.raises(InvalidInput, match="across sites"), unit_of_work(sessions) as session:
        users.create(
            session,
            username="sitedm",
            full_name="Site Manager",
            role=Role.DATA_MANAGER,
            password=PASSWORD,
            site_id=world.s01.id,
            by=admin,
        )


def test_usernames_are_unique(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(Conflict), unit_of_work(sessions) as session:
        users.create(
            session,
            username="monitor",
            full_name="Other",
            role="monitor",
            password=PASSWORD,
            by=users.operator(),
        )


def test_an_unknown_site_is_reported(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(NotFound), unit_of_work(sessions) as session:
        users.create(
            session,
            username="lost",
            full_name="Lost Coordinator",
            role="coordinator",
            password=PASSWORD,
            site_id=999,
            by=users.operator(),
        )


def test_only_an_administrator_manages_users(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(NotAllowed), unit_of_work(sessions) as session:
        users.disable(session, username="monitor", reason="no", by=world["data_manager"])


def test_a_weak_password_is_refused_without_creating_the_user(
    sessions: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(InvalidInput) as refused, unit_of_work(sessions) as session:
        users.create(
            session,
            username="weak",
            full_name="Weak Pw",
            role="sponsor",
            password="short",
            by=users.operator(),
        )
    assert refused.value.field == "password"
    with unit_of_work(sessions) as session:
        assert users.get_by_username(session, username="weak") is None
