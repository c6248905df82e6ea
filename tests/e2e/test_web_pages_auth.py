"""Signing in and out of the pages: server-side sessions, CSRF, idle timeout, lockout, password change."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from pages import csrf_of, log_in
from sqlalchemy import select

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.sessions.models import WebSession
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings


def test_a_page_without_a_session_sends_the_browser_to_the_login_page(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"


def test_logging_in_shows_the_dashboard_with_status_and_enrolment(client: TestClient, world: World) -> None:
    log_in(client, world["investigator"])
    page = client.get("/")
    assert page.status_code == 200
    assert "Dr Investigator Tester" in page.text
    assert 'data-testid="enrolment">0 / 40<' in page.text


def test_the_session_cookie_is_http_only_and_same_site(client: TestClient, world: World) -> None:
    client.cookies.clear()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": world["monitor"],
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "celltrial_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_the_cookie_is_secure_when_served_over_https(world: World) -> None:
    app = create_app(world.url, WebSettings())
    with TestClient(app, base_url="https://testserver") as secure_client:
        form = secure_client.get("/login")
        response = secure_client.post(
            "/login",
            data={"username": world["monitor"], "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
    assert "secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_each_login_gets_a_new_session_id(client: TestClient, world: World) -> None:
    log_in(client, world["monitor"])
    first = client.cookies.get("celltrial_session")
    form = client.get("/login?next=/", follow_redirects=False)
    assert form.status_code == 303  # already signed in
    client.cookies.set("celltrial_login_csrf", "x", path="/login")
    client.post(
        "/login",
        data={"username": world["monitor"], "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    second = client.cookies.get("celltrial_session")
    assert first
    assert second
    assert first != second
    client.cookies.clear()
    client.cookies.set("celltrial_session", first)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_wrong_password_shows_the_form_again_with_the_reason(client: TestClient, world: World) -> None:
    client.cookies.clear()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": world["dsmb"], "password": "wrong guess here", "csrf_token": csrf_of(form.text)},
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert 'aria-invalid="true"' in response.text


def test_the_login_form_refuses_a_post_without_its_csrf_token(client: TestClient, world: World) -> None:
    client.cookies.clear()
    response = client.post(
        "/login", data={"username": world["dsmb"], "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert client.cookies.get("celltrial_session") is None


def test_logging_out_ends_the_session_for_good(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["sponsor"])
    cookie = client.cookies.get("celltrial_session")
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("celltrial_session", cookie or "")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logging_out_without_the_csrf_token_is_refused(client: TestClient, world: World) -> None:
    log_in(client, world["sponsor"])
    response = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def _idle_for(url: str, idle: timedelta) -> None:
    """Every web session's last request moved ``idle`` back, as if nobody had clicked since."""
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            for web_session in session.scalars(select(WebSession)):
                web_session.last_seen_at -= idle
    finally:
        engine.dispose()


def test_a_session_ends_after_the_idle_timeout(world: World) -> None:
    idle = timedelta(minutes=1)
    app = create_app(world.url, WebSettings(idle_timeout=idle))
    with TestClient(app) as quick:
        log_in(quick, world["data_manager"])
        assert quick.get("/", follow_redirects=False).status_code == 200
        _idle_for(world.url, idle - timedelta(seconds=5))
        assert quick.get("/", follow_redirects=False).status_code == 200
        _idle_for(world.url, idle + timedelta(seconds=1))
        response = quick.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]


def test_an_htmx_request_without_a_session_is_redirected_by_header(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers["hx-redirect"].startswith("/login?next=")


def test_the_lockout_message_appears_after_five_failed_logins(client: TestClient, world: World) -> None:
    client.cookies.clear()
    for _ in range(5):
        form = client.get("/login")
        client.post(
            "/login",
            data={
                "username": world["cell_lab"],
                "password": "not the password",
                "csrf_token": csrf_of(form.text),
            },
        )
    form = client.get("/login")
    response = client.post(
        "/login", data={"username": world["cell_lab"], "password": PASSWORD, "csrf_token": csrf_of(form.text)}
    )
    assert response.status_code == 401
    assert "locked after 5 failed logins" in response.text


def test_a_user_changes_their_password_and_the_old_one_stops_working(
    client: TestClient, world: World
) -> None:
    new_password = "Lymphodepletion-Day-5"
    csrf = log_in(client, world["coordinator_b"])
    response = client.post(
        "/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 200
    assert "Your password was changed" in response.text
    old = client.post("/api/v1/auth/token", data={"username": world["coordinator_b"], "password": PASSWORD})
    assert old.status_code == 401
    new = client.post(
        "/api/v1/auth/token", data={"username": world["coordinator_b"], "password": new_password}
    )
    assert new.status_code == 200


def test_a_password_change_with_a_wrong_current_password_is_refused(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["investigator_b"])
    response = client.post(
        "/password",
        data={
            "csrf_token": csrf,
            "current_password": "this is not it",
            "new_password": "Brand-New-Secret-42",
            "confirm_password": "Brand-New-Secret-42",
        },
    )
    assert response.status_code == 403
    assert "password is wrong" in response.text


def test_pages_send_a_content_security_policy_without_inline_scripts(client: TestClient) -> None:
    policy = client.get("/login").headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_every_state_changing_page_route_refuses_a_request_without_the_csrf_token(
    client: TestClient, world: World
) -> None:
    from celltrial.web.pages import routers

    def paths(router: Any) -> list[str]:
        found = []
        for route in router.routes:
            nested = getattr(route, "original_router", None)
            if nested is not None:
                found += paths(nested)
            elif "POST" in (getattr(route, "methods", None) or set()):
                found.append(route.path)
        return found

    log_in(client, world["investigator"])
    posts = [path for router in routers for path in paths(router)]
    assert len(posts) > 15
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = client.post(url, data={"csrf_token": "forged", "subject_id": "1"}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "csrf_token" in response.text, path
