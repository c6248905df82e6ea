"""The product and safety pages through the test client: what each shows, the bedside form blocking a
wrong bag, the adverse event form, and the menu entries by role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cell_product_world import Products, build_products
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.study.types import utcnow


@pytest.fixture(scope="module")
def products(client: TestClient, as_role: dict[str, dict[str, str]], world: World) -> Products:
    return build_products(client, world, as_role)


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
