"""Authentication: argon2id, lockout, idle timeout, no session fixation, server-side logout, hashed tokens.

Issue #13, "Security". Each promise is tested from the outside (HTTP) and then in the database
itself: the SQLite file, read byte by byte, holds no password, token or session cookie in clear.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import argon2
import pytest
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from pages import csrf_of, log_in, token_headers
from sqlalchemy import create_engine, select, text, update

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.sessions.models import WebSession
from celltrial.study.types import utcnow
from celltrial.study.users import passwords
from celltrial.study.users import service as users
from celltrial.web.app import create_app
from celltrial.web.deps import SESSION_COOKIE
from celltrial.web.settings import WebSettings

PRODUCTION_HASHER = passwords._HASHER
"""The hasher celltrial ships with (the tests swap in a cheaper argon2id while they run)."""


def _add_user(world: World, username: str, role: str = "monitor") -> None:
    engine = make_engine(world.url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            users.create(
                session,
                username=username,
                full_name=f"{username.title()} Person",
                role=role,
                password=PASSWORD,
                by=users.operator("security-test"),
            )
    finally:
        engine.dispose()


def _sql(world: World, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(world.url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def test_passwords_are_stored_as_argon2id_hashes(world: World) -> None:
    hashes = [str(row[0]) for row in _sql(world, "SELECT password_hash FROM user_account")]
    assert len(hashes) >= 10
    for stored in hashes:
        assert stored.startswith("$argon2id$v=19$"), stored[:20]
        assert argon2.extract_parameters(stored).type is argon2.Type.ID
    assert len(set(hashes)) == len(hashes), "same password, different salts: no two hashes alike"


def test_the_shipped_hasher_is_argon2id_with_at_least_the_owasp_minimum_cost() -> None:
    """OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p = 1."""
    assert PRODUCTION_HASHER.type is argon2.Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2


def test_the_fifth_failed_login_locks_the_account_even_for_the_right_password(
    client: TestClient, world: World
) -> None:
    _add_user(world, "lockout-target")
    for _ in range(5):
        wrong = client.post(
            "/api/v1/auth/token", data={"username": "lockout-target", "password": "wrong-guess-1"}
        )
        assert wrong.status_code == 401
    right = client.post("/api/v1/auth/token", data={"username": "lockout-target", "password": PASSWORD})
    assert right.status_code == 401
    assert "locked" in right.json()["detail"]
    actions = _sql(
        world,
        "SELECT action FROM audit_entry WHERE entity = 'user' AND actor = 'lockout-target' ORDER BY id",
    )
    assert [a for (a,) in actions].count("login.failed") == 6
    assert ("lock",) in actions


def test_four_failed_logins_then_the_right_one_reset_the_count(client: TestClient, world: World) -> None:
    _add_user(world, "almost-locked")
    for _ in range(2):
        for _ in range(4):
            client.post("/api/v1/auth/token", data={"username": "almost-locked", "password": "wrong-guess-2"})
        right = client.post("/api/v1/auth/token", data={"username": "almost-locked", "password": PASSWORD})
        assert right.status_code == 200


def test_a_session_idle_past_the_timeout_is_refused_and_ended(client: TestClient, world: World) -> None:
    log_in(client, world["monitor"])
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get("/", follow_redirects=False).status_code == 200
    engine = make_engine(world.url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            session.execute(
                update(WebSession)
                .where(WebSession.ended_at.is_(None))
                .values(last_seen_at=utcnow() - WebSettings().idle_timeout - timedelta(seconds=1))
            )
    finally:
        engine.dispose()
    browser = TestClient(client.app, cookies={SESSION_COOKIE: cookie})
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]
    assert browser.get("/subjects", follow_redirects=False).status_code == 303
    assert WebSettings().idle_timeout == timedelta(minutes=15)
    engine = make_engine(world.url)
    try:
        with session_factory(engine)() as session:
            ended = session.scalars(select(WebSession.end_reason).where(WebSession.ended_at.is_not(None)))
            assert "idle" in set(ended)  # the end is recorded, not rolled back with the refusal
    finally:
        engine.dispose()


def test_a_session_id_planted_before_login_is_not_the_one_signed_in(client: TestClient, world: World) -> None:
    """Session fixation (OWASP): the attacker's chosen cookie value never becomes a signed-in session."""
    client.cookies.clear()
    planted = "attacker-chosen-session-id-0123456789"
    client.cookies.set(SESSION_COOKIE, planted)
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": world["investigator"], "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    issued = response.cookies[SESSION_COOKIE]
    assert issued != planted
    attacker = TestClient(client.app, cookies={SESSION_COOKIE: planted})
    assert attacker.get("/", follow_redirects=False).status_code == 303


def test_a_new_login_ends_the_session_the_browser_held(client: TestClient, world: World) -> None:
    log_in(client, world["coordinator"])
    first = client.cookies[SESSION_COOKIE]
    browser = TestClient(client.app)
    form = browser.get("/login")
    browser.cookies.set(SESSION_COOKIE, first)
    login = browser.post(
        "/login",
        data={"username": world["monitor"], "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert login.status_code == 303
    assert login.cookies[SESSION_COOKIE] != first
    replay = TestClient(client.app, cookies={SESSION_COOKIE: first})
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_on_the_server_so_a_copied_cookie_is_refused(
    client: TestClient, world: World
) -> None:
    csrf = log_in(client, world["data_manager"])
    stolen = client.cookies[SESSION_COOKIE]
    replay = TestClient(client.app, cookies={SESSION_COOKIE: stolen})
    assert replay.get("/", follow_redirects=False).status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert replay.get("/", follow_redirects=False).status_code == 303
    refused = replay.post("/locks", data={"csrf_token": csrf, "reason": "replayed"}, follow_redirects=False)
    assert refused.status_code == 303
    ended = _sql(world, "SELECT end_reason FROM web_session WHERE ended_at IS NOT NULL")
    assert ("logout",) in ended


def test_a_revoked_token_is_refused_and_tokens_are_listed_without_secrets(
    client: TestClient, world: World
) -> None:
    headers = token_headers(client, world["sponsor"])
    secret = headers["Authorization"].removeprefix("Bearer ")
    listed = client.get("/api/v1/auth/tokens", headers=headers)
    assert listed.status_code == 200
    assert secret not in listed.text
    newest = listed.json()[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{newest}", headers=headers).status_code == 200
    refused = client.get("/api/v1/auth/me", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def test_another_users_token_cannot_be_revoked_by_guessing_its_id(client: TestClient, world: World) -> None:
    victim = token_headers(client, world["dsmb"])
    victim_token = client.get("/api/v1/auth/tokens", headers=victim).json()[0]["id"]
    attacker = token_headers(client, world["monitor"])
    assert client.delete(f"/api/v1/auth/tokens/{victim_token}", headers=attacker).status_code == 404
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 200


def test_the_database_file_holds_no_password_token_or_cookie_in_clear(
    tmp_path: Path, world: World, client: TestClient
) -> None:
    headers = token_headers(client, world["admin"])
    token = headers["Authorization"].removeprefix("Bearer ")
    new_password = "Lymphodepletion-Day-Minus-5"
    created = client.post(
        "/api/v1/users",
        json={
            "username": "clear-text-check",
            "full_name": "Clear Check",
            "role": "dsmb",
            "password": new_password,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    log_in(client, world["investigator"])
    cookie = client.cookies[SESSION_COOKIE]
    copy = tmp_path / "copy.db"
    with sqlite3.connect(world.url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    contents = copy.read_bytes()
    assert len(contents) > 10_000
    for secret in (PASSWORD, new_password, token, cookie):
        assert secret.encode() not in contents
        assert secret.encode("utf-16-le") not in contents


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_cookies_are_secure_over_https_only_when_settings_say_auto(world: World, scheme: str) -> None:
    app = create_app(world.url, WebSettings())
    browser = TestClient(app, base_url=f"{scheme}://testserver")
    form = browser.get("/login")
    login = browser.post(
        "/login",
        data={"username": world["monitor"], "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert ("secure" in cookie.split(";")[-1] or "; secure" in cookie) is (scheme == "https")
    hsts = login.headers.get("strict-transport-security")
    assert (hsts is not None and "max-age=" in hsts) is (scheme == "https")
