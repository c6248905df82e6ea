"""In Chromium: log in, see the dashboard, log out; a wrong password and its message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_world import PASSWORD, World
from live import live_server
from playwright.sync_api import Page, expect

from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-login")]


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with live_server(create_app(world.url, WebSettings())) as url:
        yield url


def test_an_investigator_logs_in_and_sees_the_dashboard(page: Page, base_url: str, world: World) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/login?next=%2F")
    page.get_by_label("Username").fill(world["investigator"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CD7 CAR-T")
    expect(page.get_by_test_id("enrolment")).to_have_text("0 / 40")
    expect(page.get_by_test_id("study-status")).to_be_visible()
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_logging_out_returns_to_the_login_page(page: Page, base_url: str, world: World) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(world["monitor"])
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/login?next=%2F")


def test_a_wrong_password_is_announced_next_to_the_form(page: Page, base_url: str, world: World) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(world["sponsor"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="Wrong username or password")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")


def test_the_keyboard_signs_in_and_reaches_the_skip_link_first(
    page: Page, base_url: str, world: World
) -> None:
    page.goto(f"{base_url}/login")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(world["data_manager"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("enrolment")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
