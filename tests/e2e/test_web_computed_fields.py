"""Computed CRF fields on the form page: shown read-only, never posted back (the response form's
overall response is derived from its components by the forms service)."""

from __future__ import annotations

import re
from datetime import timedelta

from e2e_world import World
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.study.types import utcnow


def test_derived_response_fields_are_shown_not_editable(client: TestClient, world: World) -> None:
    csrf = log_in(client, world["investigator"])
    patient = {"csrf_token": csrf, "date_of_birth": "1990-04-02", "sex": "male", "initials": "RF"}
    registered = client.post("/subjects", data=patient)
    found = re.search(r"/subjects/(\d+)", str(registered.url))
    assert found, registered.text
    subject = found.group(1)
    signed = f"{utcnow().date() - timedelta(days=1)}T09:30"
    consent = {"csrf_token": csrf, "icf_version": "1.0", "signed_at": signed}
    assert "The consent is recorded." in client.post(f"/subjects/{subject}/consents", data=consent).text
    added = client.post(f"/subjects/{subject}/forms", data={"csrf_token": csrf, "form_code": "response"})
    assert added.status_code == 200, added.text
    page = added.text
    assert re.search(r'<output id="field__overall_response" class="computed"', page), page
    assert "not derived yet" in page
    assert 'name="field__overall_response"' not in page
    assert 'name="field__marrow_blasts_percent"' in page
