"""NCA of CAR-T kinetics against a hand calculation.

The worked series (days; copies/µg gDNA), LLOQ 20:

    day    0    4    7    10     14    21    28   56
    value  BLQ  100  1000 10000  5000  1250  BLQ  50

Cmax 10000 at Tmax day 10; the day-0 BLQ (before Tmax) counts as 0, the day-28 BLQ (after Tmax)
is excluded, so day 28 is interpolated on the falling 21→56 segment. Clast 50, Tlast day 56.

Linear-up/log-down, segment by segment (Gabrielsson & Weiner 2016, ch. 2):
    0→4   up    (0 + 100)/2 · 4            =   200
    4→7   up    (100 + 1000)/2 · 3         =  1650
    7→10  up    (1000 + 10000)/2 · 3       = 16500
    10→14 down  (10000 − 5000) · 4 / ln 2  = 28853.90
    14→21 down  (5000 − 1250) · 7 / ln 4   = 18935.34
    21→28 down  C(28) = 1250 · 25^(−7/35) = 656.63;  (1250 − 656.63) · 7 / ln(1250/656.63) = 6451.87
    total                                   = 72591.1
Linear trapezoid everywhere: 10→14 30000; 14→21 21875; C(28) = 1250 − (7/35)·1200 = 1010,
21→28 (1250 + 1010)/2 · 7 = 7910; total 78135.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.analysis.nca import AucMethod, noncompartmental
from celltrial.errors import InvalidInput

DAYS = [0, 4, 7, 10, 14, 21, 28, 56]
VALUES = [5, 100, 1000, 10000, 5000, 1250, 10, 50]  # 5 and 10 are below the LLOQ of 20


def test_peak_and_last_quantifiable_value_follow_the_hand_calculation() -> None:
    result = noncompartmental(DAYS, VALUES, lloq=20)
    assert (result.cmax, result.tmax) == (10000, 10)
    assert (result.clast, result.tlast, result.persistence_day) == (50, 56, 56)
    assert (result.samples, result.blq_samples) == (8, 2)


def test_linear_up_log_down_auc_to_day_28_matches_the_hand_calculation() -> None:
    result = noncompartmental(DAYS, VALUES, lloq=20)
    c28 = 1250 * 25 ** (-7 / 35)
    hand = (
        200
        + 1650
        + 16500
        + 5000 * 4 / math.log(2)
        + 3750 * 7 / math.log(4)
        + (1250 - c28) * 7 / math.log(1250 / c28)
    )
    assert hand == pytest.approx(72591.1, abs=0.1)
    assert result.auc == pytest.approx(hand, rel=1e-12)
    assert result.auc_end_day == 28


def test_linear_trapezoidal_auc_to_day_28_matches_the_hand_calculation() -> None:
    result = noncompartmental(DAYS, VALUES, lloq=20, method=AucMethod.LINEAR)
    assert result.auc == pytest.approx(78135, rel=1e-12)


def test_blq_before_tmax_counts_as_zero() -> None:
    with_blq = noncompartmental([0, 2, 4], [1, 100, 50], lloq=20, method=AucMethod.LINEAR)
    assert with_blq.auc == pytest.approx((0 + 100) / 2 * 2 + (100 + 50) / 2 * 2)


def test_blq_after_tmax_is_excluded_not_zero() -> None:
    result = noncompartmental([0, 2, 4, 6], [0, 100, 1, 25], lloq=20, method=AucMethod.LINEAR)
    assert result.auc == pytest.approx((0 + 100) / 2 * 2 + (100 + 25) / 2 * 4)


def test_auc_stops_at_the_last_sample_when_follow_up_ends_before_day_28() -> None:
    result = noncompartmental([0, 7, 14], [0, 400, 200], method=AucMethod.LINEAR)
    assert result.auc_end_day == 14
    assert result.auc == pytest.approx(200 / 2 * 7 * 2 + 300 * 7)


def test_a_rising_segment_across_day_28_is_interpolated_linearly() -> None:
    result = noncompartmental([0, 20, 36], [0, 100, 300], lloq=1)
    assert result.auc == pytest.approx(100 / 2 * 20 + (100 + 200) / 2 * 8)


def test_subject_without_any_quantifiable_value_has_no_peak_and_zero_auc() -> None:
    result = noncompartmental([0, 7, 14], [3, 5, 2], lloq=20)
    assert (result.cmax, result.tmax, result.clast, result.tlast) == (None, None, None, None)
    assert result.auc == 0.0


def test_without_lloq_a_zero_is_treated_as_below_quantification() -> None:
    result = noncompartmental([0, 7, 14, 21], [0, 500, 0, 0])
    assert (result.tlast, result.blq_samples) == (7, 3)


def test_equal_peaks_take_the_first_time_as_tmax() -> None:
    assert noncompartmental([0, 3, 9], [0, 800, 800]).tmax == 3


def test_samples_out_of_order_are_sorted_by_day() -> None:
    ordered = noncompartmental(DAYS, VALUES, lloq=20)
    shuffled = noncompartmental(list(reversed(DAYS)), list(reversed(VALUES)), lloq=20)
    assert shuffled == ordered


@pytest.mark.parametrize(
    ("days", "values", "lloq", "field"),
    [
        pytest.param([0, -1], [1, 2], None, "times[1]", id="negative-day"),
        pytest.param([0, 1], [1, -2], None, "values[1]", id="negative-value"),
        pytest.param([0, 1], [1, float("nan")], None, "values[1]", id="missing-value"),
        pytest.param([0, 1, 1], [1, 2, 3], None, "times", id="two-samples-on-one-day"),
        pytest.param([0, 1], [1], None, "values", id="lengths-differ"),
        pytest.param([0, 1], [1, 2], 0.0, "lloq", id="zero-lloq"),
        pytest.param([], [], None, "times", id="no-samples"),
    ],
)
def test_impossible_series_are_refused_naming_where(
    days: list[float], values: list[float], lloq: float | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        noncompartmental(days, values, lloq=lloq)
    assert raised.value.field == field


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=90),
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=20,
        unique_by=lambda sample: sample[0],
    )
)
def test_log_down_auc_never_exceeds_the_linear_auc(samples: list[tuple[int, float]]) -> None:
    days, values = [float(d) for d, _ in samples], [v for _, v in samples]
    log_down = noncompartmental(days, values, lloq=1.0)
    linear = noncompartmental(days, values, lloq=1.0, method=AucMethod.LINEAR)
    assert 0.0 <= log_down.auc <= linear.auc * (1 + 1e-9) + 1e-9
