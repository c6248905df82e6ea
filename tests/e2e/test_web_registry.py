"""The registry portal: the seed trial's page shows every fact of its record; search and trial pages
of imported trials; the API's registry endpoints."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from e2e_world import World
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.database import make_engine, session_factory
from celltrial.registry import service as registry

SEED_FACTS = [
    "CD7 CAR-T Cell Therapy Targeting CD7-positive Relapsed/Refractory T Cell Lymphoma/Acute Leukemia",
    "NCT07008872",
    "Results pending",
    "NOT_YET_RECRUITING",
    "40 participants",
    "INTERVENTIONAL",
    "2025-06-01",
    "2027-05-31",
    "CD7+ Lymphoma",
    "CD7+ Acute Leukemia",
    "SINGLE_GROUP",
    "TREATMENT",
    "For intravenous infusion",
    "EXPERIMENTAL",
    "CD7 CART",
    "BIOLOGICAL",
    "Subjects must meet all of the following criteria to be enrolled:",
    "creatinine ≤1.5×ULN",
    "Active GVHD",
    "14 Years",
    "75 Years",
    "Hebei Taihe Chunyu Biotechnology Co., Ltd",
    "INDUSTRY",
    "collaborator",
    "Qi deng",
    "Chief Physician",
    "SPONSOR_INVESTIGATOR",
    "XB-20240912-1",
    "org_study_id",
]
SEED_HEADINGS = [
    "Study Results",
    "Basic Information",
    "Brief Summary",
    "Detailed Description",
    "Conditions",
    "Study Design",
    "Study Groups",
    "Interventions",
    "Eligibility Criteria",
    "Sponsors",
    "Responsible Party",
    "Other Identifiers",
    "More Related Trials",
]


def test_the_seed_trials_page_shows_every_fact_of_its_record(client: TestClient) -> None:
    client.cookies.clear()
    page = client.get("/registry/NCT07008872")
    assert page.status_code == 200
    text = html.unescape(page.text)
    missing = [fact for fact in SEED_FACTS + SEED_HEADINGS if fact not in text]
    assert missing == []
    assert "proportion>5%" in text


def test_the_seed_trials_page_links_staff_to_its_operations(client: TestClient, world: World) -> None:
    log_in(client, world["coordinator"])
    page = client.get("/registry/NCT07008872").text
    assert "celltrial runs this trial" in page
    assert 'href="/screening"' in page


def test_an_unknown_trial_is_a_404_page(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/registry/NCT00000001")
    assert response.status_code == 404
    assert "Not found" in response.text


def test_a_malformed_nct_id_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/registry/trials/NCT123/page")
    assert response.status_code == 422
    assert response.json()["field"] == "nct_id"


def test_the_search_page_says_when_nothing_is_imported(client: TestClient) -> None:
    page = client.get("/registry?text=CD7").text
    assert "not imported in this database yet" in page


@pytest.fixture(scope="module")
def imported(world: World, shared_data: Path) -> str:
    engine = make_engine(world.url)
    try:
        registry.import_registry(
            factory=session_factory(engine), path=shared_data / "ctgov" / "NCT02210780_study.json"
        )
    finally:
        engine.dispose()
    return "NCT02210780"


def test_an_imported_trial_is_found_by_search_and_has_its_page(client: TestClient, imported: str) -> None:
    found = client.get("/registry?text=dupilumab").text
    assert f'href="/registry/{imported}"' in found
    page = client.get(f"/registry/{imported}")
    assert page.status_code == 200
    assert "Atopic Dermatitis" in page.text
    assert "Sites by Country" in page.text


def test_the_api_searches_the_registry_and_gives_related_trials(client: TestClient, imported: str) -> None:
    results = client.get("/api/v1/registry/trials", params={"text": "dupilumab"}).json()
    assert [hit["nct_id"] for hit in results["results"]] == [imported]
    related = client.get(f"/api/v1/registry/trials/{imported}/related").json()
    assert related["nct_id"] == imported
    assert client.get("/api/v1/registry/trials", params={"status": "SOMETHING"}).status_code == 422
