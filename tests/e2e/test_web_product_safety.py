"""The product and safety API and pages. The API role by role: what the permission matrix allows
answers, the rest is 403; then the pages through the test client, and the menu entries by role.

Two subjects of site A (``cell_product_world``): P1's product thawed at the bedside, P2 infused two
days ago with a serious adverse event whose report to the sponsor is overdue. The tests run in
file order on one database (the API's bedside checks come before the page's).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cell_product_world import Products, build_products
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.study.permissions import PERMISSIONS, Action
from celltrial.study.types import utcnow
from celltrial.study.users.models import Role

ROLES = [role.value for role in Role]


@pytest.fixture(scope="module")
def products(client: TestClient, as_role: dict[str, dict[str, str]], world: World) -> Products:
    return build_products(client, world, as_role)


def _may(role: str, *actions: Action) -> bool:
    return any(action in PERMISSIONS[Role(role)] for action in actions)


# (path, the actions any of which allows it); {p1}, {p2}, {din} filled in from the products
READS: list[tuple[str, tuple[Action, ...]]] = [
    ("/subjects/{p1}/product", (Action.PRODUCT_VIEW,)),
    ("/subjects/{p1}/product/custody", (Action.PRODUCT_VIEW,)),
    ("/product/vein-to-vein", (Action.PRODUCT_VIEW,)),
    ("/product/labels/{din}.pdf", (Action.PRODUCT_CUSTODY,)),
    ("/subjects/{p2}/adverse-events", (Action.SAFETY_VIEW, Action.SAFETY_REPORT)),
    ("/subjects/{p2}/dlt", (Action.SAFETY_VIEW, Action.SAFETY_REPORT)),
    ("/safety/sae-clocks", (Action.SAFETY_VIEW, Action.SAFETY_REPORT)),
    ("/safety/stopping-rule", (Action.SAFETY_VIEW, Action.SAFETY_REPORT)),
    ("/safety/stopping-rule/operating-characteristics", (Action.SAFETY_VIEW, Action.SAFETY_REPORT)),
    ("/safety/dsmb-tables", (Action.SAFETY_VIEW,)),
]
CASES = [
    pytest.param(path, role, _may(role, *actions), id=f"{role}-GET-{path}")
    for path, actions in READS
    for role in ROLES
]


@pytest.mark.parametrize(("path", "role", "allow"), CASES)
def test_each_role_reads_exactly_what_the_matrix_allows(
    client: TestClient,
    as_role: dict[str, dict[str, str]],
    products: Products,
    path: str,
    role: str,
    allow: bool,
) -> None:
    url = "/api/v1" + path.format(p1=products.p1, p2=products.p2, din=products.p1_bag)
    response = client.get(url, headers=as_role[role])
    assert response.status_code == (200 if allow else 403), response.text
    if not allow:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_the_chain_of_identity_shows_release_results_and_the_temperature_excursion(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    coi = client.get(f"/api/v1/subjects/{products.p1}/product", headers=as_role["monitor"]).json()
    assert coi["coi_number"] == f"COI-{products.p1_number}"
    (chain,) = coi["collections"]
    assert chain["custody_step"] == "thawed"
    lot = chain["lot"]
    assert lot["releasable"] is True
    assert {check["test"] for check in lot["release_checks"]} >= {"viability", "sterility"} or lot[
        "release_checks"
    ]
    assert all(check["passed"] for check in lot["release_checks"])
    events = client.get(f"/api/v1/subjects/{products.p1}/product/custody", headers=as_role["monitor"]).json()
    assert [event["excursion"] for event in events if event["step"] == "shipped_to_site"] == [True]
    assert not any(event["excursion"] for event in events if event["step"] != "shipped_to_site")


def test_a_label_is_a_pdf(client: TestClient, as_role: dict[str, dict[str, str]], products: Products) -> None:
    response = client.get(f"/api/v1/product/labels/{products.p1_bag}.pdf", headers=as_role["cell_lab"])
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def _bedside(products: Products, bag: str, *, second: str = "cell-lab") -> dict[str, Any]:
    read = {"bag_din": bag, "wristband": products.p1_number}
    return {"first": read, "second_person": second, "second_password": PASSWORD, "second": read}


def test_the_wrong_bag_at_the_bedside_is_recorded_and_blocks_the_infusion(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    url = f"/api/v1/subjects/{products.p1}/product/bedside-verifications"
    blocked = client.post(url, json=_bedside(products, products.p2_bag), headers=as_role["investigator"])
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["passed"] is False
    assert blocked.json()["problems"]
    refused = client.post(url, json=_bedside(products, products.p1_bag), headers=as_role["coordinator"])
    assert refused.status_code == 403
    alone = client.post(
        url, json=_bedside(products, products.p1_bag, second="investigator"), headers=as_role["investigator"]
    )
    assert alone.status_code == 422
    assert alone.json()["field"] == "second_person"
    passed = client.post(url, json=_bedside(products, products.p1_bag), headers=as_role["investigator"])
    assert passed.json()["passed"] is True
    coi = client.get(f"/api/v1/subjects/{products.p1}/product", headers=as_role["investigator"]).json()
    assert [check["passed"] for check in coi["bedside_verifications"]] == [False, True]


def test_the_overdue_sae_clock_is_flagged_to_the_site_and_the_sponsor(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    for role in ("investigator", "sponsor"):
        board = client.get("/api/v1/safety/sae-clocks?overdue_only=true", headers=as_role[role]).json()
        assert [(row["subject_id"], row["overdue"]) for row in board] == [(products.p2, True)]
        assert board[0]["clocks"][0]["status"] == "overdue"
    assert client.get("/api/v1/safety/sae-clocks", headers=as_role["investigator_b"]).json() == []


def test_adverse_events_are_reported_by_the_site_only(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    event = {
        "term": "Nausea",
        "soc": "Gastrointestinal disorders",
        "grade": 1,
        "onset_date": str(utcnow().date() - timedelta(days=1)),
        "related_to_cart": "unlikely",
        "related_to_lymphodepletion": "possible",
        "outcome": "recovering",
    }
    url = f"/api/v1/subjects/{products.p2}/adverse-events"
    for role in ROLES:
        if role in ("investigator", "coordinator"):
            continue
        assert client.post(url, json=event, headers=as_role[role]).status_code == 403, role
    made = client.post(url, json=event, headers=as_role["coordinator"])
    assert made.status_code == 201, made.text
    bad = client.post(url, json={**event, "grade": 7}, headers=as_role["coordinator"])
    assert bad.status_code == 422
    assert bad.json()["field"] == "grade"


def test_the_investigator_alone_confirms_the_dlt_evaluation(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    url = f"/api/v1/subjects/{products.p2}/dlt/confirmation"
    judgment = {"is_dlt": True, "comment": "grade 3 febrile neutropenia judged dose-limiting"}
    for role in ROLES:
        if role == "investigator":
            continue
        assert client.post(url, json=judgment, headers=as_role[role]).status_code == 403, role
    assert (
        client.post(url, json={"is_dlt": True}, headers=as_role["investigator"]).json()["field"] == "comment"
    )
    confirmed = client.post(url, json=judgment, headers=as_role["investigator"])
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["investigator_dlt"]) == ("pending", True)


def test_only_the_sponsor_approves_an_exceptional_release(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    url = f"/api/v1/product/lots/{products.p1_lot}/exceptional-release"
    approval = {"justification": "no alternative therapy", "password": PASSWORD}
    for role in ROLES:
        if role == "sponsor":
            continue
        assert client.post(url, json=approval, headers=as_role[role]).status_code == 403, role
    within_spec = client.post(url, json=approval, headers=as_role["sponsor"])
    assert within_spec.status_code == 409
    assert "within specification" in within_spec.json()["detail"]


def test_the_operating_characteristics_rise_with_the_true_rate(
    client: TestClient, as_role: dict[str, dict[str, str]], products: Products
) -> None:
    oc = client.get("/api/v1/safety/stopping-rule/operating-characteristics", headers=as_role["dsmb"]).json()
    rates = [item["true_rate"] for item in oc["characteristics"]]
    stops = [item["probability_of_stopping"] for item in oc["characteristics"]]
    assert rates == sorted(rates)
    assert rates[0] == pytest.approx(0.1)
    assert rates[-1] == pytest.approx(0.5)
    assert stops == sorted(stops)
    status = client.get("/api/v1/safety/stopping-rule", headers=as_role["dsmb"]).json()
    assert status["infused"] == 1


# --- the pages ---------------------------------------------------------------------------------


def test_the_product_page_shows_the_chain_release_and_custody_with_the_excursion(
    client: TestClient, world: World, products: Products
) -> None:
    log_in(client, world["monitor"])
    page = client.get(f"/subjects/{products.p1}/product")
    assert page.status_code == 200
    assert f"COI-{products.p1_number}" in page.text
    assert 'data-testid="custody-timeline"' in page.text
    assert page.text.count('data-testid="temperature-excursion"') == 1
    assert "Release results of lot" in page.text
    assert "within specification" in page.text
    assert 'data-testid="bedside-form"' not in page.text  # the monitor only reads
    overview = client.get("/product")
    assert products.p1_number in overview.text
    assert 'href="/product"' in overview.text


def test_the_bedside_form_blocks_a_wrong_bag_and_says_why(
    client: TestClient, world: World, products: Products
) -> None:
    csrf = log_in(client, world["investigator"])
    form = {
        "csrf_token": csrf,
        "first_bag": products.p2_bag,
        "first_wristband": products.p1_number,
        "second_person": world["cell_lab"],
        "second_password": PASSWORD,
        "second_bag": products.p2_bag,
        "second_wristband": products.p1_number,
    }
    answer = client.post(f"/subjects/{products.p1}/product/bedside", data=form, follow_redirects=True)
    assert answer.status_code == 200
    assert 'data-testid="bedside-blocked"' in answer.text
    assert "Infusion blocked" in answer.text
    wrong_password = client.post(
        f"/subjects/{products.p1}/product/bedside", data={**form, "second_password": "nope"}
    )
    assert wrong_password.status_code == 422
    assert 'id="page-problem"' in wrong_password.text


def test_the_safety_page_shows_the_rule_its_characteristics_the_overdue_clock_and_dsmb_tables(
    client: TestClient, world: World, products: Products
) -> None:
    log_in(client, world["sponsor"])
    page = client.get("/safety")
    assert page.status_code == 200
    assert 'data-testid="operating-characteristics"' in page.text
    assert "50%" in page.text
    assert 'data-testid="overdue-count"' in page.text
    assert 'data-testid="syndromes"' in page.text
    assert "Febrile neutropenia" in page.text  # the DSMB table of adverse events
    subject = client.get(f"/subjects/{products.p2}/safety")
    assert "Febrile neutropenia" in subject.text
    assert 'data-testid="dlt-status"' in subject.text
    assert 'data-testid="ae-form"' not in subject.text
    assert 'data-testid="dlt-form"' not in subject.text


def test_the_site_reports_an_adverse_event_through_the_form(
    client: TestClient, world: World, products: Products
) -> None:
    csrf = log_in(client, world["investigator"])
    form = {
        "csrf_token": csrf,
        "term": "Headache",
        "soc": "Nervous system disorders",
        "grade": "2",
        "onset_date": str(utcnow().date() - timedelta(days=1)),
        "related_to_cart": "possible",
        "related_to_lymphodepletion": "unlikely",
        "outcome": "recovered",
        "resolution_date": str(utcnow().date()),
        "action_taken": ["none"],
    }
    page = client.get(f"/subjects/{products.p2}/safety")
    assert 'data-testid="ae-form"' in page.text
    assert 'data-testid="dlt-form"' in page.text
    done = client.post(f"/subjects/{products.p2}/safety/adverse-events", data=form, follow_redirects=True)
    assert "The adverse event is recorded." in done.text
    assert "Headache" in done.text
    bad = client.post(f"/subjects/{products.p2}/safety/adverse-events", data={**form, "grade": "9"})
    assert bad.status_code == 422
    assert 'value="Headache"' in bad.text  # what was typed is kept


@pytest.mark.parametrize(
    ("role", "product", "safety"),
    [
        ("investigator", True, True),
        ("cell_lab", True, False),
        ("dsmb", False, True),
        ("data_manager", False, True),
        ("admin", False, False),
    ],
)
def test_the_menu_offers_product_and_safety_to_the_roles_allowed_them(
    client: TestClient, world: World, role: str, product: bool, safety: bool
) -> None:
    log_in(client, world[role])
    home = client.get("/").text
    assert ('href="/product"' in home) is product
    assert ('href="/safety"' in home) is safety
    assert client.get("/product").status_code == (200 if product else 403)
