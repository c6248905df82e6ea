"""The design simulation agrees with the exact operating characteristics of the stopping rule."""

from __future__ import annotations

import pytest

from celltrial.analysis.stopping import SafetyStoppingRule
from celltrial.analysis.stopping import operating_characteristics as exact_characteristics
from celltrial.errors import InvalidInput
from celltrial.simulate.design import operating_characteristics
from celltrial.simulate.scenario import Cited, Scenario, default_scenario

RULE = SafetyStoppingRule()
REPS = 6000


def _grid(cr_rates: list[float], event_rates: list[float], not_infused: float) -> Scenario:
    scenario = default_scenario()
    design = scenario.design.model_copy(
        update={
            "cr_rates": Cited[list[float]](value=cr_rates, source="test"),
            "event_rates": Cited[list[float]](value=event_rates, source="test"),
            "not_infused_share": Cited[float](value=not_infused, source="test"),
        }
    )
    return scenario.model_copy(update={"design": design})


def test_the_probability_of_stopping_and_the_sample_size_match_the_exact_recursion() -> None:
    rates = [0.1, 0.25, 0.3, 0.45]
    simulated = operating_characteristics(
        _grid([0.8], rates, 0.0), reps=REPS, seed=3, rule=RULE, reference_rate=0.5
    )
    for point, exact in zip(simulated, exact_characteristics(RULE, rates), strict=True):
        assert abs(point.probability_of_stopping - exact.probability_of_stopping) < 4 * max(
            point.stopping_standard_error, 1e-3
        )
        assert point.expected_enrolled == pytest.approx(exact.expected_sample_size, abs=0.6)


def test_when_the_true_cr_rate_is_the_reference_the_trial_rarely_succeeds() -> None:
    (point,) = operating_characteristics(
        _grid([0.5], [0.05], 0.08), reps=REPS, seed=4, rule=RULE, reference_rate=0.5
    )
    assert point.probability_of_success <= 0.05


def test_a_high_true_cr_rate_with_a_safe_product_almost_always_succeeds() -> None:
    (point,) = operating_characteristics(
        _grid([0.88], [0.05], 0.08), reps=REPS, seed=5, rule=RULE, reference_rate=0.5
    )
    assert point.probability_of_success > 0.95
    assert point.expected_infused < point.expected_enrolled


def test_a_toxic_product_is_stopped_early_and_so_rarely_shows_efficacy() -> None:
    safe, toxic = operating_characteristics(
        _grid([0.88], [0.05, 0.5], 0.0), reps=REPS, seed=6, rule=RULE, reference_rate=0.5
    )
    assert toxic.probability_of_stopping > 0.95
    assert toxic.expected_enrolled < 10
    assert toxic.probability_of_success < safe.probability_of_success


def test_the_same_seed_gives_the_same_table_and_covers_the_whole_grid() -> None:
    scenario = default_scenario()
    first = operating_characteristics(scenario, reps=200, seed=1, rule=RULE, reference_rate=0.5)
    again = operating_characteristics(scenario, reps=200, seed=1, rule=RULE, reference_rate=0.5)
    assert first == again
    assert len(first) == len(scenario.design.cr_rates.value) * len(scenario.design.event_rates.value)


@pytest.mark.parametrize(("reps", "seed", "field"), [(0, 1, "reps"), (10, -1, "seed"), (True, 1, "reps")])
def test_a_bad_number_of_replicates_or_seed_is_refused(reps: int, seed: int, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        operating_characteristics(default_scenario(), reps=reps, seed=seed, rule=RULE, reference_rate=0.5)
    assert refused.value.field == field
