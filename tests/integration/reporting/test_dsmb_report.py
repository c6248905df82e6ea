"""The DSMB report of a simulated trial (20 referred patients, seed 7, cut 2026-09-01), read back.

The PDF's text is extracted with ``pdftotext`` (poppler) when it is installed, else with
pypdfium2. The numbers it must show are computed here along other paths through the database:
the simulation's own CONSORT summary, the safety service's DSMB tables and stopping-rule status.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.analysis.proportions import clopper_pearson
from celltrial.cli import main
from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.reporting.dsmb_analyses import collect
from celltrial.reporting.dsmb_data import SubjectCourse
from celltrial.reporting.dsmb_report import SECTIONS, render_dsmb_report
from celltrial.simulate.trial import SimulationSummary, simulate_trial
from celltrial.study.audit.models import AuditEntry
from celltrial.study.safety import monitoring
from celltrial.study.trial import service as trials
from celltrial.study.users import service as users

CUT = date(2026, 9, 1)


@dataclass(frozen=True)
class Simulated:
    url: str
    summary: SimulationSummary
    folder: Path


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    folder = tmp_path_factory.mktemp("dsmb")
    url = f"sqlite:///{folder / 'trial.db'}"
    return Simulated(url, simulate_trial(url, patients=20, seed=7, until=CUT), folder)


@contextlib.contextmanager
def _session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def pdf_text(path: Path) -> tuple[int, str]:
    """(pages, text with whitespace runs collapsed) of a PDF."""
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        pages = text.count("\f")
    else:
        document = pypdfium2.PdfDocument(str(path))
        try:
            pages = len(document)
            text = "\n".join(document[index].get_textpage().get_text_range() for index in range(pages))
        finally:
            document.close()
    return pages, " ".join(text.split())


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def report(simulated: Simulated) -> tuple[dict[str, object], int, str]:
    target = simulated.folder / "dsmb.pdf"
    options = ["--db", simulated.url, "--user", "dsmb", "--cutoff", CUT.isoformat(), "--json"]
    code, out = _run("report", "dsmb", "--out", str(target), *options)
    assert code == 0, out
    pages, text = pdf_text(target)
    return json.loads(out), pages, text


def test_the_report_has_a_cover_with_the_cut_off_and_every_section(
    report: tuple[dict[str, object], int, str],
) -> None:
    summary, pages, text = report
    assert pages == summary["pages"]
    assert 8 <= pages <= 14
    assert summary["cutoff"] == CUT.isoformat()
    assert "Data and Safety Monitoring Board report" in text
    assert f"Data cut-off {CUT.isoformat()}" in text
    assert "NCT07008872" in text
    assert "DRAFT — data not locked" in text
    for section in SECTIONS:
        assert section in text
    assert f"page {pages}" in text


def test_the_report_counts_the_subjects_as_the_simulation_and_the_safety_service_do(
    simulated: Simulated, report: tuple[dict[str, object], int, str]
) -> None:
    _summary, _pages, text = report
    consort = simulated.summary.consort
    assert f"Infused (safety population) {consort.infused}" in text
    assert f"Enrolled {consort.enrolled} of 40" in text
    assert f"Screened {consort.screened}" in text
    with _session(simulated.url) as session:
        sponsor = users.get_by_username_or_raise(session, username="sponsor")
        study = trials.the_study(session)
        tables = monitoring.dsmb_tables(session, by=sponsor, study_id=study.id)
        status = monitoring.stopping_rule_status(session, by=sponsor, study_id=study.id, as_of=CUT)
    infused = tables.subjects
    assert infused == consort.infused
    crs = f"{tables.crs.any_grade} ({100 * tables.crs.any_grade / infused:.0f}%)"
    assert f"Subjects, any grade {crs}" in text
    assert f"P(rate > threshold | data) {status.decision.posterior_probability:.3f}" in text
    assert f"Evaluable subjects {status.evaluable}" in text


def test_the_day_28_cr_rate_and_its_exact_interval_are_the_simulations(
    simulated: Simulated, report: tuple[dict[str, object], int, str]
) -> None:
    _summary, _pages, text = report
    consort = simulated.summary.consort
    estimate = clopper_pearson(consort.cr_cri_day28, consort.evaluable_day28)
    assert (
        f"CR/CRi at day 28 infused ≥ 28 days before the cut-off (n = {consort.evaluable_day28}) "
        f"{consort.cr_cri_day28}/{consort.evaluable_day28} {100 * estimate.estimate:.1f}% "
        f"{100 * estimate.lower:.1f}–{100 * estimate.upper:.1f}%"
    ) in text


def test_the_report_handed_out_is_in_the_audit_trail(
    simulated: Simulated, report: tuple[dict[str, object], int, str]
) -> None:
    with _session(simulated.url) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == "dsmb-report")).all()
    assert [(entry.actor, entry.action) for entry in entries] == [("dsmb", "export")]
    assert json.loads(entries[0].new_value or "{}")["cutoff"] == CUT.isoformat()


def test_a_site_coordinator_may_not_have_the_report(
    simulated: Simulated, capsys: pytest.CaptureFixture[str]
) -> None:
    target = simulated.folder / "coordinator.pdf"
    code, _ = _run("report", "dsmb", "--out", str(target), "--db", simulated.url, "--user", "coordinator")
    assert code == 2
    assert "coordinator may not" in capsys.readouterr().err
    assert not target.exists()


def test_an_earlier_cut_off_leaves_out_what_came_after_it(simulated: Simulated) -> None:
    with _session(simulated.url) as session:
        dsmb = users.get_by_username_or_raise(session, username="dsmb")
        latest = collect(session, by=dsmb)
        earlier = collect(session, by=dsmb, cutoff=date(2026, 1, 15))
        before_anyone = collect(session, by=dsmb, cutoff=date(2025, 6, 2))
    assert latest.cutoff <= CUT  # by default, the latest clinical date in the database
    assert 0 < len(earlier.courses) <= len(latest.courses)
    assert all(course.infusion_date <= earlier.cutoff for course in earlier.courses)
    assert all(day <= (earlier.cutoff - c.infusion_date).days for c in earlier.courses for day in _days(c))
    assert len(earlier.safety.deaths) <= len(latest.safety.deaths)
    assert before_anyone.consort.infused == 0
    empty = render_dsmb_report(before_anyone)
    assert empty.pages >= 7
    assert empty.pdf.startswith(b"%PDF")


def _days(course: SubjectCourse) -> list[int]:
    death = [course.death_day] if course.death_day is not None else []
    return [*(r.day for r in course.responses), *death, course.last_alive_day]
