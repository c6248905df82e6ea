"""I6 age in whole years on the screening date, and the windows in which a fact counts.

I6: "14 years old≤ age ≤ 75 years old". Windows from the settings: labs 14 days, echocardiography
28 days, ECOG 14 days, pregnancy test 7 days before the screening date (2025-07-01 here).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.eligibility import EligibilityResult
from celltrial.eligibility.predicates import age_in_years, months_before

Screen = Callable[..., EligibilityResult]  # the `screen` fixture of conftest.py


def lab(value: float, unit: str, day: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "date": day, **extra}


@pytest.mark.parametrize(
    ("birth_date", "verdict"),
    [
        pytest.param("2011-07-01", "met", id="14th birthday on the screening date is met"),
        pytest.param("2011-07-02", "not_met", id="the day before the 14th birthday is not met"),
        pytest.param("1949-07-02", "met", id="75 years and 364 days is met"),
        pytest.param("1949-07-01", "not_met", id="76th birthday on the screening date is not met"),
        pytest.param("1950-07-01", "met", id="75th birthday is met"),
    ],
)
def test_age_is_counted_in_whole_years_on_the_screening_date(
    screen: Screen, birth_date: str, verdict: str
) -> None:
    assert screen(patient={"birth_date": birth_date}).criterion("I6").verdict == verdict


def test_a_birthday_on_29_february_counts_from_1_march_in_a_common_year() -> None:
    assert age_in_years(date(2008, 2, 29), date(2022, 2, 28)) == 13
    assert age_in_years(date(2008, 2, 29), date(2022, 3, 1)) == 14


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 120))
def test_age_never_decreases_and_is_whole_years(birth: date, years: int) -> None:
    later = date(min(birth.year + years, 9999), 12, 31)
    age = age_in_years(birth, later)
    assert age_in_years(birth, birth) == 0
    assert age >= years - 1


def test_a_missing_birth_date_makes_age_unknown(screen: Screen) -> None:
    result = screen(patient={"birth_date": None})
    assert result.criterion("I6").verdict == "unknown"
    assert result.decision == "incomplete"
    assert "I6" in result.missing


@pytest.mark.parametrize(
    ("day", "verdict"),
    [
        pytest.param("2025-06-17", "met", id="a lab 14 days before screening counts"),
        pytest.param("2025-06-16", "unknown", id="a lab 15 days before screening is stale"),
        pytest.param("2025-07-01", "met", id="a lab on the screening date counts"),
    ],
)
def test_labs_count_within_14_days_before_screening(screen: Screen, day: str, verdict: str) -> None:
    assert screen(hemoglobin=lab(90, "g/L", day)).criterion("I7").verdict == verdict


def test_a_stale_lab_is_explained_with_its_date(screen: Screen) -> None:
    reason = screen(hemoglobin=lab(90, "g/L", "2025-05-01")).criterion("I7").reason
    assert reason == "No hemoglobin within 14 days before 2025-07-01 (latest 90 g/L on 2025-05-01)"


@pytest.mark.parametrize(
    ("day", "verdict"),
    [
        pytest.param("2025-06-03", "met", id="an echocardiogram 28 days before counts"),
        pytest.param("2025-06-02", "unknown", id="an echocardiogram 29 days before is stale"),
    ],
)
def test_echocardiography_counts_within_28_days(screen: Screen, day: str, verdict: str) -> None:
    assert screen(lvef=lab(60, "%", day)).criterion("I8b").verdict == verdict


def test_a_lab_dated_after_the_screening_date_makes_its_criterion_unknown(screen: Screen) -> None:
    result = screen(hemoglobin=lab(90, "g/L", "2025-07-02"))
    assert result.criterion("I7").verdict == "unknown"
    assert "after the screening date 2025-07-01" in result.criterion("I7").reason


def test_of_several_values_in_the_window_the_most_recent_counts_and_the_others_are_evidence(
    screen: Screen,
) -> None:
    result = screen(
        hemoglobin=[lab(65, "g/L", "2025-06-20"), lab(75, "g/L", "2025-06-30"), lab(60, "g/L", "2025-06-25")]
    )
    criterion = result.criterion("I7")
    assert criterion.verdict == "met"
    assert [(item.value, item.used) for item in criterion.evidence] == [(75, True), (60, False), (65, False)]
    assert "most recent of 3 values" in criterion.reason


def test_the_window_moves_with_the_screening_date(screen: Screen) -> None:
    assert screen(on=date(2025, 7, 20)).criterion("I7").verdict == "unknown"


def test_months_before_keeps_the_calendar_day_or_the_last_day_of_a_shorter_month() -> None:
    assert months_before(date(2025, 7, 1), 12) == date(2024, 7, 1)
    assert months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
