"""Every role against every endpoint: what the permission matrix refuses is a 403, what it allows is not.

Reads use a real subject and form of site A (site roles work at site A). Writes aim at a record
that does not exist, so a permitted role gets 404 (or 422) and nothing changes, while a role
without the permission is refused before anything is looked up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from documents import example_form
from e2e_world import World
from fastapi.testclient import TestClient

from celltrial.study.permissions import PERMISSIONS, Action
from celltrial.study.types import utcnow
from celltrial.study.users.models import Role

NONE = 999_999
TODAY = utcnow().date()


@pytest.fixture(scope="module")
def records(client: TestClient, as_role: dict[str, dict[str, str]], world: World) -> dict[str, int]:
    """A consented, screened and enrolled subject of site A and one of its forms."""
    form = example_form()
    born = form["patient"]["birth_date"]
    new = {"site_id": world.site_a, "date_of_birth": born, "sex": "female", "initials": "RM"}
    subject_id = client.post("/api/v1/subjects", json=new, headers=as_role["coordinator"]).json()["id"]
    consent = {"icf_version": "1.0", "signed_at": f"{TODAY - timedelta(days=2)}T08:00:00Z"}
    client.post(f"/api/v1/subjects/{subject_id}/consents", json=consent, headers=as_role["coordinator"])
    client.post(f"/api/v1/subjects/{subject_id}/screenings", json=form, headers=as_role["investigator"])
    client.post(f"/api/v1/subjects/{subject_id}/enrolment", json={}, headers=as_role["investigator"])
    forms = client.get(f"/api/v1/subjects/{subject_id}/forms", headers=as_role["coordinator"]).json()
    return {"subject": subject_id, "form": forms[0]["id"]}


# (method, path, body, the action it needs; None: any signed-in user)
ENDPOINTS: list[tuple[str, str, Any, Action | None]] = [
    ("GET", "/auth/me", None, None),
    ("GET", "/study", None, None),
    ("GET", "/study/icf-versions", None, None),
    ("POST", "/study/status", {"status": "NOT_A_STATUS", "reason": "matrix"}, Action.STUDY_MANAGE),
    (
        "POST",
        "/study/icf-versions",
        {"version": "9.9", "approved_on": str(TODAY + timedelta(days=1))},
        Action.STUDY_MANAGE,
    ),
    ("GET", "/users", None, Action.USER_MANAGE),
    ("POST", "/users/nobody-here/disable", {"reason": "matrix"}, Action.USER_MANAGE),
    ("POST", "/users/nobody-here/password", {"password": "x"}, Action.USER_MANAGE),
    ("POST", "/users/nobody-here/role", {"role": "monitor", "reason": "matrix"}, Action.USER_MANAGE),
    ("POST", "/sites", {"code": "S1", "name": "x", "country": "x"}, Action.SITE_MANAGE),
    ("GET", "/form-definitions", None, None),
    ("POST", "/eligibility/evaluate", {"form": "celltrial-screening-form", "patient": {}, "facts": {}}, None),
    ("GET", "/subjects", None, Action.SUBJECT_VIEW),
    ("GET", "/subjects/{subject}", None, Action.SUBJECT_VIEW),
    ("GET", "/subjects/{subject}/visits", None, Action.SUBJECT_VIEW),
    ("GET", "/subjects/{subject}/consents", None, Action.SUBJECT_VIEW),
    ("GET", "/subjects/{subject}/screening", None, Action.SUBJECT_VIEW),
    ("GET", "/screening-log", None, Action.SUBJECT_VIEW),
    ("GET", "/subjects/{subject}/forms", None, Action.FORM_VIEW),
    ("GET", "/forms/{form}", None, Action.FORM_VIEW),
    ("GET", "/forms/{form}/revisions", None, Action.FORM_VIEW),
    ("GET", "/queries", None, Action.FORM_VIEW),
    ("GET", "/subjects/{subject}/audit", None, Action.AUDIT_VIEW),
    ("GET", "/forms/{form}/audit", None, Action.AUDIT_VIEW),
    ("GET", "/audit/verification", None, Action.AUDIT_VERIFY),
    ("GET", "/locks", None, Action.DATA_LOCK),
    ("POST", "/subjects/{none}/screenings", example_form(), Action.SCREENING_CREATE),
    (
        "POST",
        "/screenings/{none}/judgments",
        {"criterion_id": "I4", "answer": "met", "comment": "x"},
        Action.SCREENING_JUDGE,
    ),
    (
        "POST",
        "/subjects/{none}/consents",
        {"icf_version": "1.0", "signed_at": "2025-01-01T00:00:00Z"},
        Action.CONSENT_RECORD,
    ),
    (
        "POST",
        "/subjects/{none}/withdrawal",
        {"withdrawn_at": "2025-01-01T00:00:00Z", "reason": "x"},
        Action.CONSENT_RECORD,
    ),
    ("POST", "/subjects/{none}/enrolment", {}, Action.SUBJECT_ENROL),
    ("POST", "/subjects/{none}/status", {"status": "apheresed", "reason": "x"}, Action.SUBJECT_STATUS),
    ("POST", "/visits/{none}/date", {"on": str(TODAY)}, Action.VISIT_SCHEDULE),
    ("POST", "/subjects/{none}/visits", {"on": str(TODAY), "reason": "x"}, Action.VISIT_SCHEDULE),
    ("POST", "/subjects/{none}/forms", {"form_code": "adverse_events"}, Action.FORM_EDIT),
    ("PUT", "/forms/{none}", {"values": {}, "expected_version": 0}, Action.FORM_EDIT),
    ("POST", "/forms/{none}/verifications", {"field": "wbc"}, Action.FORM_VERIFY),
    ("POST", "/forms/{none}/signatures", {"password": "x", "meaning": "authored"}, Action.FORM_SIGN),
    ("POST", "/forms/{none}/queries", {"text": "x"}, Action.QUERY_RAISE),
    ("POST", "/queries/{none}/answer", {"text": "x"}, Action.QUERY_ANSWER),
    ("POST", "/queries/{none}/close", {"text": "x"}, Action.QUERY_CLOSE),
    ("POST", "/queries/{none}/reopen", {"text": "x"}, Action.QUERY_RAISE),
    ("POST", "/locks", {"subject_id": NONE}, Action.DATA_LOCK),
    ("POST", "/locks/release", {"subject_id": NONE, "reason": "x"}, Action.DATA_UNLOCK),
    ("POST", "/exports/ctgov-record", None, Action.EXPORT_RUN),
]


@pytest.mark.parametrize("role", [role.value for role in Role])
@pytest.mark.parametrize(
    ("method", "path", "body", "action"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_the_role_matrix_applies_to_the_endpoint(
    client: TestClient,
    as_role: dict[str, dict[str, str]],
    records: dict[str, int],
    role: str,
    method: str,
    path: str,
    body: Any,
    action: Action | None,
) -> None:
    url = "/api/v1" + path.format(subject=records["subject"], form=records["form"], none=NONE)
    response = client.request(method, url, json=body, headers=as_role[role])
    permitted = action is None or action in PERMISSIONS[Role(role)]
    assert response.status_code < 500, response.text
    if permitted:
        assert response.status_code != 403, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["field"] == "role"
