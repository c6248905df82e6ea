"""The analyses pages of a simulated trial (as ``celltrial demo`` serves it): figures, tables, the PDF.

One small trial (10 referred patients, seed 7, cut 2026-06-01) is simulated per module through
the services, with the demo's logins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.reporting.dsmb_figures import FIGURES
from celltrial.simulate.demo_users import DEMO_PASSWORD
from celltrial.simulate.trial import SimulationSummary, simulate_trial
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

CUT = date(2026, 6, 1)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, SimulationSummary]:
    url = f"sqlite:///{tmp_path_factory.mktemp('analyses') / 'demo.db'}"
    return url, simulate_trial(url, patients=10, seed=7, until=CUT)


@pytest.fixture(scope="module")
def dsmb(simulated: tuple[str, SimulationSummary]) -> Iterator[TestClient]:
    with TestClient(create_app(simulated[0], WebSettings())) as client:
        log_in(client, "dsmb", DEMO_PASSWORD)
        yield client


def test_the_analyses_page_shows_the_simulated_trial_with_every_figure(
    dsmb: TestClient, simulated: tuple[str, SimulationSummary]
) -> None:
    page = dsmb.get(f"/analyses?cutoff={CUT}")
    assert page.status_code == 200
    consort = simulated[1].consort
    assert f'data-testid="cutoff">{CUT.isoformat()}<' in page.text
    assert f'data-testid="infused">{consort.infused}<' in page.text
    assert "CR/CRi at day 28" in page.text
    assert 'href="/analyses/dsmb-report.pdf?cutoff=2026-06-01"' in page.text
    shown = set(re.findall(r'src="/analyses/figures/([a-z-]+)\.svg', page.text))
    assert shown == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_is_served_as_svg_and_png(dsmb: TestClient, name: str) -> None:
    svg = dsmb.get(f"/analyses/figures/{name}.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert ElementTree.fromstring(svg.content).tag.endswith("svg")
    png = dsmb.get(f"/analyses/figures/{name}.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


def test_the_dsmb_report_downloads_as_a_pdf_named_after_the_trial_and_cut_off(dsmb: TestClient) -> None:
    response = dsmb.get(f"/analyses/dsmb-report.pdf?cutoff={CUT}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert (
        'filename="NCT07008872-DSMB-report-2026-06-01-DRAFT.pdf"' in response.headers["content-disposition"]
    )


def test_the_cut_off_is_by_default_the_latest_data_and_an_earlier_one_can_be_chosen(dsmb: TestClient) -> None:
    latest = re.search(r'data-testid="cutoff">([0-9-]+)<', dsmb.get("/analyses").text)
    assert latest is not None
    assert date(2026, 5, 1) <= date.fromisoformat(latest.group(1)) <= CUT
    early = dsmb.get("/analyses?cutoff=2025-06-02")
    assert early.status_code == 200
    assert 'data-testid="infused">0<' in early.text
    assert 'data-testid="no-figure-swimmer"' in early.text
    assert dsmb.get("/analyses?cutoff=tomorrow").status_code == 422
    assert dsmb.get("/analyses/figures/pie-chart.svg").status_code == 404


@pytest.mark.parametrize(
    ("role", "allowed"), [("sponsor", True), ("datamanager", True), ("coordinator", False)]
)
def test_only_roles_that_see_safety_and_efficacy_get_the_analyses(
    simulated: tuple[str, SimulationSummary], role: str, allowed: bool
) -> None:
    with TestClient(create_app(simulated[0], WebSettings())) as client:
        log_in(client, role, DEMO_PASSWORD)
        menu = client.get("/").text
        statuses = {
            client.get(path).status_code
            for path in ("/analyses", "/analyses/figures/os.svg", "/analyses/dsmb-report.pdf")
            for path in (f"{path}?cutoff={CUT}",)
        }
    assert ('href="/analyses"' in menu) is allowed
    assert statuses == ({200} if allowed else {403})
