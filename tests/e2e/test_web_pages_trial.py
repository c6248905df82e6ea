"""The trial's pages without a browser: register, consent, screen by upload or by the form, judge,
enrol, enter a form, queries, SDV, signature, data lock, user administration, another site's data."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from documents import example_form
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.study.types import utcnow

TODAY = utcnow().date()


def _subject_id(response: Any) -> int:
    found = re.search(r"/subjects/(\d+)", str(response.url))
    assert found, response.url
    return int(found.group(1))


def _register(client: TestClient, csrf: str, *, born: str, sex: str = "female", initials: str = "PG") -> int:
    response = client.post(
        "/subjects", data={"csrf_token": csrf, "date_of_birth": born, "sex": sex, "initials": initials}
    )
    assert response.status_code == 200, response.text
    assert "The patient is registered for screening." in response.text
    return _subject_id(response)


def _consent(client: TestClient, csrf: str, subject_id: int) -> None:
    signed = f"{TODAY - timedelta(days=2)}T09:30"
    response = client.post(
        f"/subjects/{subject_id}/consents",
        data={"csrf_token": csrf, "icf_version": "1.0", "signed_at": signed},
    )
    assert "The consent is recorded." in response.text, response.text


def _upload(client: TestClient, csrf: str, subject_id: int, document: dict[str, Any]) -> str:
    response = client.post(
        f"/subjects/{subject_id}/screening/upload",
        data={"csrf_token": csrf},
        files={"document": ("form.json", json.dumps(document), "application/json")},
    )
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture(scope="module")
def enrolled(client: TestClient, world: World) -> int:
    csrf = log_in(client, world["investigator"])
    form = example_form()
    subject_id = _register(client, csrf, born=form["patient"]["birth_date"])
    _consent(client, csrf, subject_id)
    page = _upload(client, csrf, subject_id, form)
    assert 'data-testid="screening-decision">eligible<' in page
    response = client.post(f"/subjects/{subject_id}/enrolment", data={"csrf_token": csrf})
    assert "The subject is enrolled." in response.text
    return subject_id


def _labs_form_id(client: TestClient, subject_id: int) -> int:
    page = client.get(f"/subjects/{subject_id}").text
    found = re.search(r'<a href="/forms/(\d+)">Laboratory tests</a>', page)
    assert found
    return int(found.group(1))


def test_an_uploaded_form_without_judgments_needs_the_investigators_review(
    client: TestClient, world: World
) -> None:
    csrf = log_in(client, world["investigator"])
    form = example_form()
    form["judgments"] = []
    subject_id = _register(client, csrf, born=form["patient"]["birth_date"], initials="NJ")
    page = _upload(client, csrf, subject_id, form)
    assert 'data-testid="screening-decision">incomplete<' in page
    screening_id = int(re.search(r'action="/screenings/(\d+)/judgments"', page).group(1))  # type: ignore[union-attr]
    pending = re.findall(r'name="criterion_id" value="([^"]+)"', page)
    assert pending
    for criterion in pending:
        answer = "met" if criterion.startswith("I") else "not_met"
        page = client.post(
            f"/screenings/{screening_id}/judgments",
            data={
                "csrf_token": csrf,
                "subject_id": subject_id,
                "criterion_id": criterion,
                "answer": answer,
                "comment": "examined",
            },
        ).text
    assert 'data-testid="screening-decision">eligible<' in page


def test_the_screening_form_filled_in_the_page_is_evaluated(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["coordinator"])
    subject_id = _register(client, csrf, born="1990-02-03", initials="FF")
    day = (TODAY - timedelta(days=1)).isoformat()
    response = client.post(
        f"/subjects/{subject_id}/screening",
        data={
            "csrf_token": csrf,
            "screening_date": day,
            "hemoglobin__value": "55",
            "hemoglobin__unit": "g/L",
            "hemoglobin__date": day,
            "gvhd__present": "no",
        },
    )
    assert response.status_code == 200, response.text
    assert 'data-testid="screening-decision">ineligible<' in response.text
    assert 'id="criterion-I7"' in response.text


def test_a_lab_value_without_its_date_is_refused_naming_the_row(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["coordinator"])
    subject_id = _register(client, csrf, born="1991-02-03", initials="ND")
    response = client.post(
        f"/subjects/{subject_id}/screening", data={"csrf_token": csrf, "hemoglobin__value": "90"}
    )
    assert response.status_code == 422
    assert "hemoglobin.date" in response.text


def test_the_enrolled_subjects_casebook_shows_the_visit_timeline(
    client: TestClient, world: World, enrolled: int
) -> None:
    log_in(client, world["coordinator"])
    page = client.get(f"/subjects/{enrolled}").text
    assert 'data-testid="subject-status">Enrolled<' in page
    assert "window" in page
    assert "Laboratory tests" in page


def test_an_out_of_range_value_is_saved_with_its_query_shown_on_the_field(
    client: TestClient, world: World, enrolled: int
) -> None:
    csrf = log_in(client, world["coordinator"])
    form_id = _labs_form_id(client, enrolled)
    page = client.get(f"/forms/{form_id}").text
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        f"/forms/{form_id}",
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "field__collection_date": TODAY.isoformat(),
            "field__hemoglobin": "300",
        },
    )
    assert "The form is saved." in response.text
    assert re.search(r'id="field__hemoglobin"[^>]*aria-invalid="true"', response.text)
    assert "query open" in response.text


def test_a_save_from_a_stale_page_overwrites_nothing(client: TestClient, world: World, enrolled: int) -> None:
    csrf = log_in(client, world["coordinator"])
    form_id = _labs_form_id(client, enrolled)
    page = client.get(f"/forms/{form_id}").text
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    first = {"csrf_token": csrf, "expected_version": version, "field__ldh": "250"}
    assert "The form is saved." in client.post(f"/forms/{form_id}", data=first).text
    second = client.post(f"/forms/{form_id}", data=first | {"field__ldh": "260"})
    assert second.status_code == 409
    assert "Somebody saved this form after you opened it" in second.text


def test_the_monitor_ticks_a_field_and_raises_a_query(
    client: TestClient, world: World, enrolled: int
) -> None:
    csrf = log_in(client, world["monitor"])
    form_id = _labs_form_id(client, enrolled)
    page = client.post(f"/forms/{form_id}/verifications", data={"csrf_token": csrf, "field": "ldh"})
    assert page.status_code == 409  # the form is not complete yet
    raised = client.post(
        f"/forms/{form_id}/queries",
        data={"csrf_token": csrf, "field": "ldh", "text": "please attach the lab report"},
    )
    assert "The query is recorded." in raised.text
    assert "please attach the lab report" in raised.text


def test_the_signature_dialog_asks_for_the_meaning_and_the_password(
    client: TestClient, world: World, enrolled: int
) -> None:
    log_in(client, world["investigator"])
    form_id = _labs_form_id(client, enrolled)
    fragment = client.get(f"/forms/{form_id}/signature", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith("<dialog")
    assert 'name="meaning"' in fragment
    assert 'type="password"' in fragment


def test_the_query_list_shows_open_queries(client: TestClient, world: World, enrolled: int) -> None:
    log_in(client, world["data_manager"])
    page = client.get("/queries?status=open").text
    assert "please attach the lab report" in page


def test_a_coordinator_of_site_b_cannot_open_site_as_pages(
    client: TestClient, world: World, enrolled: int
) -> None:
    log_in(client, world["coordinator_b"])
    form_id = _labs_form_id_as(client, world, enrolled)
    log_in(client, world["coordinator_b"])
    for path in (f"/subjects/{enrolled}", f"/subjects/{enrolled}/screening", f"/forms/{form_id}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text
    assert f"/subjects/{enrolled}" not in client.get("/subjects").text


def _labs_form_id_as(client: TestClient, world: World, subject_id: int) -> int:
    log_in(client, world["coordinator"])
    return _labs_form_id(client, subject_id)


def test_the_administrator_adds_a_user_and_resets_a_password(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["admin"])
    added = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "new-coordinator",
            "full_name": "New Coordinator",
            "role": "coordinator",
            "site_id": str(world.site_a),
            "password": PASSWORD,
        },
    )
    assert "The user is added." in added.text
    reset = client.post(
        "/admin/users/new-coordinator/password", data={"csrf_token": csrf, "password": "short"}
    )
    assert reset.status_code == 422
    assert "at least 12 characters" in reset.text
    without_reason = {"csrf_token": csrf, "role": "monitor", "site_id": "", "reason": ""}
    refused = client.post("/admin/users/new-coordinator/role", data=without_reason)
    assert (refused.status_code, "why the role changes" in refused.text) == (422, True)
    changed = client.post(
        "/admin/users/new-coordinator/role", data=without_reason | {"reason": "monitors now"}
    )
    assert "The role is changed" in changed.text
    assert re.search(
        r'id="user-new-coordinator">\s*<td>new-coordinator</td><td>New Coordinator</td><td>monitor',
        changed.text,
        re.IGNORECASE,
    )


def test_the_data_manager_locks_and_unlocks_the_study(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["data_manager"])
    assert (
        "The data are locked."
        in client.post("/locks", data={"csrf_token": csrf, "reason": "interim analysis"}).text
    )
    refused = client.post("/locks/release", data={"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 422
    assert (
        "The data are unlocked."
        in client.post("/locks/release", data={"csrf_token": csrf, "reason": "analysis done"}).text
    )


def test_pages_refuse_roles_without_the_permission(client: TestClient, world: World) -> None:
    log_in(client, world["dsmb"])
    assert client.get("/admin/users").status_code == 403
    assert client.get("/locks").status_code == 403


def test_the_dashboard_shows_each_role_the_panels_it_may_see(
    client: TestClient, world: World, enrolled: int
) -> None:
    log_in(client, world["monitor"])
    page = client.get("/").text
    assert re.search(r'data-testid="open-queries"><a href="/queries\?status=open">[1-9]\d* open<', page)
    assert "Screening funnel" in page
    assert "Subjects by status" in page
    assert "SAE reporting clocks" in page
    # nobody infused yet: the rule (first look after 3 evaluable subjects) is not applied
    stopping = r'data-testid="dashboard-stopping">\s*<span class="badge badge-warn">not yet applied'
    assert re.search(stopping, page)
    assert "0 events in 0 evaluable subjects" in page
    log_in(client, world["admin"])
    page = client.get("/").text
    assert 'data-testid="enrolment"' in page
    assert "Screening funnel" not in page
    assert "open-queries" not in page
    assert "dashboard-stopping" not in page


@pytest.mark.parametrize("stored", [1234567.0, 0.1, 2.5e-07, 150.0, 99999.99])
def test_a_decimal_shown_in_its_input_reads_back_as_the_same_number(stored: float) -> None:
    from celltrial.study.forms.dictionary import form_definition
    from celltrial.study.forms.values import coerce_value
    from celltrial.web.pages.forms import shown_value

    field = form_definition("labs").field("ferritin")
    assert coerce_value(field, shown_value(field, stored), where="labs.ferritin") == stored


def test_a_page_save_leaves_alone_a_time_its_input_cannot_show_exactly(
    client: TestClient, world: World, enrolled: int
) -> None:
    from pages import token_headers

    headers = token_headers(client, world["coordinator"])
    listed = client.get(f"/api/v1/subjects/{enrolled}/forms", headers=headers).json()
    kinetics = next(item for item in listed if item["form_code"] == "kinetics_sample")
    taken = f"{TODAY - timedelta(days=1)}T08:15:30+00:00"
    values = {"sample_datetime": taken, "sample_type": "peripheral_blood", "below_lloq": True}
    saved = client.put(
        f"/api/v1/forms/{kinetics['id']}",
        json={"values": values, "expected_version": kinetics["version"]},
        headers=headers,
    ).json()["form"]
    csrf = log_in(client, world["coordinator"])
    page = client.get(f"/forms/{kinetics['id']}").text
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    shown = re.search(r'name="field__sample_datetime" type="datetime-local" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    posted = {
        "csrf_token": csrf,
        "expected_version": version,
        "field__sample_datetime": shown,
        "field__sample_type": "peripheral_blood",
        "field__below_lloq": "yes",
        "field__car_t_cells": "12",
    }
    client.post(f"/forms/{kinetics['id']}", data=posted)
    after = client.get(f"/api/v1/forms/{kinetics['id']}", headers=headers).json()
    assert after["data"]["sample_datetime"] == saved["data"]["sample_datetime"]
    assert after["data"]["car_t_cells"] == 12
