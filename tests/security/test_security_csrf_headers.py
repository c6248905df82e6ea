"""CSRF on every state-changing route that accepts cookies, and the security headers on every response.

Issue #13, "Security". The routes are enumerated from the app itself (every POST, PUT, PATCH and
DELETE of the pages and the API), so a new route is covered without editing this file:

* a page route is refused (403, naming ``csrf_token``) without the session's token, with a
  forged one, and with the token of another signed-in session;
* an API route never accepts the session cookie: without a bearer token it is 401, so a forged
  cross-site request carrying the browser's cookie cannot act through the API.

Headers follow the OWASP Secure Headers Project: Content-Security-Policy (no inline script,
``frame-ancestors 'none'``), X-Content-Type-Options, X-Frame-Options, Referrer-Policy; HSTS only
over HTTPS (tested with the cookies in ``test_security_auth.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_world import World
from fastapi.testclient import TestClient
from pages import log_in
from stress_report import record_stress

from celltrial.web import api, pages
from celltrial.web.deps import SESSION_COOKIE

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
probes: list[bool] = []


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    record_stress("attack", "CSRF on state-changing routes", len(probes), probes.count(False))


def _writes(router: Any) -> list[tuple[str, str]]:
    found = []
    for route in router.routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            found += _writes(nested)
            continue
        for method in sorted(set(getattr(route, "methods", None) or ()) & WRITES):
            found.append((method, route.path))
    return found


PAGE_WRITES = [write for router in pages.routers for write in _writes(router)]
API_WRITES = [(method, "/api/v1" + path) for router in api.routers for method, path in _writes(router)]


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture(scope="module")
def victim(client: TestClient, world: World) -> tuple[TestClient, str]:
    """The investigator, signed in, and the CSRF token of their session."""
    browser = TestClient(client.app)
    return browser, log_in(browser, world["investigator"])


def test_the_app_has_the_state_changing_routes_this_file_expects(client: TestClient) -> None:
    assert len(PAGE_WRITES) >= 20
    assert len(API_WRITES) >= 25
    assert ("POST", "/logout") in PAGE_WRITES
    assert ("PUT", "/api/v1/forms/{form_id}") in API_WRITES


@pytest.mark.parametrize("forgery", ["missing", "forged", "another session's"])
def test_every_page_write_refuses_a_request_without_the_sessions_csrf_token(
    client: TestClient, world: World, victim: tuple[TestClient, str], forgery: str
) -> None:
    browser, _token = victim
    other = TestClient(client.app)
    sent = {"missing": None, "forged": "forged-token", "another session's": log_in(other, world["monitor"])}[
        forgery
    ]
    accepted = []
    for method, path in PAGE_WRITES:
        if path == "/login":
            continue
        data = {"subject_id": "1", "reason": "csrf"} | ({"csrf_token": sent} if sent else {})
        response = browser.request(method, _url(path), data=data, follow_redirects=False)
        refused = response.status_code == 403 and "csrf_token" in response.text
        probes.append(refused)
        if not refused:
            accepted.append(f"{method} {path}: {response.status_code}")
    assert not accepted, accepted


def test_a_csrf_header_with_a_wrong_token_is_refused_like_a_wrong_field(
    victim: tuple[TestClient, str],
) -> None:
    browser, token = victim
    response = browser.post(
        "/locks",
        data={"csrf_token": token, "reason": "x"},
        headers={"x-csrf-token": "forged"},
        follow_redirects=False,
    )
    probes.append(response.status_code == 403)
    assert response.status_code == 403


def test_the_login_form_refuses_a_post_from_another_site(client: TestClient, world: World) -> None:
    """Login CSRF: without the login form's own cookie, a cross-site login is refused."""
    browser = TestClient(client.app)
    response = browser.post(
        "/login",
        data={"username": world["admin"], "password": "x", "csrf_token": "guess"},
        follow_redirects=False,
    )
    probes.append(response.status_code == 403)
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_no_api_write_accepts_the_browsers_session_cookie(victim: tuple[TestClient, str]) -> None:
    browser, token = victim
    accepted = []
    for method, path in API_WRITES:
        if path == "/api/v1/auth/token":
            continue
        response = browser.request(method, _url(path), json={}, headers={"x-csrf-token": token})
        refused = response.status_code == 401
        probes.append(refused)
        if not refused:
            accepted.append(f"{method} {path}: {response.status_code}")
    assert not accepted, accepted


# --- headers -------------------------------------------------------------------------------------


def _responses(client: TestClient, world: World, as_role: dict[str, dict[str, str]]) -> dict[str, Any]:
    browser = TestClient(client.app)
    log_in(browser, world["monitor"])
    return {
        "login page": client.get("/login"),
        "dashboard": browser.get("/"),
        "error page": browser.get("/subjects/999999"),
        "API answer": client.get("/api/v1/study", headers=as_role["monitor"]),
        "API problem": client.get("/api/v1/subjects/999999", headers=as_role["monitor"]),
        "API 401": client.get("/api/v1/study"),
        "413": client.post(
            "/api/v1/auth/token",
            content=b"x",
            headers={"content-type": "application/x-www-form-urlencoded", "content-length": "999999999"},
        ),
        "registry portal": client.get("/registry"),
        "OpenAPI": client.get("/openapi.json"),
        "API docs": client.get("/docs"),
    }


def test_every_kind_of_response_carries_the_security_headers(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]]
) -> None:
    missing = []
    for name, response in _responses(client, world, as_role).items():
        headers = response.headers
        policy = headers.get("content-security-policy", "")
        checks = {
            "CSP frame-ancestors 'none'": "frame-ancestors 'none'" in policy,
            "CSP default-src 'self'": "default-src 'self'" in policy,
            "CSP object-src 'none'": "object-src 'none'" in policy,
            "nosniff": headers.get("x-content-type-options") == "nosniff",
            "X-Frame-Options DENY": headers.get("x-frame-options") == "DENY",
            "Referrer-Policy": headers.get("referrer-policy")
            in {"same-origin", "no-referrer", "strict-origin"},
            "no HSTS over plain HTTP": "strict-transport-security" not in headers,
        }
        missing += [f"{name}: {check}" for check, ok in checks.items() if not ok]
    assert not missing, missing


def test_pages_allow_no_inline_script_and_no_other_origin(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]]
) -> None:
    for name, response in _responses(client, world, as_role).items():
        if name == "API docs":
            continue
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy, name
        assert "unsafe-eval" not in policy, name
        assert "http" not in policy, name


def test_pages_with_personal_data_are_never_cached(client: TestClient, world: World) -> None:
    browser = TestClient(client.app)
    log_in(browser, world["investigator"])
    for path in ("/", "/subjects", "/queries"):
        assert browser.get(path).headers["cache-control"] == "no-store", path
