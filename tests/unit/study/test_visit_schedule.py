"""The pure visit planner: targets, windows, provisional visits and flags."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings
from celltrial.study.visits.schedule import plan_schedule, visit_flags

SCHEDULE = load_settings("NCT07008872").schedule
ENROLMENT = date(2026, 1, 10)
INFUSION = date(2026, 2, 1)


def by_code(enrolment: date = ENROLMENT, infusion: date | None = INFUSION) -> dict[str, object]:
    return {visit.code: visit for visit in plan_schedule(SCHEDULE, enrolment=enrolment, infusion=infusion)}


def test_visits_anchored_on_the_infusion_are_dated_from_day_0() -> None:
    visits = by_code()
    d28 = visits["D28"]
    assert (d28.target, d28.earliest, d28.latest, d28.provisional) == (  # type: ignore[attr-defined]
        INFUSION + timedelta(days=28),
        INFUSION + timedelta(days=26),
        INFUSION + timedelta(days=30),
        False,
    )
    assert visits["LD"].target == INFUSION - timedelta(days=5)  # type: ignore[attr-defined]


def test_visits_anchored_on_enrolment_are_dated_from_the_enrolment() -> None:
    aph = by_code()["APH"]
    assert (aph.target, aph.earliest, aph.latest) == (  # type: ignore[attr-defined]
        date(2026, 1, 13),
        date(2026, 1, 10),
        date(2026, 1, 17),
    )


def test_before_the_infusion_is_known_its_visits_are_placed_provisionally_from_the_enrolment() -> None:
    visits = by_code(infusion=None)
    assert visits["D7"].target == ENROLMENT + timedelta(days=7)  # type: ignore[attr-defined]
    assert visits["D7"].provisional  # type: ignore[attr-defined]
    assert not visits["APH"].provisional  # type: ignore[attr-defined]


def test_the_schedule_holds_every_listed_visit_daily_crs_assessments_and_long_term_follow_up() -> None:
    codes = set(by_code())
    assert {visit.code for visit in SCHEDULE.visits} <= codes
    assert {f"CRS{day}" for day in range(1, 15)} <= codes
    follow_up = sorted(code for code in codes if code.startswith("LTFU"))
    assert follow_up == sorted(f"LTFU{12 * year}M" for year in range(3, 16))
    assert by_code()["LTFU180M"].target == INFUSION + timedelta(days=15 * 365)  # type: ignore[attr-defined]


def test_an_infusion_before_the_enrolment_is_refused() -> None:
    with pytest.raises(InvalidInput, match="before the enrolment date") as refused:
        plan_schedule(SCHEDULE, enrolment=ENROLMENT, infusion=ENROLMENT - timedelta(days=1))
    assert refused.value.field == "infusion_date"


WINDOW = {"earliest": date(2026, 2, 6), "latest": date(2026, 2, 10)}


@pytest.mark.parametrize(
    ("actual", "today", "out_of_window", "missed", "overdue"),
    [
        (date(2026, 2, 6), date(2026, 3, 1), False, False, 0),
        (date(2026, 2, 10), date(2026, 3, 1), False, False, 0),
        (date(2026, 2, 5), date(2026, 3, 1), True, False, 0),
        (date(2026, 2, 11), date(2026, 3, 1), True, False, 0),
        (None, date(2026, 2, 10), False, False, 0),
        (None, date(2026, 2, 11), False, True, 1),
    ],
)
def test_a_visit_is_flagged_out_of_window_when_done_outside_it_and_missed_when_its_window_passed(
    actual: date | None, today: date, out_of_window: bool, missed: bool, overdue: int
) -> None:
    flags = visit_flags(**WINDOW, actual=actual, today=today)
    assert (flags.out_of_window, flags.missed, flags.overdue_days) == (out_of_window, missed, overdue)


def test_a_provisional_visit_is_never_flagged() -> None:
    flags = visit_flags(**WINDOW, actual=None, today=date(2027, 1, 1), provisional=True)
    assert not flags.missed
