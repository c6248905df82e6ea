"""The simulated trial's derived figures agree with its scenario's rates.

A 40-patient trial simulated through the services (SQLite): the day-28 CR/CRi rate, which the
response forms derive from their components, and the incidence of CRS, which the safety tables
count from the daily ASTCT grades, each lie within sampling error of the scenario's rate: the
scenario's rate falls inside the exact 99% Clopper–Pearson interval of the observed counts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from celltrial.analysis.proportions import clopper_pearson
from celltrial.simulate.scenario import default_scenario
from celltrial.simulate.trial import simulate_trial


def test_cr_rate_and_crs_incidence_lie_within_sampling_error_of_the_scenario(tmp_path: Path) -> None:
    scenario = default_scenario()
    summary = simulate_trial(
        f"sqlite:///{tmp_path / 'rates.db'}", patients=40, seed=11, until=date(2026, 3, 1)
    )
    consort = summary.consort
    assert consort.evaluable_day28 >= 15
    remission = clopper_pearson(consort.cr_cri_day28, consort.evaluable_day28, level=0.99)
    expected_cr = scenario.efficacy.cr_cri_day28.value
    assert remission.lower <= expected_cr <= remission.upper, (consort.cr_cri_day28, consort.evaluable_day28)
    crs = clopper_pearson(consort.crs_any, consort.infused, level=0.99)
    expected_crs = 1 - scenario.toxicity.crs_max_grade.value["0"]
    assert crs.lower <= expected_crs <= crs.upper, (consort.crs_any, consort.infused)
    assert summary.audit_verified
