"""CRS and ICANS episodes derived from the daily CRS/ICANS assessments.

The daily assessment records the day's ASTCT grades (Lee et al., Biol Blood Marrow Transplant
2019;25:625-638), computed by :mod:`celltrial.clinical.crs` and :mod:`celltrial.clinical.icans`,
and whether tocilizumab or corticosteroids were given that day. The consensus grades a
syndrome day by day; it does not define an episode, so these are celltrial's definitions:

* an episode starts on the first assessment with grade >= 1 (its **onset**); **time to onset**
  is the onset day minus the infusion day (day 0);
* it lasts until the next assessment with grade 0: that day is its **resolution**. Days without
  an assessment inside an episode do not end it (no evidence that the syndrome resolved);
* its **last day** is the last assessment with grade >= 1; **duration** counts the days from
  onset to last day, both included (an episode seen on one day lasts 1 day);
* an episode with no grade-0 assessment after it is **ongoing** (its duration is so far);
  a grade-5 day (death due to the syndrome) ends it as **fatal**;
* its **maximum grade** is the highest daily grade; **tocilizumab** and **corticosteroids** are
  counted for the episode when given on any of its days (the form does not say which syndrome
  a drug was given for, so a drug given on a day with both CRS and ICANS counts for both).

Pure: assessments in, episodes out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from celltrial.errors import InvalidInput

__all__ = [
    "DailyGrades",
    "Episode",
    "Syndrome",
    "derive_episodes",
    "subject_episodes",
]


class Syndrome(StrEnum):
    CRS = "crs"
    ICANS = "icans"


class DailyGrades(BaseModel):
    """One day's computed grades and the anti-cytokine treatment given that day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    crs_grade: int = Field(ge=0, le=5)
    icans_grade: int = Field(ge=0, le=5)
    tocilizumab_given: bool = False
    corticosteroids_given: bool = False

    def grade(self, syndrome: Syndrome) -> int:
        return self.crs_grade if syndrome is Syndrome.CRS else self.icans_grade


class Episode(BaseModel):
    """One CRS or ICANS episode."""

    model_config = ConfigDict(frozen=True)

    syndrome: Syndrome
    onset: date
    onset_day: int = Field(description="days after infusion (day 0)")
    last_day: date = Field(description="the last day with grade >= 1")
    resolved_on: date | None = Field(description="the first grade-0 assessment after the episode")
    max_grade: int = Field(ge=1, le=5)
    duration_days: int = Field(ge=1, description="onset to last day, both included")
    ongoing: bool
    fatal: bool
    tocilizumab: bool
    corticosteroids: bool
    days_assessed: int


def _ordered(assessments: Iterable[DailyGrades]) -> list[DailyGrades]:
    ordered = sorted(assessments, key=lambda item: item.day)
    for before, after in itertools.pairwise(ordered):
        if before.day == after.day:
            raise InvalidInput(f"two assessments on {after.day}: one assessment per day", field="day")
    return ordered


def derive_episodes(
    assessments: Iterable[DailyGrades], *, infusion_date: date, syndrome: Syndrome
) -> tuple[Episode, ...]:
    """The episodes of ``syndrome`` in a subject's daily assessments (any order), oldest first."""
    ordered = _ordered(assessments)
    if ordered and ordered[0].day < infusion_date:
        raise InvalidInput(
            f"an assessment on {ordered[0].day} precedes the infusion on {infusion_date}", field="day"
        )
    episodes: list[Episode] = []
    current: list[DailyGrades] = []
    for assessment in ordered:
        if assessment.grade(syndrome) >= 1:
            current.append(assessment)
            if assessment.grade(syndrome) == 5:
                episodes.append(_episode(current, syndrome, infusion_date, resolved_on=None))
                current = []
                break
        elif current:
            episodes.append(_episode(current, syndrome, infusion_date, resolved_on=assessment.day))
            current = []
    if current:
        episodes.append(_episode(current, syndrome, infusion_date, resolved_on=None))
    return tuple(episodes)


def subject_episodes(
    assessments: Sequence[DailyGrades], *, infusion_date: date
) -> dict[Syndrome, tuple[Episode, ...]]:
    """CRS and ICANS episodes of one subject."""
    return {
        syndrome: derive_episodes(assessments, infusion_date=infusion_date, syndrome=syndrome)
        for syndrome in Syndrome
    }


def _episode(
    days: list[DailyGrades], syndrome: Syndrome, infusion_date: date, *, resolved_on: date | None
) -> Episode:
    onset, last = days[0].day, days[-1].day
    fatal = days[-1].grade(syndrome) == 5
    return Episode(
        syndrome=syndrome,
        onset=onset,
        onset_day=(onset - infusion_date).days,
        last_day=last,
        resolved_on=resolved_on,
        max_grade=max(day.grade(syndrome) for day in days),
        duration_days=(last - onset).days + 1,
        ongoing=resolved_on is None and not fatal,
        fatal=fatal,
        tocilizumab=any(day.tocilizumab_given for day in days),
        corticosteroids=any(day.corticosteroids_given for day in days),
        days_assessed=len(days),
    )
