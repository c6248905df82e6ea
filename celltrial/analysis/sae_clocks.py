"""Reporting clocks of a serious adverse event, and which of them are overdue at a given instant.

Sources:

* ICH E6(R2) 4.11.1 / E6(R3): the investigator reports every SAE to the sponsor immediately,
  followed promptly by detailed written reports; the protocol sets "immediately" to
  ``sae_report_to_sponsor_hours`` (24 h) after the site became aware. Each follow-up (new
  information about the same SAE) runs the same clock from the day the site received it;
* ICH E2A (1994) III.B "Reporting time frames": the sponsor reports a suspected unexpected
  serious adverse reaction (SUSAR) to the regulators within 7 calendar days of its first
  knowledge when fatal or life-threatening, otherwise within 15 calendar days
  (``susar_fatal_days``, ``susar_other_days``). The sponsor's first knowledge is the site's
  initial report. (The complete report E2A asks within 8 further days after a fatal or
  life-threatening SUSAR is not clocked here.)

Decisions where the sources leave room: a clock counts whole 24-hour periods from the instant
that starts it (never later than the calendar-day deadline); a reaction is *suspected* when its
relatedness to the CAR-T product is possible or more (ICH E2A "reasonable possibility"); while
the sponsor has not assessed expectedness, a suspected SAE runs a SUSAR clock marked
``provisional``, so the deadline is not missed while the assessment is pending.

Pure: the caller passes ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from celltrial.errors import InvalidInput

__all__ = [
    "Clock",
    "ClockKind",
    "ClockRules",
    "ClockStatus",
    "FollowUpTimeline",
    "SaeTimeline",
    "overdue",
    "sae_clocks",
]


class ClockKind(StrEnum):
    INITIAL_REPORT = "initial_report"
    FOLLOW_UP_REPORT = "follow_up_report"
    SUSAR_REPORT = "susar_report"


class ClockStatus(StrEnum):
    MET = "met"  # done by the deadline
    LATE = "late"  # done after the deadline
    PENDING = "pending"  # not done, deadline still ahead
    OVERDUE = "overdue"  # not done, deadline passed


class ClockRules(BaseModel):
    """The deadlines (protocol settings ``safety``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report_to_sponsor_hours: int = Field(default=24, gt=0)
    susar_fatal_days: int = Field(default=7, gt=0)
    susar_other_days: int = Field(default=15, gt=0)


class FollowUpTimeline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    received_at: datetime
    reported_at: datetime | None = None


class SaeTimeline(BaseModel):
    """What the clocks of one SAE depend on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    site_awareness_at: datetime
    reported_to_sponsor_at: datetime | None = None
    fatal_or_life_threatening: bool
    suspected: bool = Field(description="relatedness to the CAR-T product possible or more")
    expected: bool | None = Field(default=None, description="sponsor's expectedness; None: not assessed")
    susar_reported_at: datetime | None = None
    follow_ups: tuple[FollowUpTimeline, ...] = ()


class Clock(BaseModel):
    """One deadline of one SAE and where it stands at ``now``."""

    model_config = ConfigDict(frozen=True)

    kind: ClockKind
    started_at: datetime
    due_at: datetime
    done_at: datetime | None
    status: ClockStatus
    hours_overdue: float | None = Field(description="for an overdue clock, hours past the deadline")
    provisional: bool = Field(default=False, description="a SUSAR clock run before expectedness is assessed")
    follow_up: int | None = Field(default=None, description="the follow-up's number (1, 2, ...)")


def _aware(value: datetime | None, field: str) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{value.isoformat()} has no time zone", field=field)


def _not_before(later: datetime | None, earlier: datetime, field: str, what: str) -> None:
    if later is not None and later < earlier:
        raise InvalidInput(f"{later.isoformat()} is before {what} ({earlier.isoformat()})", field=field)


def _check(timeline: SaeTimeline, now: datetime) -> None:
    _aware(now, "now")
    _aware(timeline.site_awareness_at, "site_awareness_at")
    _aware(timeline.reported_to_sponsor_at, "reported_to_sponsor_at")
    _aware(timeline.susar_reported_at, "susar_reported_at")
    awareness = timeline.site_awareness_at
    _not_before(timeline.reported_to_sponsor_at, awareness, "reported_to_sponsor_at", "the site's awareness")
    if timeline.susar_reported_at is not None:
        if timeline.reported_to_sponsor_at is None:
            raise InvalidInput(
                "a SUSAR report needs the site's report to the sponsor first", field="susar_reported_at"
            )
        _not_before(
            timeline.susar_reported_at,
            timeline.reported_to_sponsor_at,
            "susar_reported_at",
            "the sponsor's receipt",
        )
    for number, follow_up in enumerate(timeline.follow_ups, start=1):
        where = f"follow_ups[{number}]"
        _aware(follow_up.received_at, f"{where}.received_at")
        _aware(follow_up.reported_at, f"{where}.reported_at")
        _not_before(follow_up.received_at, awareness, f"{where}.received_at", "the site's first awareness")
        _not_before(follow_up.reported_at, follow_up.received_at, f"{where}.reported_at", "its receipt")


def _clock(
    kind: ClockKind,
    started: datetime,
    allowed: timedelta,
    done: datetime | None,
    now: datetime,
    *,
    provisional: bool = False,
    follow_up: int | None = None,
) -> Clock:
    due = started + allowed
    overdue_hours: float | None = None
    if done is not None:
        status = ClockStatus.MET if done <= due else ClockStatus.LATE
    elif now > due:
        status = ClockStatus.OVERDUE
        overdue_hours = round((now - due).total_seconds() / 3600, 2)
    else:
        status = ClockStatus.PENDING
    return Clock(
        kind=kind,
        started_at=started,
        due_at=due,
        done_at=done,
        status=status,
        hours_overdue=overdue_hours,
        provisional=provisional,
        follow_up=follow_up,
    )


def sae_clocks(timeline: SaeTimeline, *, now: datetime, rules: ClockRules | None = None) -> tuple[Clock, ...]:
    """Every clock of the SAE at ``now``: initial report, each follow-up, and the SUSAR report."""
    rules = rules or ClockRules()
    _check(timeline, now)
    report = timedelta(hours=rules.report_to_sponsor_hours)
    clocks = [
        _clock(
            ClockKind.INITIAL_REPORT, timeline.site_awareness_at, report, timeline.reported_to_sponsor_at, now
        )
    ]
    for number, follow_up in enumerate(timeline.follow_ups, start=1):
        clocks.append(
            _clock(
                ClockKind.FOLLOW_UP_REPORT,
                follow_up.received_at,
                report,
                follow_up.reported_at,
                now,
                follow_up=number,
            )
        )
    sponsor_knows = timeline.reported_to_sponsor_at
    if timeline.suspected and timeline.expected is not True and sponsor_knows is not None:
        days = rules.susar_fatal_days if timeline.fatal_or_life_threatening else rules.susar_other_days
        clocks.append(
            _clock(
                ClockKind.SUSAR_REPORT,
                sponsor_knows,
                timedelta(days=days),
                timeline.susar_reported_at,
                now,
                provisional=timeline.expected is None,
            )
        )
    return tuple(clocks)


def overdue(clocks: Sequence[Clock]) -> tuple[Clock, ...]:
    """The clocks whose deadline passed with nothing done."""
    return tuple(clock for clock in clocks if clock.status is ClockStatus.OVERDUE)
