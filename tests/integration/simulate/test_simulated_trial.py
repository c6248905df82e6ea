"""A small simulated trial through the real services, on SQLite and PostgreSQL.

Same seed, scenario and data cut give the same database content (the canonical export's hash,
wall-clock times left out), on either database; the audit trail verifies; the CONSORT flow adds
up; nothing is dated after the cut; the demo accounts sign in; a database that already holds a
study is refused. One simulation per database keeps this quick.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.errors import Conflict
from celltrial.simulate.demo_users import DEMO_PASSWORD
from celltrial.simulate.fingerprint import fingerprint
from celltrial.simulate.scenario import Cited, default_scenario
from celltrial.simulate.trial import SimulationSummary, simulate_trial
from celltrial.study.audit import service as audit
from celltrial.study.safety.models import CrsIcansAssessment
from celltrial.study.subjects import service as subjects
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users import passwords
from celltrial.study.users import service as users
from celltrial.study.visits.models import Visit

CUT = date(2025, 10, 15)
PATIENTS = 5
SEED = 21


def _simulate(url: str) -> tuple[SimulationSummary, str]:
    began = utcnow()
    summary = simulate_trial(url, patients=PATIENTS, seed=SEED, until=CUT)
    engine = make_engine(url)
    try:
        return summary, fingerprint(engine, written_from=began)
    finally:
        engine.dispose()


def _consort_adds_up(summary: SimulationSummary) -> None:
    consort = summary.consort
    assert consort.referred == PATIENTS
    assert consort.screened + consort.not_screened_recruitment_closed == consort.referred
    assert consort.screen_failed + consort.eligible_not_enrolled + consort.enrolled == consort.screened
    assert consort.infused + sum(consort.not_infused.values()) == consort.enrolled
    assert consort.infused >= 1
    assert consort.evaluable_day28 <= consort.infused
    assert sum(consort.status_at_cut.values()) == consort.enrolled
    assert summary.activity["CRS/ICANS assessments"] > 0
    assert summary.activity["forms entered"] > 40


def _nothing_after_the_cut(session: Session) -> None:
    assert session.scalar(select(func.max(Visit.actual_date))) <= CUT
    assert session.scalar(select(func.max(CrsIcansAssessment.assessment_date))) <= CUT


def _demo_accounts_sign_in(session: Session) -> None:
    for username in ("investigator", "sponsor"):
        user = users.authenticate(session, username=username, password=DEMO_PASSWORD)
        assert not passwords.needs_rehash(user.password_hash)
    investigator = users.get_by_username_or_raise(session, username="investigator")
    seen = subjects.list_subjects(session, by=investigator)
    assert seen
    assert {subject.site_id for subject in seen} == {investigator.site_id}


def test_a_simulated_trial_is_reproducible_verified_consistent_and_usable(
    database_url: str, tmp_path: Path
) -> None:
    summary, digest = _simulate(database_url)
    again, again_digest = _simulate(f"sqlite:///{tmp_path / 'again.db'}")
    assert again_digest == digest
    assert again.consort == summary.consort
    assert summary.audit_verified
    assert summary.audit_entries == again.audit_entries > 500
    _consort_adds_up(summary)
    engine = make_engine(database_url)
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            _nothing_after_the_cut(session)
        with unit_of_work(sessions) as session:
            _demo_accounts_sign_in(session)
        with sessions() as session:
            entries = audit.count(session)
        with pytest.raises(Conflict) as refused:
            simulate_trial(database_url, patients=2, seed=1, until=CUT)
        assert refused.value.field == "database"
        with sessions() as session:
            assert audit.count(session) == entries
    finally:
        engine.dispose()


def test_another_seed_gives_another_trial(tmp_path: Path) -> None:
    began = utcnow()
    other = simulate_trial(
        f"sqlite:///{tmp_path / 'other.db'}", patients=3, seed=SEED + 1, until=date(2025, 8, 1)
    )
    same = simulate_trial(f"sqlite:///{tmp_path / 'same.db'}", patients=3, seed=SEED, until=date(2025, 8, 1))
    digests = []
    for name in ("other.db", "same.db"):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        digests.append(fingerprint(engine, written_from=began))
        engine.dispose()
    assert digests[0] != digests[1]
    assert other.audit_verified
    assert same.audit_verified


def test_a_toxic_product_trips_the_stopping_rule_and_recruitment_is_suspended(tmp_path: Path) -> None:
    scenario = default_scenario()
    toxic = Cited[dict[str, float]](
        value={"0": 0.0, "1": 0.2, "2": 0.2, "3": 0.5, "4": 0.1},
        source="test: a product with 60 % severe CRS",
    )
    scenario = scenario.model_copy(
        update={"toxicity": scenario.toxicity.model_copy(update={"crs_max_grade": toxic})}
    )
    url = f"sqlite:///{tmp_path / 'toxic.db'}"
    summary = simulate_trial(url, patients=14, seed=3, until=date(2026, 2, 1), scenario=scenario)
    assert summary.activity["recruitment suspended by the stopping rule"] == 1
    assert summary.consort.crs_grade_3_or_more >= 3
    assert summary.consort.not_screened_recruitment_closed + summary.consort.eligible_not_enrolled >= 1
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            assert str(trials.the_study(session).status) == "SUSPENDED"
    finally:
        engine.dispose()
