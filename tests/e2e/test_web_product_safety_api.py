"""The product and safety API, role by role: what the permission matrix allows answers, the rest is 403.

Two subjects of site A (``cell_product_world``): P1's product thawed at the bedside, P2 infused two
days ago with a serious adverse event whose report to the sponsor is overdue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cell_product_world import Products, build_products
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient

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
