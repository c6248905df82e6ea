"""The role × action matrix through the pages, and site isolation through the API and the pages.

Issue #13, "Security". The API matrix is ``tests/e2e/test_web_api_roles.py`` (every role against
every endpoint); its table is imported here and generalised:

* every operation of the published API refuses a request without credentials (401), so no
  endpoint escapes the matrix by being public by mistake;
* the pages: every role against every page, read and write, with the permission matrix as the
  oracle (a role without the permission gets 403 and never a success, a role with it never 403);
* site isolation: a site-B user who guesses the ids of site-A records (subject, form, screening,
  visit, query) gets exactly the answer of an id that does not exist (404, same title, nothing
  of the record), through the API and the pages, for reads and writes.
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
from test_web_api_roles import ENDPOINTS, NONE, records

from celltrial.study.permissions import PERMISSIONS, Action
from celltrial.study.users.models import Role

__all__ = ["records"]

ROLES = [role.value for role in Role]
PUBLIC_OPERATIONS = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/token")}
probes: list[bool] = []


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    record_stress(
        "attack", "role matrix and site isolation (API and pages)", len(probes), probes.count(False)
    )


def _operations(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]*(nct|kind)[^}]*\}", "NCT07008872", re.sub(r"\{[^}]*_id\}", str(NONE), path))


def test_every_api_operation_but_health_and_sign_in_refuses_an_anonymous_request(client: TestClient) -> None:
    operations = _operations(client)
    assert len(operations) >= len(ENDPOINTS)
    registry = {op for op in operations if op[1].startswith("/api/v1/registry")}
    for method, path in operations:
        if (method, path) in PUBLIC_OPERATIONS or (method, path) in registry:
            continue
        response = client.request(method, _fill(path), json={})
        probes.append(response.status_code == 401)
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_registry_portal_is_public_but_read_only(client: TestClient) -> None:
    """The registry portal serves patients and referring physicians: reads without a login, no writes."""
    registry = [op for op in _operations(client) if op[1].startswith("/api/v1/registry")]
    assert registry
    assert {method for method, _ in registry} == {"GET"}


# --- pages ---------------------------------------------------------------------------------------

# (path, the action it needs; None: any signed-in user)
PAGE_READS: list[tuple[str, Action | tuple[Action, ...] | None]] = [
    ("/", None),
    ("/password", None),
    ("/subjects", Action.SUBJECT_VIEW),
    ("/subjects/{subject}", Action.SUBJECT_VIEW),
    ("/screening", Action.SUBJECT_VIEW),
    ("/subjects/{subject}/screening", Action.SUBJECT_VIEW),
    ("/forms/{form}", Action.FORM_VIEW),
    ("/queries", Action.FORM_VIEW),
    ("/admin/users", Action.USER_MANAGE),
    ("/locks", (Action.DATA_LOCK, Action.DATA_UNLOCK)),
    ("/subjects/{subject}/audit", Action.AUDIT_VIEW),
]

# (path, form data that passes parsing but changes nothing, the action it needs). Each is
# aimed at a real site-A record so that the permission check is reached.
PAGE_WRITES: list[tuple[str, dict[str, str], Action]] = [
    ("/subjects/{subject}/consents", {"icf_version": "9.9", "signed_at": "2025-01-01T08:00"},
     Action.CONSENT_RECORD),
    ("/subjects/{subject}/withdrawal", {"withdrawn_at": "2999-01-01T08:00", "reason": "matrix"},
     Action.CONSENT_RECORD),
    ("/subjects/{subject}/status", {"status": "not-a-status", "reason": "matrix"}, Action.SUBJECT_STATUS),
    ("/subjects/{subject}/forms", {"form_code": "no_such_form"}, Action.FORM_EDIT),
    ("/subjects/{subject}/enrolment", {}, Action.SUBJECT_ENROL),
    ("/forms/{form}/verifications", {"field": "no_such_field"}, Action.FORM_VERIFY),
    ("/forms/{form}/queries", {"field": "no_such_field", "text": "matrix"}, Action.QUERY_RAISE),
    ("/locks", {"subject_id": str(NONE), "reason": "matrix"}, Action.DATA_LOCK),
    ("/locks/release", {"subject_id": str(NONE), "reason": "matrix"}, Action.DATA_UNLOCK),
    ("/admin/users", {"username": "x", "role": "monitor"}, Action.USER_MANAGE),
    ("/admin/users/nobody-here/disable", {"reason": "matrix"}, Action.USER_MANAGE),
    ("/admin/users/nobody-here/password", {"password": "x"}, Action.USER_MANAGE),
]  # fmt: skip


def _permitted(role: str, action: Action | tuple[Action, ...] | None) -> bool:
    if action is None:
        return True
    needed = action if isinstance(action, tuple) else (action,)
    return any(item in PERMISSIONS[Role(role)] for item in needed)


@pytest.fixture(scope="module")
def browsers(client: TestClient, world: World) -> dict[str, tuple[TestClient, str]]:
    """A signed-in browser per role (and site B's investigator and coordinator), with its CSRF token."""
    signed_in = {}
    for who, username in world.usernames.items():
        browser = TestClient(client.app)
        signed_in[who] = (browser, log_in(browser, username))
    return signed_in


@pytest.mark.parametrize("role", ROLES)
def test_every_page_applies_the_role_matrix(
    browsers: dict[str, tuple[TestClient, str]], records: dict[str, int], role: str
) -> None:
    browser, csrf = browsers[role]
    wrong = []
    for path, action in PAGE_READS:
        response = browser.get(path.format(**records), follow_redirects=False)
        expected = 200 if _permitted(role, action) else 403
        probes.append(response.status_code != 200 or expected == 200)
        if response.status_code != expected:
            wrong.append(f"GET {path}: {response.status_code}, expected {expected}")
    for path, data, action in PAGE_WRITES:
        response = browser.post(
            path.format(**records), data={"csrf_token": csrf, **data}, follow_redirects=False
        )
        permitted = _permitted(role, action)
        probes.append(permitted or response.status_code >= 400)
        if permitted and response.status_code == 403:
            wrong.append(f"POST {path}: 403 for a permitted role")
        if not permitted and response.status_code != 403:
            wrong.append(f"POST {path}: {response.status_code}, expected 403")
    assert not wrong, wrong


# --- site isolation ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_a(client: TestClient, as_role: dict[str, dict[str, str]], records: dict[str, int]) -> dict[str, int]:
    """The ids of site A's records: subject, form, screening, visit and an open query."""
    subject, form = records["subject"], records["form"]
    screening = client.get(f"/api/v1/subjects/{subject}/screening", headers=as_role["investigator"]).json()
    visits = client.get(f"/api/v1/subjects/{subject}/visits", headers=as_role["investigator"]).json()
    query = client.post(
        f"/api/v1/forms/{form}/queries", json={"text": "please confirm"}, headers=as_role["monitor"]
    )
    assert query.status_code == 201, query.text
    return {
        "subject": subject,
        "form": form,
        "screening": int(screening["id"]),
        "visit": int(visits[0]["id"]),
        "query": int(query.json()["id"]),
    }


_KINDS = {
    "subjects": "subject",
    "forms": "form",
    "screenings": "screening",
    "visits": "visit",
    "queries": "query",
}


def _aim(path: str, ids: dict[str, int]) -> str:
    """``path`` with the id after each collection replaced by the record of that kind in ``ids``."""

    def replace(match: re.Match[str]) -> str:
        return f"/{match.group(1)}/{ids[_KINDS[match.group(1)]]}"

    return re.sub(r"/(subjects|forms|screenings|visits|queries)/\{[^}]+\}", replace, path)


ADDRESSED = [
    entry for entry in ENDPOINTS if re.search(r"/(subjects|forms|screenings|visits|queries)/\{", entry[1])
]
NOWHERE = dict.fromkeys(_KINDS.values(), NONE)


def _same_answer(guessed: Any, nowhere: Any) -> list[str]:
    """Why the answer for a guessed site-A id differs from the one for an id that does not exist.

    Status, problem type, title, field and the detail (its ids aside) must match, and the detail
    must name nothing of the record.
    """
    if guessed.status_code != nowhere.status_code:
        return [f"status {guessed.status_code} vs {nowhere.status_code}"]
    mine, missing = guessed.json(), nowhere.json()
    problems = [
        f"{key} {mine.get(key)!r} vs {missing.get(key)!r}"
        for key in ("status", "type", "title", "field")
        if mine.get(key) != missing.get(key)
    ]
    if re.sub(r"\d+", "N", str(mine.get("detail"))) != re.sub(r"\d+", "N", str(missing.get("detail"))):
        problems.append(f"detail {mine.get('detail')!r} vs {missing.get('detail')!r}")
    if any(detail in mine.get("detail", "") for detail in ("RM", "S01", "Hospital A", "female")):
        problems.append(f"the detail names the record: {mine['detail']!r}")
    return problems


def _other_reads(client: TestClient) -> list[tuple[str, str, None]]:
    """Reads of the published API addressed by a subject, form, screening, visit or query id that
    the e2e table does not list (product, safety...): they must hide another site's records too."""
    listed = {(method, re.sub(r"\{[^}]+\}", "{}", path)) for method, path, _, _ in ADDRESSED}
    found = []
    for method, path in _operations(client):
        relative = path.removeprefix("/api/v1")
        if method != "GET" or not re.search(r"/(subjects|forms|screenings|visits|queries)/\{", relative):
            continue
        if (method, re.sub(r"\{[^}]+\}", "{}", relative)) not in listed:
            found.append((method, relative, None))
    return found


@pytest.mark.parametrize("who", ["investigator_b", "coordinator_b"])
def test_a_site_b_user_guessing_site_a_ids_in_the_api_learns_nothing(
    client: TestClient, as_role: dict[str, dict[str, str]], site_a: dict[str, int], who: str
) -> None:
    differences = []
    for method, path, body in [*((m, p, b) for m, p, b, _ in ADDRESSED), *_other_reads(client)]:
        guessed = client.request(method, "/api/v1" + _aim(path, site_a), json=body, headers=as_role[who])
        nowhere = client.request(method, "/api/v1" + _aim(path, NOWHERE), json=body, headers=as_role[who])
        assert guessed.status_code in (403, 404, 422), (
            f"{method} {path}: {guessed.status_code} {guessed.text}"
        )
        problems = _same_answer(guessed, nowhere)
        probes.append(not problems)
        differences += [f"{method} {path}: {problem}" for problem in problems]
    assert not differences, "\n".join(differences)


PAGES_ADDRESSED = [
    ("GET", "/subjects/{subject}", {}),
    ("GET", "/subjects/{subject}/screening", {}),
    ("GET", "/subjects/{subject}/audit", {}),
    ("GET", "/forms/{form}", {}),
    ("GET", "/forms/{form}/signature", {}),
    ("POST", "/subjects/{subject}/consents", {"icf_version": "1.0", "signed_at": "2025-01-01T08:00"}),
    ("POST", "/subjects/{subject}/withdrawal", {"withdrawn_at": "2025-01-01T08:00", "reason": "guess"}),
    ("POST", "/subjects/{subject}/status", {"status": "apheresed", "reason": "guess"}),
    ("POST", "/subjects/{subject}/forms", {"form_code": "adverse_events"}),
    ("POST", "/subjects/{subject}/screening", {}),
    ("POST", "/forms/{form}", {}),
    ("POST", "/forms/{form}/queries", {"field": "wbc", "text": "guess"}),
    ("POST", "/queries/{query}/answer", {"text": "guess"}),
    ("POST", "/visits/{visit}/date", {"subject_id": "{subject}", "on": "2025-01-01"}),
    ("POST", "/screenings/{screening}/judgments",
     {"subject_id": "{subject}", "criterion_id": "I4", "answer": "met"}),
]  # fmt: skip


@pytest.mark.parametrize("who", ["investigator_b", "coordinator_b"])
def test_a_site_b_user_guessing_site_a_ids_in_the_pages_gets_not_found(
    browsers: dict[str, tuple[TestClient, str]], site_a: dict[str, int], who: str
) -> None:
    browser, csrf = browsers[who]
    wrong = []
    for method, path, data in PAGES_ADDRESSED:
        for ids in (site_a, NOWHERE):
            filled = {key: value.format(**ids) for key, value in data.items()}
            response = browser.request(
                method,
                path.format(**ids),
                data={"csrf_token": csrf, **filled} if method == "POST" else None,
                follow_redirects=False,
            )
            if ids is site_a:
                leaked = (
                    "RM" in re.sub(r"<[^>]+>", " ", response.text).split() or "Hospital A" in response.text
                )
                probes.append(response.status_code in (403, 404) and not leaked)
                if response.status_code not in (403, 404) or leaked:
                    wrong.append(f"{method} {path}: {response.status_code}, leaked={leaked}")
                first = response.status_code
            elif response.status_code != first:
                wrong.append(f"{method} {path}: {first} for site A's id, {response.status_code} for none")
    assert not wrong, wrong
