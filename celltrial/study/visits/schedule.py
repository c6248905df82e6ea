"""A subject's visit schedule from the protocol's schedule of assessments.

Pure: the settings' visits, the enrolment date and (once known) the infusion date in; planned
visits with target dates and windows out. Each visit is anchored as the settings say: on the
enrolment date, or on the infusion date (day 0). Until the infusion date is known, visits
anchored on it are placed *provisionally* from the enrolment date (day 0 = enrolment) so the
site sees a plan; a provisional visit is never flagged missed or out of window, and is re-dated
when the infusion is recorded.

Besides the listed visits the schedule holds a daily CRS/ICANS assessment on each day of
``daily_crs_icans_days`` and the long-term follow-up visits (every ``every_months`` after the
last listed visit, up to ``until_years`` after infusion).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ScheduleSettings

__all__ = ["PlannedVisit", "VisitFlags", "plan_schedule", "visit_flags"]

DAYS_PER_YEAR = 365
DAILY_ASSESSMENT_FORM = "crs_icans_daily"


@dataclass(frozen=True)
class PlannedVisit:
    """One visit of the schedule: target date and the window around it (inclusive)."""

    code: str
    name: str
    anchor: str
    day: int
    target: date
    earliest: date
    latest: date
    provisional: bool
    forms: tuple[str, ...]


@dataclass(frozen=True)
class VisitFlags:
    """What a coordinator must look at: a visit done outside its window, or a missed one."""

    out_of_window: bool
    missed: bool
    overdue_days: int


def _planned(
    *,
    code: str,
    name: str,
    anchor: str,
    day: int,
    before: int,
    after: int,
    forms: Sequence[str],
    enrolment: date,
    infusion: date | None,
) -> PlannedVisit:
    if anchor == "infusion" and infusion is not None:
        zero, provisional = infusion, False
    else:
        zero, provisional = enrolment, anchor == "infusion"
    target = zero + timedelta(days=day)
    return PlannedVisit(
        code=code,
        name=name,
        anchor=anchor,
        day=day,
        target=target,
        earliest=target - timedelta(days=before),
        latest=target + timedelta(days=after),
        provisional=provisional,
        forms=tuple(forms),
    )


def plan_schedule(
    schedule: ScheduleSettings, *, enrolment: date, infusion: date | None = None
) -> list[PlannedVisit]:
    """Every planned visit of a subject enrolled on ``enrolment``, in order of target date."""
    if infusion is not None and infusion < enrolment:
        raise InvalidInput(
            f"the infusion date {infusion} is before the enrolment date {enrolment}", field="infusion_date"
        )
    place = functools.partial(_planned, enrolment=enrolment, infusion=infusion)
    visits = [
        place(
            code=visit.code,
            name=visit.name,
            anchor=visit.anchor,
            day=visit.day,
            before=visit.before,
            after=visit.after,
            forms=visit.forms,
        )
        for visit in schedule.visits
    ]
    first, last = schedule.daily_crs_icans_days.value
    visits += [
        place(
            code=f"CRS{day}",
            name=f"CRS/ICANS day {day}",
            anchor="infusion",
            day=day,
            before=0,
            after=0,
            forms=[DAILY_ASSESSMENT_FORM],
        )
        for day in range(first, last + 1)
    ]
    follow_up = schedule.long_term_follow_up
    last_listed = max((visit.day for visit in schedule.visits if visit.anchor == "infusion"), default=0)
    step = follow_up.every_months * DAYS_PER_YEAR // 12
    for number in range(1, follow_up.until_years * 12 // follow_up.every_months + 1):
        day = number * step
        if day <= last_listed:
            continue
        visits.append(
            place(
                code=f"LTFU{number * follow_up.every_months}M",
                name=f"Long-term follow-up month {number * follow_up.every_months}",
                anchor="infusion",
                day=day,
                before=follow_up.window_days,
                after=follow_up.window_days,
                forms=follow_up.forms,
            )
        )
    return sorted(visits, key=lambda visit: (visit.target, visit.day, visit.code))


def visit_flags(
    *, earliest: date, latest: date, actual: date | None, today: date, provisional: bool = False
) -> VisitFlags:
    """Flags of one visit on ``today``: done outside its window, or not done and its window over."""
    if provisional:
        return VisitFlags(out_of_window=False, missed=False, overdue_days=0)
    if actual is not None:
        return VisitFlags(out_of_window=not earliest <= actual <= latest, missed=False, overdue_days=0)
    overdue = (today - latest).days
    return VisitFlags(out_of_window=False, missed=overdue > 0, overdue_days=max(overdue, 0))
