"""In Chromium: screen a patient to eligible and enrol; a lab value out of range raises a query that
is answered and closed; a signature is invalidated by a change; site A cannot open site B's subject."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from documents import example_form
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from live import live_server
from pages import token_headers
from playwright.sync_api import Page, expect

from celltrial.study.types import utcnow
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-trial")]
TODAY = utcnow().date()


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with live_server(create_app(world.url, WebSettings())) as url:
        yield url


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _enrolled(client: TestClient, world: World, initials: str) -> dict[str, Any]:
    coordinator, investigator = (
        token_headers(client, world["coordinator"]),
        token_headers(client, world["investigator"]),
    )
    form = example_form()
    new = {
        "site_id": world.site_a,
        "date_of_birth": form["patient"]["birth_date"],
        "sex": "female",
        "initials": initials,
    }
    subject_id = client.post("/api/v1/subjects", json=new, headers=coordinator).json()["id"]
    consent = {"icf_version": "1.0", "signed_at": f"{TODAY - timedelta(days=2)}T09:00:00Z"}
    client.post(f"/api/v1/subjects/{subject_id}/consents", json=consent, headers=coordinator)
    client.post(f"/api/v1/subjects/{subject_id}/screenings", json=form, headers=investigator)
    subject = client.post(f"/api/v1/subjects/{subject_id}/enrolment", json={}, headers=investigator).json()
    forms = client.get(f"/api/v1/subjects/{subject_id}/forms", headers=coordinator).json()
    labs = next(item for item in forms if item["form_code"] == "labs")
    return {"subject": subject, "labs": labs["id"], "coordinator": coordinator}


def _open_labs(page: Page, base_url: str, made: dict[str, Any]) -> None:
    page.goto(f"{base_url}/subjects/{made['subject']['id']}")
    page.locator(f'a[href="/forms/{made["labs"]}"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laboratory tests")


def test_a_patient_is_screened_to_eligible_and_enrolled(page: Page, base_url: str, world: World) -> None:
    form = example_form()
    form["judgments"] = [item for item in form["judgments"] if item["criterion"] != "I4"]
    log_in(page, base_url, world["investigator"])
    page.get_by_role("link", name="Subjects").click()
    page.get_by_label("Date of birth").fill(form["patient"]["birth_date"])
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Initials").fill("BR")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_have_text("The patient is registered for screening.")
    page.set_input_files(
        "#document",
        files=[
            {"name": "screening.json", "mimeType": "application/json", "buffer": json.dumps(form).encode()}
        ],
    )
    page.get_by_role("button", name="Evaluate and record").first.click()
    expect(page.get_by_test_id("screening-decision")).to_have_text("incomplete")
    expect(page.locator("#criterion-I7")).to_contain_text("met")
    expect(page.locator("#criterion-I7")).to_contain_text("g/L")
    page.get_by_label("Your judgment of I4").select_option("met")
    page.locator("#comment-I4").fill("Expected survival well beyond 3 months")
    page.get_by_role("button", name="Record judgment of I4").click()
    expect(page.get_by_test_id("screening-decision")).to_have_text("eligible")
    expect(page.get_by_text("the consent is not recorded yet")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Casebook of")).click()
    page.get_by_text(re.compile(r"^Record consent \(ICF")).click()
    page.get_by_label("Signed on (UTC)").fill(f"{TODAY - timedelta(days=1)}T10:00")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_test_id("consent-state")).to_contain_text("Valid")
    page.get_by_role("button", name=re.compile("^Enrol ")).click()
    expect(page.get_by_role("status")).to_have_text("The subject is enrolled.")
    expect(page.get_by_test_id("subject-status")).to_have_text("Enrolled")
    expect(page.get_by_role("heading", level=1)).to_contain_text("S01-")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_an_out_of_range_lab_value_shows_its_query_which_is_answered_and_closed(
    page: Page, base_url: str, world: World, client: TestClient
) -> None:
    made = _enrolled(client, world, "LB")
    log_in(page, base_url, world["coordinator"])
    _open_labs(page, base_url, made)
    page.get_by_label("Collection date").fill(TODAY.isoformat())
    page.get_by_label("Haemoglobin (g/L)").fill("25")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The form is saved.")
    expect(page.get_by_label("Haemoglobin (g/L)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#messages-hemoglobin")).to_contain_text("Query open")
    query = page.locator("#review-hemoglobin .query")
    expect(query).to_contain_text("query open")
    page.get_by_label(re.compile("^Answer to query")).fill("Confirmed with the laboratory: 25 g/L")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#review-hemoglobin .query")).to_contain_text("query answered")
    page.get_by_role("button", name="Log out").click()
    log_in(page, base_url, world["monitor"])
    page.goto(f"{base_url}/queries?status=answered")
    page.get_by_role("row", name=re.compile("Confirmed|hemoglobin|Haemoglobin", re.I)).get_by_role(
        "link"
    ).first.click()
    page.get_by_label(re.compile("^Closing comment for query")).fill("accepted")
    page.get_by_role("button", name=re.compile("^Close query")).click()
    expect(page.locator("#review-hemoglobin .query")).to_contain_text("query closed")


def test_a_signature_shows_invalidated_after_the_form_changes(
    page: Page, base_url: str, world: World, client: TestClient
) -> None:
    made = _enrolled(client, world, "SG")
    version = client.get(f"/api/v1/forms/{made['labs']}", headers=made["coordinator"]).json()["version"]
    values = {"collection_date": TODAY.isoformat(), "hemoglobin": 101, "platelets": 180}
    client.put(
        f"/api/v1/forms/{made['labs']}",
        json={"values": values, "expected_version": version, "complete": True},
        headers=made["coordinator"],
    )
    log_in(page, base_url, world["investigator"])
    _open_labs(page, base_url, made)
    page.get_by_role("link", name="Sign this form").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Approved").check()
    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign").click()
    expect(page.get_by_role("status")).to_have_text("The form is signed.")
    expect(page.get_by_test_id("signatures")).to_contain_text("valid")
    expect(page.get_by_test_id("form-status")).to_have_text("Signed")
    page.get_by_label("Platelets (10*9/L)").fill("175")
    page.get_by_label("Reason for change").fill("transcription error")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("signatures")).to_contain_text("invalidated: the form changed after signing")
    page.locator("#review-platelets summary", has_text="History").click()
    expect(page.locator("#review-platelets table")).to_contain_text("transcription error")


def test_a_coordinator_of_site_a_cannot_open_a_subject_of_site_b(
    page: Page, base_url: str, world: World, client: TestClient
) -> None:
    headers = token_headers(client, world["coordinator_b"])
    new = {"site_id": world.site_b, "date_of_birth": "1985-04-01", "sex": "male", "initials": "SB"}
    other = client.post("/api/v1/subjects", json=new, headers=headers).json()
    log_in(page, base_url, world["coordinator"])
    page.goto(f"{base_url}/subjects/{other['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    page.goto(f"{base_url}/subjects")
    expect(page.get_by_role("link", name=other["screening_number"])).to_have_count(0)
