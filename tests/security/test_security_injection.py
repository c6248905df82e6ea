"""SQL injection and XSS probes through the text fields are neutralised: stored verbatim, shown escaped.

Issue #13, "Security". Each payload goes into every free-text field a user can fill (a query's
text and its answer, a CRF text field such as the adverse event term, a user's full name, a lock
and a status-change reason) and into the search boxes (subject number, the registry portal's
words, condition and country). Then:

* the API reads back exactly the text stored (an SQL payload is data, not SQL);
* every page showing it contains it HTML-escaped and never raw (no stored or reflected XSS),
  and a template expression is not evaluated;
* searches answer normally (no 5xx) and an always-true SQL condition finds nothing extra;
* the tables are all still there and the audit chain verifies.

Payloads follow the OWASP XSS Filter Evasion and SQL Injection Prevention cheat sheets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_world import World
from fastapi.testclient import TestClient
from markupsafe import escape
from pages import log_in
from sqlalchemy import create_engine, inspect
from stress_report import record_stress
from test_web_api_roles import records

from celltrial.database import Base

__all__ = ["records"]

XSS = [
    '<script>alert("xss-1")</script>',
    '"><img src=x onerror=alert("xss-2")>',
    "<svg/onload=alert('xss-3')>",
    "</textarea><script>alert(4)</script>",
    '<a href="javascript:alert(5)">x</a>',
    "{{ 7*7 }}{% raw %}",
]
SQL = [
    "'; DROP TABLE subject; --",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM user_account WHERE '1'='1",
    "%' UNION SELECT password_hash FROM user_account --",
    "\\'; UPDATE user_account SET role='admin' --",
]
PAYLOADS = XSS + SQL
probes: list[bool] = []


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    record_stress(
        "attack", "SQL injection and XSS through text fields", len(probes), probes.count(False),
        f"{len(PAYLOADS)} payloads",
    )  # fmt: skip


def _shown_escaped(html: str, payload: str) -> list[str]:
    """Why ``html`` does not show ``payload`` safely (empty when it does)."""
    problems = []
    if "<" in payload and payload in html:
        problems.append("raw")
    if str(escape(payload)) not in html:
        problems.append("not shown escaped")
    if "{{" in payload and "49" in html.split(str(escape(payload)))[0][-50:]:
        problems.append("template evaluated")
    if 'href="javascript:' in html:
        problems.append("javascript: link")
    return problems


@pytest.fixture(scope="module")
def adverse_event_form(
    client: TestClient, as_role: dict[str, dict[str, str]], records: dict[str, int]
) -> int:
    response = client.post(
        f"/api/v1/subjects/{records['subject']}/forms",
        json={"form_code": "adverse_events"},
        headers=as_role["investigator"],
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _table_names(world: World) -> set[str]:
    engine = create_engine(world.url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_query_text_and_its_answer_are_stored_verbatim_and_shown_escaped(
    client: TestClient,
    world: World,
    as_role: dict[str, dict[str, str]],
    records: dict[str, int],
    payload: str,
) -> None:
    raised = client.post(
        f"/api/v1/forms/{records['form']}/queries", json={"text": payload}, headers=as_role["monitor"]
    )
    assert raised.status_code == 201, raised.text
    query = raised.json()["id"]
    answered = client.post(
        f"/api/v1/queries/{query}/answer",
        json={"text": payload + " (answer)"},
        headers=as_role["coordinator"],
    )
    assert answered.status_code == 200, answered.text
    stored = client.get(f"/api/v1/queries/{query}", headers=as_role["monitor"]).json()
    browser = TestClient(client.app)
    log_in(browser, world["monitor"])
    problems = [] if stored["text"] == payload else ["not stored verbatim"]
    problems += _shown_escaped(browser.get("/queries?status=all").text, payload)
    problems += _shown_escaped(browser.get(f"/forms/{records['form']}").text, payload)
    probes.append(not problems)
    assert not problems, problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_crf_text_field_is_stored_verbatim_and_shown_escaped(
    client: TestClient,
    world: World,
    as_role: dict[str, dict[str, str]],
    adverse_event_form: int,
    payload: str,
) -> None:
    form = client.get(f"/api/v1/forms/{adverse_event_form}", headers=as_role["investigator"]).json()
    saved = client.put(
        f"/api/v1/forms/{adverse_event_form}",
        json={"values": {"term": payload}, "expected_version": form["version"], "reason": "probe"},
        headers=as_role["investigator"],
    )
    assert saved.status_code == 200, saved.text
    stored = client.get(f"/api/v1/forms/{adverse_event_form}", headers=as_role["investigator"]).json()
    browser = TestClient(client.app)
    log_in(browser, world["investigator"])
    problems = [] if stored["data"]["term"] == payload else ["not stored verbatim"]
    problems += _shown_escaped(browser.get(f"/forms/{adverse_event_form}").text, payload)
    probes.append(not problems)
    assert not problems, problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_users_full_name_is_stored_verbatim_and_shown_escaped(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]], payload: str
) -> None:
    username = f"probe-{PAYLOADS.index(payload)}"
    created = client.post(
        "/api/v1/users",
        json={
            "username": username,
            "full_name": payload,
            "role": "dsmb",
            "password": "Conditioning-Fludarabine-30",
        },
        headers=as_role["admin"],
    )
    assert created.status_code == 201, created.text
    listed = client.get("/api/v1/users?page_size=100", headers=as_role["admin"]).json()
    names = {item["username"]: item["full_name"] for item in listed["items"]}
    browser = TestClient(client.app)
    log_in(browser, world["admin"])
    problems = [] if names.get(username) == payload else ["not stored verbatim"]
    problems += _shown_escaped(browser.get("/admin/users").text, payload)
    probes.append(not problems)
    assert not problems, problems


def test_a_lock_reason_is_stored_verbatim_and_shown_escaped_in_the_audit_trail(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]], records: dict[str, int]
) -> None:
    headers = as_role["data_manager"]
    subject = records["subject"]
    for payload in PAYLOADS:
        locked = client.post(
            "/api/v1/locks", json={"subject_id": subject, "reason": payload}, headers=headers
        )
        assert locked.status_code in (200, 201), locked.text
        released = client.post(
            "/api/v1/locks/release", json={"subject_id": subject, "reason": payload}, headers=headers
        )
        assert released.status_code in (200, 201), released.text
    reasons = {
        entry["reason"] for entry in client.get(f"/api/v1/subjects/{subject}/audit", headers=headers).json()
    }
    browser = TestClient(client.app)
    log_in(browser, world["data_manager"])
    page = browser.get(f"/subjects/{subject}/audit").text
    for payload in PAYLOADS:
        problems = [] if payload in reasons else ["not stored verbatim"]
        problems += _shown_escaped(page, payload)
        probes.append(not problems)
        assert not problems, (payload, problems)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_search_boxes_answer_normally_and_reflect_the_words_escaped(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]], payload: str
) -> None:
    everyone = client.get("/api/v1/subjects", headers=as_role["monitor"]).json()["total"]
    found = client.get("/api/v1/subjects", params={"number": payload[:32]}, headers=as_role["monitor"])
    problems = [] if found.status_code == 200 else [f"subject search {found.status_code}"]
    if found.status_code == 200 and everyone and found.json()["total"] == everyone:
        problems.append("the payload matched every subject")
    for field in ("text", "condition", "country"):
        api = client.get("/api/v1/registry/trials", params={field: payload})
        if api.status_code != 200:
            problems.append(f"registry API {field}: {api.status_code}")
    page = client.get("/registry", params={"text": payload})
    if page.status_code != 200:
        problems.append(f"registry page {page.status_code}")
    elif "<" in payload and payload in page.text:
        problems.append("reflected raw")
    browser = TestClient(client.app)
    log_in(browser, world["monitor"])
    queries = browser.get("/queries", params={"status": payload[:20]})
    if queries.status_code >= 500 or ("<" in payload and payload[:20] in queries.text):
        problems.append(f"queries page {queries.status_code}")
    probes.append(not problems)
    assert not problems, problems


def test_after_every_probe_the_tables_are_there_and_the_audit_chain_verifies(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]]
) -> None:
    """Runs last in this file: every table still exists, no role changed, the audit trail is intact."""
    assert set(Base.metadata.tables) <= _table_names(world)
    roles: dict[str, Any] = {
        item["username"]: item["role"]
        for item in client.get("/api/v1/users?page_size=100", headers=as_role["admin"]).json()["items"]
    }
    assert roles[world["dsmb"]] == "dsmb"
    assert sum(1 for role in roles.values() if role == "admin") == 1
    verified = client.get("/api/v1/audit/verification", headers=as_role["monitor"])
    assert verified.status_code == 200
    assert verified.json()["ok"] is True, verified.text
