"""The audit trail records logins, failed logins, logouts, role changes and exports (ICH E6(R3) 4.2.2),
and no password, token or session cookie ever reaches a log.

Issue #13, "Security". Logs are captured at DEBUG from every logger, SQLAlchemy's statement and
parameter log included, while users sign in and out, get and use tokens, fail to sign in,
change their password and an administrator adds a user. (The CSRF token is not among the
secrets: it is stored with its session, synchronizer-token style, and signs no one in.)
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from pages import csrf_of, log_in, token_headers
from sqlalchemy import select

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.errors import Conflict, InvalidInput, NotAllowed
from celltrial.study.audit.models import AuditEntry
from celltrial.study.users import service as users
from celltrial.study.users.models import Role
from celltrial.web.app import create_app
from celltrial.web.deps import SESSION_COOKIE
from celltrial.web.settings import WebSettings


def _entries(world: World, action: str, **where: Any) -> list[AuditEntry]:
    engine = make_engine(world.url)
    try:
        with session_factory(engine)() as session:
            query = select(AuditEntry).where(AuditEntry.action == action)
            for column, value in where.items():
                query = query.where(getattr(AuditEntry, column) == value)
            found = list(session.scalars(query.order_by(AuditEntry.id)))
            session.expunge_all()
            return found
    finally:
        engine.dispose()


def test_a_login_through_the_page_and_through_the_api_is_audited(client: TestClient, world: World) -> None:
    before = len(_entries(world, "login", actor=world["monitor"]))
    log_in(client, world["monitor"])
    token_headers(client, world["monitor"])
    assert len(_entries(world, "login", actor=world["monitor"])) == before + 2


def test_a_failed_login_is_audited_with_its_reason_but_never_the_password(
    client: TestClient, world: World
) -> None:
    guess = "Guessed-Password-123"
    client.post("/api/v1/auth/token", data={"username": world["dsmb"], "password": guess})
    client.post("/api/v1/auth/token", data={"username": "no-such-person", "password": guess})
    failed = _entries(world, "login.failed")
    reasons = {(entry.actor, str(entry.new_value)) for entry in failed}
    assert any(actor == world["dsmb"] and "wrong password" in new for actor, new in reasons)
    assert any(actor == "no-such-person" and "unknown username" in new for actor, new in reasons)
    assert all(guess not in f"{entry.old_value}{entry.new_value}{entry.reason}" for entry in failed)


def test_a_logout_is_audited(client: TestClient, world: World) -> None:
    before = len(_entries(world, "logout", actor=world["sponsor"]))
    csrf = log_in(client, world["sponsor"])
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert len(_entries(world, "logout", actor=world["sponsor"])) == before + 1


def test_a_role_change_is_audited_with_old_and_new_role_and_the_reason(world: World) -> None:
    engine = make_engine(world.url)
    try:
        sessions = session_factory(engine)
        with unit_of_work(sessions) as session:
            admin = users.get_by_username_or_raise(session, username=world["admin"])
            users.create(
                session, username="moving-monitor", full_name="Moving Monitor", role=Role.MONITOR,
                password=PASSWORD, by=admin,
            )  # fmt: skip
        with unit_of_work(sessions) as session:
            admin = users.get_by_username_or_raise(session, username=world["admin"])
            changed = users.change_role(
                session, username="moving-monitor", role="coordinator", site_id=world.site_b,
                reason="moved to site B as coordinator", by=admin,
            )  # fmt: skip
            assert changed.role is Role.COORDINATOR
    finally:
        engine.dispose()
    (entry,) = _entries(world, "role.change")
    assert entry.actor == world["admin"]
    assert entry.field == "role"
    assert '"monitor"' in str(entry.old_value)
    assert '"coordinator"' in str(entry.new_value)
    assert entry.reason == "moved to site B as coordinator"
    assert entry.site_id == world.site_b


@pytest.mark.parametrize(
    ("who", "role", "site", "reason", "error"),
    [
        ("investigator", "monitor", None, "promotion", NotAllowed),
        ("admin", "coordinator", None, "no site given", InvalidInput),
        ("admin", "monitor", "a", "central roles have no site", InvalidInput),
        ("admin", "monitor", None, "  ", InvalidInput),
        ("admin", "dsmb", None, "the same role again", Conflict),
    ],
)
def test_a_role_change_is_refused_when_it_breaks_a_rule(
    world: World, who: str, role: str, site: str | None, reason: str, error: type[Exception]
) -> None:
    engine = make_engine(world.url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            by = users.get_by_username_or_raise(session, username=world[who])
            with pytest.raises(error):
                users.change_role(
                    session, username=world["dsmb"], role=role, reason=reason, by=by,
                    site_id=world.site_a if site else None,
                )  # fmt: skip
            session.rollback()
    finally:
        engine.dispose()


def test_an_export_through_the_api_is_audited(client: TestClient, world: World) -> None:
    before = len(_entries(world, "export", actor=world["data_manager"]))
    headers = token_headers(client, world["data_manager"])
    response = client.post("/api/v1/exports/ctgov-record", headers=headers)
    assert response.status_code == 200, response.text
    assert len(_entries(world, "export", actor=world["data_manager"])) == before + 1


def test_no_password_token_or_cookie_appears_in_any_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "uvicorn", "uvicorn.access", "httpx", "celltrial"):
        caplog.set_level(logging.DEBUG, logger=name)
    new_password = "Cytokine-Release-Grade-2"
    secrets = [PASSWORD, new_password, "Wrong-Guess-Password-9"]
    app = create_app(world.url, WebSettings())
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.post("/api/v1/auth/token", data={"username": world["cell_lab"], "password": secrets[2]})
        admin = token_headers(browser, world["admin"])
        secrets.append(admin["Authorization"].removeprefix("Bearer "))
        browser.get("/api/v1/auth/me", headers=admin)
        browser.post(
            "/api/v1/users",
            json={
                "username": "log-check",
                "full_name": "Log Check",
                "role": "sponsor",
                "password": new_password,
            },
            headers=admin,
        )
        browser.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-real-token-but-secret"})
        secrets.append("not-a-real-token-but-secret")
        log_in(browser, "log-check", password=new_password)
        secrets.append(browser.cookies[SESSION_COOKIE])
        page = browser.get("/password")
        browser.post(
            "/password",
            data={
                "csrf_token": csrf_of(page.text),
                "current_password": new_password,
                "new_password": new_password + "-x",
                "confirm_password": new_password + "-x",
            },
        )
        secrets.append(new_password + "-x")
    logged = [
        f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    ]
    assert len(logged) > 20, "SQL statements are logged, so the capture works"
    for secret in secrets:
        leaks = [line[:200] for line in logged if secret in line]
        assert not leaks, f"a secret appears in the log: {leaks[:2]}"
