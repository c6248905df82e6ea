"""In Chromium: at the bedside, two people scan another subject's bag; the infusion is blocked and
the block is recorded in the chain of identity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cell_product_world import Products, build_products
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from live import live_server
from playwright.sync_api import Page, expect

from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-bedside")]


@pytest.fixture(scope="module")
def products(client: TestClient, as_role: dict[str, dict[str, str]], world: World) -> Products:
    return build_products(client, world, as_role)


@pytest.fixture(scope="module")
def base_url(world: World, products: Products) -> Iterator[str]:
    with live_server(create_app(world.url, WebSettings())) as url:
        yield url


def test_a_wrong_bag_scanned_at_the_bedside_blocks_the_infusion(
    page: Page, base_url: str, world: World, products: Products
) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(world["investigator"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Product").click()
    page.locator(f'a[href="/subjects/{products.p1}/product"]').click()
    expect(page.get_by_test_id("coi-number")).to_have_text(f"COI-{products.p1_number}")
    form = page.get_by_test_id("bedside-form")
    form.locator("#first_bag").fill(products.p2_bag)  # the other subject's bag
    form.locator("#first_wristband").fill(products.p1_number)
    form.locator("#second_person").fill(world["cell_lab"])
    form.locator("#second_password").fill(PASSWORD)
    form.locator("#second_bag").fill(products.p2_bag)
    form.locator("#second_wristband").fill(products.p1_number)
    form.get_by_role("button", name="Verify at the bedside").click()
    blocked = page.get_by_test_id("bedside-blocked")
    expect(blocked).to_be_visible()
    expect(blocked).to_contain_text("Infusion blocked")
    expect(page.locator('section[aria-labelledby="bedside"] table')).to_contain_text("WRONG BAG")
    expect(page.get_by_test_id("custody-step")).to_have_text("Thawed; next: Infused")
    assert page.console_errors == []  # type: ignore[attr-defined]
