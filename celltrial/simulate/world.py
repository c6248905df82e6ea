"""The simulated trial's state: its people, its agenda of dated tasks, each patient's journey.

The agenda holds what happens on which day at what hour (an instant in UTC). The simulation
takes each day's tasks in time order and runs them in one unit of work, each task calling the
services as the person responsible would. A journey remembers, for one referred patient, the
subject record's id, the course drawn for them, and the ids of their visits and forms.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from celltrial.protocol.settings import ProtocolSettings
from celltrial.simulate.outcomes import Course
from celltrial.simulate.patients import VirtualPatient
from celltrial.simulate.scenario import Scenario
from celltrial.study.users.models import User

__all__ = ["Action", "Agenda", "Journey", "SiteStaff", "Staff", "World", "at"]

Action = Callable[[Session], None]


def at(day: date, hour: float) -> datetime:
    """``day`` at ``hour`` (fractions are minutes), in UTC."""
    minutes = round(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=UTC)


@dataclass(frozen=True)
class SiteStaff:
    """The people of one site: two investigators, a coordinator, two cell-therapy lab staff."""

    site_id: int
    code: str
    investigator: User
    subinvestigator: User
    coordinator: User
    lab: User
    lab2: User


@dataclass(frozen=True)
class Staff:
    """Everyone who works on the simulated trial."""

    sites: dict[str, SiteStaff]
    sponsor: User
    data_manager: User
    monitor: User
    password: str


@dataclass(order=True)
class _Entry:
    when: datetime
    sequence: int
    action: Action = field(compare=False)
    journey: Journey | None = field(compare=False, default=None)


class Agenda:
    """Dated tasks, taken day by day in time order (ties in the order they were added)."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._count = itertools.count()

    def add(self, when: datetime, action: Action, journey: Journey | None = None) -> None:
        heapq.heappush(self._heap, _Entry(when, next(self._count), action, journey))

    def next_day(self) -> date | None:
        return self._heap[0].when.date() if self._heap else None

    def pop(self, day: date) -> _Entry | None:
        """The next task of ``day``, if any (a task may add more for the same day)."""
        if self._heap and self._heap[0].when.date() == day:
            return heapq.heappop(self._heap)
        return None


@dataclass
class Journey:
    """One referred patient: their subject record, their course and where their data go."""

    patient: VirtualPatient
    rng: np.random.Generator
    subject_id: int | None = None
    course: Course | None = None
    enrolled_on: date | None = None
    infused_on: date | None = None
    ended: str | None = None
    visits: dict[str, int] = field(default_factory=dict)
    windows: dict[str, tuple[date, date, date]] = field(default_factory=dict)
    forms: dict[tuple[str, str], int] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def site(self) -> str:
        return self.patient.site

    def day(self, offset: int, *, from_infusion: bool = True) -> date:
        anchor = self.infused_on if from_infusion else self.enrolled_on
        assert anchor is not None
        return anchor + timedelta(days=offset)


@dataclass
class World:
    """The simulation in progress."""

    sessions: sessionmaker[Session]
    scenario: Scenario
    seed: int
    cut: date
    study_id: int
    staff: Staff
    settings: ProtocolSettings
    agenda: Agenda = field(default_factory=Agenda)
    journeys: list[Journey] = field(default_factory=list)
    tally: Counter[str] = field(default_factory=Counter)
    recruiting: bool = True
    on_enrolled: Callable[[Session, World, Journey], None] | None = None

    def site_staff(self, journey: Journey) -> SiteStaff:
        return self.staff.sites[journey.site]

    def plan(
        self, journey: Journey, day: date, hour: float, action: Action, *, after_the_end: bool = False
    ) -> None:
        """Run ``action`` at ``day`` ``hour`` unless it is after the cut or the journey has ended by then.

        ``after_the_end``: run it even then (a correction of data already collected).
        """
        if day > self.cut:
            return

        def guarded(session: Session) -> None:
            if journey.ended is None or after_the_end:
                action(session)

        self.agenda.add(at(day, hour), guarded, journey)
