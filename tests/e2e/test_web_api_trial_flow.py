"""Over the REST API: screen, consent and enrol a patient; enter forms with edit checks, queries,
optimistic locking, source-data verification and signatures; another site sees none of it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from documents import example_bundle, example_form
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient

from celltrial.cli import main
from celltrial.study.types import utcnow

Headers = dict[str, dict[str, str]]
TODAY = utcnow().date()


def _enrolled_subject(client: TestClient, as_role: Headers, world: World, initials: str) -> dict[str, Any]:
    form = example_form()
    new = {
        "site_id": world.site_a,
        "date_of_birth": form["patient"]["birth_date"],
        "sex": "female",
        "initials": initials,
    }
    subject = client.post("/api/v1/subjects", json=new, headers=as_role["coordinator"])
    assert subject.status_code == 201, subject.text
    subject_id = subject.json()["id"]
    consent = {"icf_version": "1.0", "signed_at": f"{TODAY - timedelta(days=3)}T09:00:00Z"}
    assert (
        client.post(
            f"/api/v1/subjects/{subject_id}/consents", json=consent, headers=as_role["coordinator"]
        ).status_code
        == 201
    )
    screened = client.post(
        f"/api/v1/subjects/{subject_id}/screenings", json=form, headers=as_role["investigator"]
    )
    assert screened.status_code == 201, screened.text
    assert screened.json()["decision"] == "eligible"
    enrolled = client.post(
        f"/api/v1/subjects/{subject_id}/enrolment", json={}, headers=as_role["investigator"]
    )
    assert enrolled.status_code == 200, enrolled.text
    return enrolled.json()


@pytest.fixture(scope="module")
def enrolled(client: TestClient, as_role: Headers, world: World) -> dict[str, Any]:
    return _enrolled_subject(client, as_role, world, "EA")


def _labs_form(client: TestClient, headers: dict[str, str], subject_id: int) -> dict[str, Any]:
    listed = client.get(f"/api/v1/subjects/{subject_id}/forms", headers=headers).json()
    return next(form for form in listed if form["form_code"] == "labs")


def test_evaluation_returns_the_json_of_celltrial_screen(
    client: TestClient, as_role: Headers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = example_form()
    path = tmp_path / "form.json"
    path.write_text(json.dumps(form))
    assert main(["screen", str(path), "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    response = client.post("/api/v1/eligibility/evaluate", json=form, headers=as_role["investigator"])
    assert response.status_code == 200
    assert response.json() == from_cli


def test_a_fhir_bundle_is_evaluated_like_the_form_it_came_from(client: TestClient, as_role: Headers) -> None:
    on = (TODAY - timedelta(days=1)).isoformat()
    response = client.post(
        f"/api/v1/eligibility/evaluate?on={on}", json=example_bundle(), headers=as_role["monitor"]
    )
    assert response.status_code == 200
    verdicts = {item["id"]: item["verdict"] for item in response.json()["criteria"]}
    assert verdicts["I7"] == "met"
    assert verdicts["E8"] == "not_met"


def test_a_document_of_neither_kind_is_a_422_naming_the_body(client: TestClient, as_role: Headers) -> None:
    response = client.post(
        "/api/v1/eligibility/evaluate", json={"hello": "world"}, headers=as_role["monitor"]
    )
    assert response.status_code == 422
    assert response.json()["field"] == "body"


def test_an_eligible_consented_patient_is_enrolled_with_a_site_prefixed_number(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    assert enrolled["status"] == "enrolled"
    assert enrolled["subject_number"].startswith("S01-")
    assert client.get("/api/v1/study", headers=as_role["sponsor"]).json()["enrolled"] >= 1


def test_the_sponsor_sees_the_subject_without_identifying_data(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    seen = client.get(f"/api/v1/subjects/{enrolled['id']}", headers=as_role["sponsor"]).json()
    assert seen["initials"] is None
    assert seen["date_of_birth"] is None
    assert (
        client.get(f"/api/v1/subjects/{enrolled['id']}", headers=as_role["monitor"]).json()["initials"]
        == "EA"
    )


def test_a_coordinator_of_site_b_cannot_reach_a_subject_of_site_a(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    subject_id = enrolled["id"]
    for path in (
        f"/subjects/{subject_id}",
        f"/subjects/{subject_id}/forms",
        f"/subjects/{subject_id}/visits",
    ):
        response = client.get(f"/api/v1{path}", headers=as_role["coordinator_b"])
        assert response.status_code == 404, path
    listed = client.get("/api/v1/subjects", headers=as_role["coordinator_b"]).json()
    assert subject_id not in [item["id"] for item in listed["items"]]
    form = _labs_form(client, as_role["coordinator"], subject_id)
    assert client.get(f"/api/v1/forms/{form['id']}", headers=as_role["coordinator_b"]).status_code == 404
    guessed = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": {"wbc": 1}, "expected_version": form["version"]},
        headers=as_role["coordinator_b"],
    )
    assert guessed.status_code == 404
    visit = client.get(f"/api/v1/subjects/{subject_id}/visits", headers=as_role["coordinator"]).json()[0]
    dated = client.post(
        f"/api/v1/visits/{visit['id']}/date", json={"on": str(TODAY)}, headers=as_role["coordinator_b"]
    )
    assert dated.status_code == 404


def test_an_out_of_range_lab_value_raises_a_query_on_its_field(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    form = _labs_form(client, as_role["coordinator"], enrolled["id"])
    values = {"collection_date": TODAY.isoformat(), "hemoglobin": 25, "wbc": 4.1}
    saved = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": values, "expected_version": form["version"]},
        headers=as_role["coordinator"],
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert [failure["field"] for failure in body["failures"]] == ["hemoglobin"]
    assert body["queries_raised"][0]["field"] == "hemoglobin"
    assert body["queries_raised"][0]["status"] == "open"
    assert saved.headers["etag"] == f'W/"{body["form"]["version"]}"'


def test_a_save_from_a_stale_version_is_a_409_saying_what_changed(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    form = _labs_form(client, as_role["coordinator"], enrolled["id"])
    first = client.get(f"/api/v1/forms/{form['id']}", headers=as_role["coordinator"])
    tag = first.headers["etag"]
    ok = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": {"platelets": 150}},
        headers=as_role["coordinator"] | {"If-Match": tag},
    )
    assert ok.status_code == 200, ok.text
    late = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": {"platelets": 160}},
        headers=as_role["investigator"] | {"If-Match": tag},
    )
    assert late.status_code == 409
    assert late.headers["content-type"] == "application/problem+json"
    assert "platelets" in late.json()["detail"]
    assert late.json()["field"] == "expected_version"


def test_a_save_without_a_version_is_refused(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    form = _labs_form(client, as_role["coordinator"], enrolled["id"])
    response = client.put(
        f"/api/v1/forms/{form['id']}", json={"values": {"ldh": 200}}, headers=as_role["coordinator"]
    )
    assert response.status_code == 422
    assert response.json()["field"] == "expected_version"


def test_a_query_is_answered_by_the_site_and_closed_by_the_monitor(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    listed = client.get(
        f"/api/v1/queries?subject_id={enrolled['id']}&status=open", headers=as_role["monitor"]
    ).json()
    query_id = listed["items"][0]["id"]
    answered = client.post(
        f"/api/v1/queries/{query_id}/answer",
        json={"text": "25 g/L confirmed with the lab"},
        headers=as_role["coordinator"],
    )
    assert answered.json()["status"] == "answered"
    assert (
        client.post(f"/api/v1/queries/{query_id}/close", json={}, headers=as_role["coordinator"]).status_code
        == 403
    )
    closed = client.post(
        f"/api/v1/queries/{query_id}/close", json={"text": "accepted"}, headers=as_role["monitor"]
    )
    assert closed.json()["status"] == "closed"
    assert [event["action"] for event in closed.json()["history"]] == ["raise", "answer", "close"]


def test_a_signature_is_invalidated_when_the_form_changes(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    form = _labs_form(client, as_role["coordinator"], enrolled["id"])
    completed = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": {}, "expected_version": form["version"], "complete": True},
        headers=as_role["coordinator"],
    ).json()["form"]
    assert completed["status"] == "complete"
    wrong = client.post(
        f"/api/v1/forms/{form['id']}/signatures",
        json={"password": "not mine", "meaning": "approved"},
        headers=as_role["investigator"],
    )
    assert wrong.status_code == 403
    signed = client.post(
        f"/api/v1/forms/{form['id']}/signatures",
        json={"password": PASSWORD, "meaning": "approved"},
        headers=as_role["investigator"],
    ).json()
    assert signed["status"] == "signed"
    assert signed["signed"][0]["valid"] is True
    assert signed["signed"][0]["printed_name"] == "Dr Investigator Tester"
    changed = client.put(
        f"/api/v1/forms/{form['id']}",
        json={
            "values": {"platelets": 171},
            "expected_version": signed["version"],
            "reason": "transcription error",
        },
        headers=as_role["coordinator"],
    ).json()["form"]
    assert changed["signed"][0]["valid"] is False
    assert changed["status"] == "complete"
    listed = client.get(f"/api/v1/subjects/{enrolled['id']}/forms", headers=as_role["monitor"]).json()
    in_casebook = next(item for item in listed if item["id"] == form["id"])
    assert in_casebook["signed"] is True
    assert in_casebook["signature_valid"] is False
    assert in_casebook["open_queries"] == changed["open_queries"]
    assert in_casebook["version"] == changed["version"]


def test_a_changed_value_needs_a_reason_and_its_history_shows_old_and_new(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    form = client.get(
        f"/api/v1/forms/{_labs_form(client, as_role['coordinator'], enrolled['id'])['id']}",
        headers=as_role["coordinator"],
    ).json()
    refused = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": {"wbc": 5.0}, "expected_version": form["version"]},
        headers=as_role["coordinator"],
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "reason"
    history = client.get(f"/api/v1/forms/{form['id']}/audit", headers=as_role["monitor"]).json()
    platelets = [entry for entry in history if entry["field"] == "labs.platelets"]
    assert json.loads(platelets[-1]["old_value"]) == 150
    assert json.loads(platelets[-1]["new_value"]) == 171
    assert platelets[-1]["reason"] == "transcription error"


def test_the_monitor_verifies_a_field_against_source(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    form = _labs_form(client, as_role["monitor"], enrolled["id"])
    verified = client.post(
        f"/api/v1/forms/{form['id']}/verifications", json={"field": "wbc"}, headers=as_role["monitor"]
    )
    assert verified.status_code == 201, verified.text
    assert "wbc" in verified.json()["verified_fields"]
    refused = client.post(
        f"/api/v1/forms/{form['id']}/verifications", json={"field": "wbc"}, headers=as_role["coordinator"]
    )
    assert refused.status_code == 403


def test_the_data_manager_locks_a_subject_and_its_forms_cannot_change(
    client: TestClient, as_role: Headers, world: World
) -> None:
    subject = _enrolled_subject(client, as_role, world, "LK")
    locked = client.post(
        "/api/v1/locks",
        json={"subject_id": subject["id"], "reason": "database lock"},
        headers=as_role["data_manager"],
    )
    assert locked.status_code == 201, locked.text
    form = _labs_form(client, as_role["coordinator"], subject["id"])
    refused = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"values": {"wbc": 3}, "expected_version": form["version"]},
        headers=as_role["coordinator"],
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/locked"
    assert (
        client.post(
            "/api/v1/locks/release", json={"subject_id": subject["id"]}, headers=as_role["data_manager"]
        ).status_code
        == 422
    )
    released = client.post(
        "/api/v1/locks/release",
        json={"subject_id": subject["id"], "reason": "query found late"},
        headers=as_role["data_manager"],
    )
    assert released.json()["unlock_reason"] == "query found late"


def test_an_ineligible_patient_cannot_be_enrolled(client: TestClient, as_role: Headers, world: World) -> None:
    form = example_form("ineligible")
    new = {
        "site_id": world.site_a,
        "date_of_birth": form["patient"]["birth_date"],
        "sex": "male",
        "initials": "IN",
    }
    subject_id = client.post("/api/v1/subjects", json=new, headers=as_role["investigator"]).json()["id"]
    screened = client.post(
        f"/api/v1/subjects/{subject_id}/screenings", json=form, headers=as_role["investigator"]
    ).json()
    assert screened["decision"] == "ineligible"
    assert screened["screen_fail_reasons"]
    refused = client.post(
        f"/api/v1/subjects/{subject_id}/enrolment", json={}, headers=as_role["investigator"]
    )
    assert refused.status_code == 409


def test_the_screening_log_counts_screened_and_enrolled(
    client: TestClient, as_role: Headers, enrolled: dict[str, Any]
) -> None:
    log = client.get("/api/v1/screening-log", headers=as_role["data_manager"]).json()
    assert log["consort"]["enrolled"] >= 1
    assert any(row["subject_id"] == enrolled["id"] for row in log["rows"])


def test_the_audit_chain_verifies(client: TestClient, as_role: Headers) -> None:
    report = client.get("/api/v1/audit/verification", headers=as_role["monitor"]).json()
    assert report["ok"] is True
    assert report["count"] > 10


def test_visits_are_scheduled_from_enrolment_with_windows(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    visits = client.get(f"/api/v1/subjects/{enrolled['id']}/visits", headers=as_role["coordinator"]).json()
    dated = [visit for visit in visits if visit["target_date"]]
    assert dated
    assert all(date.fromisoformat(v["window_start"]) <= date.fromisoformat(v["target_date"]) for v in dated)


def test_the_data_manager_exports_a_draft_odm_file_and_the_run_is_audited(
    enrolled: dict[str, Any], client: TestClient, as_role: Headers
) -> None:
    locked_refused = client.post("/api/v1/exports/odm", headers=as_role["data_manager"])
    assert locked_refused.status_code == 409
    response = client.post("/api/v1/exports/odm?draft=true", headers=as_role["data_manager"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert b"<ODM" in response.content
    assert "DRAFT" in response.headers["content-disposition"]
    assert client.post("/api/v1/exports/odm?draft=true", headers=as_role["monitor"]).status_code == 403
    record = client.post("/api/v1/exports/ctgov-record", headers=as_role["sponsor"])
    assert record.json()["protocolSection"]["identificationModule"]["nctId"] == "NCT07008872"
