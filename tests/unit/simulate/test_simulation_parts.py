"""The pieces the simulation is built from: the agenda, the data cut, typed errors, CRF values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pytest

from celltrial.errors import InvalidInput
from celltrial.simulate.crf import _typo
from celltrial.simulate.crf_values import kinetics_sample, response_on, response_values
from celltrial.simulate.outcomes import draw_treatment_outcome
from celltrial.simulate.patients import referrals
from celltrial.simulate.scenario import default_scenario
from celltrial.simulate.trial import data_cut
from celltrial.simulate.world import Agenda, at
from celltrial.study.forms.checks import run_edit_checks
from celltrial.study.forms.dictionary import form_definition

SCENARIO = default_scenario()
TODAY = date(2026, 11, 25)


def test_the_agenda_gives_a_days_tasks_in_time_order_then_the_tasks_they_add() -> None:
    agenda, done = Agenda(), []

    def task(name: str, then: tuple[datetime, str] | None = None) -> Any:
        def run(_session: object) -> None:
            done.append(name)
            if then is not None:
                agenda.add(then[0], task(then[1]))

        return run

    day = date(2025, 7, 1)
    agenda.add(at(day, 15), task("afternoon"))
    agenda.add(at(day, 9), task("morning", (at(day, 11), "late morning")))
    agenda.add(at(date(2025, 7, 2), 8), task("next day"))
    agenda.add(at(day, 9), task("morning, second"))
    assert agenda.next_day() == day
    entry = agenda.pop(day)
    while entry is not None:
        entry.action(None)  # type: ignore[arg-type]
        entry = agenda.pop(day)
    assert done == ["morning", "morning, second", "late morning", "afternoon"]
    assert agenda.next_day() == date(2025, 7, 2)


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (None, date(2026, 11, 24)),
        (date(2026, 1, 31), date(2026, 1, 31)),
        (date(2025, 6, 1), date(2025, 6, 1)),
    ],
)
def test_the_data_cut_is_the_day_asked_for_or_yesterday(until: date | None, expected: date) -> None:
    assert data_cut(until, start=date(2025, 6, 1), today=TODAY) == expected


@pytest.mark.parametrize("until", [TODAY, date(2027, 1, 1), date(2025, 5, 31)])
def test_a_data_cut_from_today_on_or_before_the_start_is_refused(until: date) -> None:
    with pytest.raises(InvalidInput) as refused:
        data_cut(until, start=date(2025, 6, 1), today=TODAY)
    assert refused.value.field == "until"


@pytest.mark.parametrize(
    ("form", "values"),
    [
        (
            "vital_signs",
            {
                "assessment_date": "2025-07-01",
                "temperature": 36.8,
                "heart_rate": 80,
                "systolic_bp": 120,
                "diastolic_bp": 75,
            },
        ),
        ("labs", {"collection_date": "2025-07-01", "wbc": 4.2, "hemoglobin": 110}),
        (
            "apheresis",
            {
                "collection_date": "2025-07-01",
                "volume_processed": 10.5,
                "product_volume": 200,
                "complication": False,
            },
        ),
    ],
)
def test_a_typed_error_is_out_of_range_and_the_edit_checks_catch_it(
    form: str, values: dict[str, Any]
) -> None:
    found = _typo(values, form)
    assert found is not None
    name, wrong = found
    typed = {**values, name: wrong}
    failures = run_edit_checks(form_definition(form), typed, today=date(2025, 7, 2))
    assert (name, "range") in {(failure.field, failure.check) for failure in failures}
    assert not run_edit_checks(form_definition(form), values, today=date(2025, 7, 2))


def test_the_response_found_follows_remission_relapse_and_count_recovery() -> None:
    rng = np.random.default_rng(4)
    outcomes = [draw_treatment_outcome(rng, SCENARIO) for _ in range(400)]
    relapsed = next(o for o in outcomes if o.relapse_day is not None)
    assert response_on(relapsed, 28) in ("cr", "cri")
    assert response_on(relapsed, relapsed.relapse_day or 0) == "pd"
    recovering = next(o for o in outcomes if o.response == "cri" and o.relapse_day is None)
    assert response_on(recovering, 28) == "cri"
    assert response_on(recovering, 60) == "cr"


def test_every_response_crf_passes_its_edit_checks() -> None:
    rng = np.random.default_rng(5)
    definition = form_definition("response")
    for patient in referrals(SCENARIO, seed=5, patients=60):
        outcome = draw_treatment_outcome(rng, SCENARIO)
        for day in (28, 90, 365):
            values = response_values(patient, outcome, day, date(2026, 1, 1))
            assert not run_edit_checks(definition, values, today=date(2026, 1, 2), require_complete=True), (
                values
            )


def test_a_kinetics_sample_below_the_limit_of_quantification_has_no_copies() -> None:
    outcome = draw_treatment_outcome(np.random.default_rng(6), SCENARIO)
    early = kinetics_sample(np.random.default_rng(1), outcome, 0.0, "2025-07-01T10:00:00+00:00", lloq=1e9)
    assert early["below_lloq"] is True
    assert "car_copies" not in early
    peak = kinetics_sample(
        np.random.default_rng(1), outcome, outcome.tmax, "2025-07-13T10:00:00+00:00", lloq=50
    )
    assert peak["below_lloq"] is False
    assert peak["car_copies"] == pytest.approx(outcome.cmax, rel=0.8)
