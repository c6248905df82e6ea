"""Kaplan–Meier summaries against R's ``survival`` package.

Data: the ``aml`` data set shipped with R ``survival`` (Miller, Survival Analysis, 1981; acute
myelogenous leukemia, maintenance chemotherapy vs none; time in weeks, here read as months so the
6/12/24-month landmarks fall inside follow-up). Reference output, R 4.2.2, survival 3.5-3::

    > fit <- survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log")
                     n events median 0.95LCL 0.95UCL
    x=Maintained    11      7     31      13      NA
    x=Nonmaintained 12     11     23       5      33
    > summary(fit)          (Maintained stratum)
     time n.risk n.event     surv    lower    upper
        9     11       1 0.909091 0.508080 0.986674
       13     10       1 0.818182 0.447429 0.951162
       18      8       1 0.715909 0.350190 0.899024
       23      7       1 0.613636 0.265752 0.835299
       31      5       1 0.490909 0.167331 0.753400
       34      4       1 0.368182 0.092830 0.657041
       48      2       1 0.184091 0.011738 0.525015
    > fit2 <- survfit(Surv(time, status) ~ 1, data = aml, conf.type = "log-log")
          n events median 0.95LCL 0.95UCL
    [1,] 23     18     27      13      34
    > summary(fit2, times = c(6, 12, 24))
     time n.risk n.event survival std.err lower 95% CI upper 95% CI
        6     21       2    0.913  0.0588        0.695        0.978
       12     18       4    0.739  0.0916        0.509        0.873
       24     11       4    0.547  0.1073        0.319        0.726
    > print(survfit(Surv(time, 1 - status) ~ 1, data = aml, conf.type = "log-log"))   # reverse KM
          n events median 0.95LCL 0.95UCL
    [1,] 23      5    161      28      NA

Tolerance: 1e-6 absolute on R's six-decimal survival and limits, 1e-3 on its three-decimal ones.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.analysis.survival import (
    DAYS_PER_MONTH,
    TimeUnit,
    kaplan_meier,
    kaplan_meier_by_group,
    median_follow_up,
)
from celltrial.errors import InvalidInput

MAINTAINED_TIMES = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
MAINTAINED_EVENTS = [True, True, False, True, True, False, True, True, False, True, False]
NONMAINTAINED_TIMES = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
NONMAINTAINED_EVENTS = [True, True, True, True, True, False, True, True, True, True, True, True]
ALL_TIMES = MAINTAINED_TIMES + NONMAINTAINED_TIMES
ALL_EVENTS = MAINTAINED_EVENTS + NONMAINTAINED_EVENTS
GROUPS = ["Maintained"] * 11 + ["Nonmaintained"] * 12

R_MAINTAINED_STEPS = [
    (9, 11, 0.909091, 0.508080, 0.986674),
    (13, 10, 0.818182, 0.447429, 0.951162),
    (18, 8, 0.715909, 0.350190, 0.899024),
    (23, 7, 0.613636, 0.265752, 0.835299),
    (31, 5, 0.490909, 0.167331, 0.753400),
    (34, 4, 0.368182, 0.092830, 0.657041),
    (48, 2, 0.184091, 0.011738, 0.525015),
]


def test_group_counts_and_medians_match_r_survfit() -> None:
    by_group = kaplan_meier_by_group(ALL_TIMES, ALL_EVENTS, GROUPS)
    maintained, nonmaintained = by_group["Maintained"], by_group["Nonmaintained"]
    assert (maintained.n, maintained.events) == (11, 7)
    assert (maintained.median.median, maintained.median.lower, maintained.median.upper) == (31, 13, None)
    assert (nonmaintained.n, nonmaintained.events) == (12, 11)
    assert (nonmaintained.median.median, nonmaintained.median.lower, nonmaintained.median.upper) == (
        23,
        5,
        33,
    )


@pytest.mark.parametrize(("time", "at_risk", "survival", "lower", "upper"), R_MAINTAINED_STEPS)
def test_each_event_step_matches_r_summary(
    time: float, at_risk: int, survival: float, lower: float, upper: float
) -> None:
    summary = kaplan_meier(MAINTAINED_TIMES, MAINTAINED_EVENTS)
    point = next(p for p in summary.curve if p.month == time)
    assert point.at_risk == at_risk
    assert point.survival == pytest.approx(survival, abs=1e-6)
    assert point.lower == pytest.approx(lower, abs=1e-6)
    assert point.upper == pytest.approx(upper, abs=1e-6)


def test_pooled_median_and_landmarks_match_r() -> None:
    summary = kaplan_meier(ALL_TIMES, ALL_EVENTS)
    assert (summary.median.median, summary.median.lower, summary.median.upper) == (27, 13, 34)
    landmarks = {landmark.month: landmark for landmark in summary.landmarks}
    for month, survival, lower, upper in [
        (6, 0.913, 0.695, 0.978),
        (12, 0.739, 0.509, 0.873),
        (24, 0.547, 0.319, 0.726),
    ]:
        assert landmarks[month].survival == pytest.approx(survival, abs=1e-3)
        assert landmarks[month].lower == pytest.approx(lower, abs=1e-3)
        assert landmarks[month].upper == pytest.approx(upper, abs=1e-3)


def test_number_at_risk_matches_r_at_the_landmarks() -> None:
    summary = kaplan_meier(ALL_TIMES, ALL_EVENTS, risk_table_months=[6, 12, 24])
    assert [entry.at_risk for entry in summary.risk_table] == [21, 18, 11]


def test_median_follow_up_by_reverse_kaplan_meier_matches_r() -> None:
    follow_up = median_follow_up(ALL_TIMES, ALL_EVENTS)
    assert (follow_up.median, follow_up.lower, follow_up.upper) == (161, 28, None)
    assert kaplan_meier(ALL_TIMES, ALL_EVENTS).median_follow_up == follow_up


def test_times_in_days_are_reported_in_months_of_30_4375_days() -> None:
    days = [time * DAYS_PER_MONTH for time in ALL_TIMES]
    summary = kaplan_meier(days, ALL_EVENTS, time_unit=TimeUnit.DAYS)
    assert summary.time_unit == "months"
    assert summary.median.median == pytest.approx(27)
    assert summary.landmarks[1].survival == pytest.approx(0.739, abs=1e-3)


def test_median_is_not_reached_when_survival_stays_above_one_half() -> None:
    summary = kaplan_meier([3, 5, 7, 9, 11], [True, False, False, False, False])
    assert summary.median.median is None
    assert summary.median.upper is None


def test_landmark_beyond_the_longest_follow_up_is_not_estimable() -> None:
    summary = kaplan_meier([2, 4, 5], [True, False, False], landmarks_months=[6])
    assert summary.landmarks[0].survival is None


def test_hand_computed_curve_with_a_tie_between_event_and_censoring() -> None:
    """Six subjects: events at 1, 3, 3 and 6; censored at 3 and 8 (months).

    S(1) = 5/6; S(3) = 5/6 · (1 − 2/5) = 1/2 (the censored subject at 3 is still at risk at 3);
    S(6) = 1/2 · (1 − 1/2) = 1/4, with 2 at risk at 6. S is exactly 1/2 from 3 to 6, so the median is
    the midpoint 4.5 (R 4.2.2 ``survfit``: median 4.5, 0.95LCL 1, 0.95UCL NA with conf.type = "log-log").
    """
    summary = kaplan_meier([1, 3, 3, 3, 6, 8], [True, True, True, False, True, False])
    steps = {point.month: point for point in summary.curve}
    assert steps[1].survival == pytest.approx(5 / 6)
    assert steps[3].survival == pytest.approx(1 / 2)
    assert (steps[3].at_risk, steps[3].events, steps[3].censored) == (5, 2, 1)
    assert steps[6].survival == pytest.approx(1 / 4)
    assert steps[6].at_risk == 2
    assert (summary.median.median, summary.median.lower, summary.median.upper) == (4.5, 1, None)


@pytest.mark.parametrize(
    ("times", "events", "field"),
    [
        pytest.param([1.0, -2.0], [True, False], "times[1]", id="negative-time"),
        pytest.param([1.0, float("nan")], [True, False], "times[1]", id="missing-time"),
        pytest.param([1.0], [True, False], "events", id="lengths-differ"),
        pytest.param([], [], "times", id="no-subjects"),
    ],
)
def test_impossible_follow_up_is_refused_naming_where(
    times: list[float], events: list[bool], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        kaplan_meier(times, events)
    assert raised.value.field == field


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=60), st.booleans()), min_size=1, max_size=40))
def test_curve_never_rises_and_stays_within_its_band(records: list[tuple[int, bool]]) -> None:
    summary = kaplan_meier([float(t) for t, _ in records], [e for _, e in records])
    survivals = [point.survival for point in summary.curve]
    assert all(later <= earlier + 1e-12 for earlier, later in itertools.pairwise(survivals))
    for point in summary.curve:
        assert 0.0 <= point.survival <= 1.0
        if point.lower is not None and point.upper is not None:
            assert point.lower - 1e-9 <= point.survival <= point.upper + 1e-9
