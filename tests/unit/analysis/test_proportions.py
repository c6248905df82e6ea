"""Clopper–Pearson intervals against published values.

Reference values:
- Newcombe RG, Stat Med 1998;17:857, Table II, method 5 ("exact", Clopper–Pearson), 95% limits
  to four decimals: 81/263 → 0.2527–0.3676; 15/148 → 0.0578–0.1617; 0/20 → 0–0.1684;
  1/29 → 0.0009–0.1776; 29/29 → 0.8806–1.
- R 4.x ``binom.test(18, 20)$conf.int`` → 0.6830 0.9877 (the issue's 18/20 → 0.683–0.988).
- Closed forms at the edges (Clopper & Pearson 1934): x = 0 → upper = 1 − (α/2)^(1/n), so
  0/10 → 0.3085; x = n → lower = (α/2)^(1/n).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.analysis.proportions import (
    CR_CRI_RESPONSES,
    OBJECTIVE_RESPONSES,
    clopper_pearson,
    response_rate,
)
from celltrial.errors import InvalidInput

PUBLISHED = [
    pytest.param(81, 263, 0.2527, 0.3676, id="newcombe-81-of-263"),
    pytest.param(15, 148, 0.0578, 0.1617, id="newcombe-15-of-148"),
    pytest.param(0, 20, 0.0, 0.1684, id="newcombe-0-of-20"),
    pytest.param(1, 29, 0.0009, 0.1776, id="newcombe-1-of-29"),
    pytest.param(29, 29, 0.8806, 1.0, id="newcombe-29-of-29"),
    pytest.param(18, 20, 0.6830, 0.9877, id="r-binom-test-18-of-20"),
    pytest.param(0, 10, 0.0, 0.3085, id="closed-form-0-of-10"),
]


@pytest.mark.parametrize(("successes", "n", "lower", "upper"), PUBLISHED)
def test_interval_matches_the_published_exact_limits(
    successes: int, n: int, lower: float, upper: float
) -> None:
    result = clopper_pearson(successes, n)
    assert result.lower == pytest.approx(lower, abs=5e-5)
    assert result.upper == pytest.approx(upper, abs=5e-5)
    assert result.estimate == pytest.approx(successes / n)
    assert result.method == "clopper-pearson"


def test_zero_successes_closes_the_interval_at_zero_with_the_closed_form_upper_limit() -> None:
    result = clopper_pearson(0, 10)
    assert result.lower == 0.0
    assert result.upper == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-12)


def test_all_successes_closes_the_interval_at_one_with_the_closed_form_lower_limit() -> None:
    result = clopper_pearson(12, 12)
    assert result.upper == 1.0
    assert result.lower == pytest.approx(0.025 ** (1 / 12), rel=1e-12)


def test_a_90_percent_interval_is_narrower_than_the_95_percent_interval() -> None:
    wide, narrow = clopper_pearson(7, 15, 0.95), clopper_pearson(7, 15, 0.90)
    assert wide.lower < narrow.lower < narrow.upper < wide.upper


@pytest.mark.parametrize(
    ("successes", "n", "level", "field"),
    [
        pytest.param(-1, 10, 0.95, "successes", id="negative-successes"),
        pytest.param(11, 10, 0.95, "successes", id="more-successes-than-subjects"),
        pytest.param(0, 0, 0.95, "n", id="empty-denominator"),
        pytest.param(1, 10, 1.0, "level", id="level-of-one"),
        pytest.param(1, 10, 0.0, "level", id="level-of-zero"),
    ],
)
def test_impossible_counts_or_levels_are_refused_naming_the_field(
    successes: int, n: int, level: float, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        clopper_pearson(successes, n, level)
    assert raised.value.field == field


@given(st.integers(min_value=1, max_value=400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_always_contains_the_estimate_and_stays_in_the_unit_interval(case: tuple[int, int]) -> None:
    successes, n = case
    result = clopper_pearson(successes, n)
    assert 0.0 <= result.lower <= result.estimate <= result.upper <= 1.0


@given(st.integers(min_value=1, max_value=200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_is_symmetric_under_swapping_successes_and_failures(case: tuple[int, int]) -> None:
    successes, n = case
    forward, mirrored = clopper_pearson(successes, n), clopper_pearson(n - successes, n)
    assert math.isclose(forward.lower, 1 - mirrored.upper, abs_tol=1e-9)
    assert math.isclose(forward.upper, 1 - mirrored.lower, abs_tol=1e-9)


def test_overall_response_rate_counts_every_subject_in_the_denominator() -> None:
    responses = ["CR", "CRi", "PR", "NR", "PD", None, "CMR", "MLFS", "SD", "PMR"]
    orr = response_rate(responses, OBJECTIVE_RESPONSES)
    assert (orr.successes, orr.n) == (6, 10)
    cr = response_rate(responses, CR_CRI_RESPONSES)
    assert (cr.successes, cr.n) == (3, 10)


def test_a_rate_over_no_subjects_is_refused() -> None:
    with pytest.raises(InvalidInput):
        response_rate([], OBJECTIVE_RESPONSES)
