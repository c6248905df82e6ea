"""What every SDTM domain builder shares: datasets, identifiers, ISO 8601 dates, study days, visits.

- ``USUBJID`` is ``STUDYID-SITEID-SUBJID``; ``SUBJID`` is the subject number given at enrolment,
  or the screening number for a patient never enrolled.
- The reference start ``RFSTDTC`` is the CAR-T infusion (the protocol's day 0), so study days
  (``--DY``) count from it: the infusion is day 1, the day before it day -1 (SDTMIG 3.4, 4.4.4:
  there is no day 0). Before an infusion is known, no study day is given.
- Visits are numbered in the order of the protocol's schedule (listed visits, daily CRS/ICANS
  days, long-term follow-up); an unscheduled visit gets the number of the scheduled visit before
  it plus 0.01 per unscheduled visit since (SDTMIG 3.4, 4.4.5).
- ``--SEQ`` is assigned per subject after sorting each domain by its keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from celltrial.protocol.settings import ScheduleSettings
from celltrial.reporting.sdtm.metadata import DomainSpec, standard
from celltrial.reporting.trialdata import SubjectRecord, TrialData, VisitRecord
from celltrial.study.visits.schedule import plan_schedule

__all__ = [
    "ARM",
    "ARMCD",
    "Dataset",
    "VisitNumbers",
    "epoch_on",
    "iso",
    "study_day",
    "subjid",
    "usubjid",
]

ARMCD = "CD7CART"
ARM = "CD7 CAR-T"
_ANY_DAY = date(2000, 1, 3)


@dataclass
class Dataset:
    """One SDTM dataset: its domain's metadata and its rows (variable name to value)."""

    domain: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def spec(self) -> DomainSpec:
        return standard().domains[self.domain]

    def add(self, **values: Any) -> None:
        unknown = set(values) - set(self.spec.names)
        if unknown:
            raise KeyError(f"{self.domain} has no variables {sorted(unknown)}")
        self.rows.append(values)

    def number(self) -> Dataset:
        """Sort the rows by the domain's keys and give each subject's rows ``--SEQ`` 1, 2, 3..."""
        keys = [key for key in self.spec.keys if key != f"{self.domain}SEQ"]

        def order(row: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(
                (row.get(key) is None, row.get(key) if row.get(key) is not None else 0) for key in keys
            )

        self.rows.sort(key=order)
        seq = f"{self.domain}SEQ"
        if seq in self.spec.names:
            counters: dict[str, int] = {}
            for row in self.rows:
                counters[row["USUBJID"]] = counters.get(row["USUBJID"], 0) + 1
                row[seq] = counters[row["USUBJID"]]
        return self

    def columns(self) -> dict[str, list[Any]]:
        """Every variable of the domain, in SDTMIG order, as a column (None where empty)."""
        columns: dict[str, list[Any]] = {name: [] for name in self.spec.names}
        for row in self.rows:
            for name in columns:
                value = row.get(name)
                if name == "DOMAIN" and value is None and self.domain != "SUPPAE":
                    value = self.domain
                columns[name].append(value)
        return columns


def subjid(subject: SubjectRecord) -> str:
    return subject.subject_number or subject.screening_number


def usubjid(study_id: str, subject: SubjectRecord) -> str:
    """``STUDYID-SITEID-SUBJID``."""
    return f"{study_id}-{subject.site_code}-{subjid(subject)}"


def iso(value: object) -> str | None:
    """An ISO 8601 date or date-time (minutes, UTC) as SDTM ``--DTC`` holds it; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if "T" in text:
        return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M")
    return date.fromisoformat(text).isoformat()


def day_of(value: object) -> date | None:
    """The calendar date of a stored date or date-time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def study_day(value: object, reference: date | None) -> int | None:
    """SDTM study day of ``value`` relative to ``reference`` (day 1; no day 0)."""
    day = day_of(value)
    if day is None or reference is None:
        return None
    delta = (day - reference).days
    return delta + 1 if delta >= 0 else delta


def epoch_on(value: object, subject: SubjectRecord, first_exposure: date | None) -> str | None:
    """SCREENING before the first study treatment, TREATMENT up to the infusion, then FOLLOW-UP."""
    day = day_of(value)
    if day is None:
        return None
    if first_exposure is None or day < first_exposure:
        return "SCREENING" if subject.enrolment_date is None or day <= subject.enrolment_date else "TREATMENT"
    if subject.infusion_date is None or day <= subject.infusion_date:
        return "TREATMENT"
    return "FOLLOW-UP"


def _planned(schedule: ScheduleSettings) -> tuple[tuple[str, str, str, int], ...]:
    plan = plan_schedule(schedule, enrolment=_ANY_DAY, infusion=_ANY_DAY + timedelta(days=14))
    return tuple((visit.code, visit.name, visit.anchor, visit.day) for visit in plan)


class VisitNumbers:
    """VISITNUM of every planned visit of the protocol, and of each subject's unscheduled visits."""

    def __init__(self, data: TrialData) -> None:
        self.planned = _planned(data.settings.schedule)
        self.number = {code: float(index) for index, (code, *_rest) in enumerate(self.planned, start=1)}
        self._unscheduled: dict[int, float] = {}
        by_subject: dict[int, list[VisitRecord]] = {}
        for visit in data.visits:
            by_subject.setdefault(visit.subject_id, []).append(visit)
        for visits in by_subject.values():
            self._number_unscheduled(visits)

    def _number_unscheduled(self, visits: list[VisitRecord]) -> None:
        done = sorted(
            (v for v in visits if v.actual_date is not None),
            key=lambda v: (v.actual_date, v.unscheduled, v.id),
        )
        previous, extra = 0.0, 0
        for visit in done:
            if visit.unscheduled:
                extra += 1
                self._unscheduled[visit.id] = round(previous + 0.01 * extra, 2)
            elif visit.code in self.number:
                previous, extra = self.number[visit.code], 0

    def of(self, visit: VisitRecord | None) -> float | None:
        if visit is None:
            return None
        if visit.unscheduled:
            return self._unscheduled.get(visit.id)
        return self.number.get(visit.code)
