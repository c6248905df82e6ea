"""Safety tables for the data and safety monitoring board (DSMB).

The conventions of an adverse-event summary (ICH E3 section 12.2; CDISC ADaM ADAE occurrence
tables): a subject is counted once per system organ class and once per term, at the highest
grade of their events; percentages use the safety population (every infused subject) as the
denominator. CRS and ICANS come from the episodes of :mod:`celltrial.analysis.episodes`
(ASTCT grades computed from the daily assessments), not from adverse-event grades.

Tables:

* adverse events by system organ class and term: subjects by maximum grade 1–5, any grade,
  grade >= 3;
* CRS and ICANS: subjects by maximum grade, any grade, grade >= 3; time to onset of the first
  episode (days after infusion: median, range); duration of the resolved episodes (days: median,
  range) with the count of ongoing and fatal episodes; subjects given tocilizumab or
  corticosteroids during an episode;
* deaths with their cause (fatal adverse events and deaths reported otherwise, e.g. disease
  progression), the day after infusion and whether they are suspected to be treatment-related;
* adverse events of special interest: subjects by maximum grade, any grade, grade >= 3, serious.

Every recorded adverse event of a subject in the population counts (the DSMB sees them all).
Medians of an even count are the mean of the two middle values. Pure: records in, tables out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from celltrial.analysis.episodes import DailyGrades, Episode, Syndrome, subject_episodes
from celltrial.analysis.safety_events import AdverseEventFacts, Aesi
from celltrial.errors import InvalidInput

__all__ = [
    "AesiRow",
    "DeathRecord",
    "DeathRow",
    "GradeCounts",
    "SafetyTables",
    "SocRow",
    "SubjectSafetyRecord",
    "Summary",
    "SyndromeTable",
    "TermRow",
    "safety_tables",
    "summarise",
]

_GRADES = (1, 2, 3, 4, 5)


class SubjectSafetyRecord(BaseModel):
    """One subject of the safety population with their safety data."""

    model_config = ConfigDict(frozen=True)

    subject_id: int
    label: str
    infusion_date: date
    adverse_events: tuple[AdverseEventFacts, ...] = ()
    assessments: tuple[DailyGrades, ...] = ()


class DeathRecord(BaseModel):
    """A death known otherwise than as a fatal adverse event (e.g. disease progression)."""

    model_config = ConfigDict(frozen=True)

    subject_id: int
    on: date
    cause: str
    treatment_related: bool = False


class GradeCounts(BaseModel):
    """Subjects by their maximum grade."""

    model_config = ConfigDict(frozen=True)

    by_max_grade: dict[int, int] = Field(description="grade 1..5: subjects whose highest grade it is")
    any_grade: int
    grade_3_or_more: int


class TermRow(GradeCounts):
    term: str


class SocRow(GradeCounts):
    soc: str
    terms: tuple[TermRow, ...]


class Summary(BaseModel):
    """Median and range of a set of days (None when the set is empty)."""

    model_config = ConfigDict(frozen=True)

    n: int
    median: float | None
    minimum: int | None
    maximum: int | None


class SyndromeTable(GradeCounts):
    syndrome: Syndrome
    episodes: int
    time_to_onset_days: Summary = Field(description="first episode of each subject")
    duration_days: Summary = Field(description="resolved episodes")
    ongoing_episodes: int
    fatal_episodes: int
    subjects_given_tocilizumab: int
    subjects_given_corticosteroids: int


class DeathRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: int
    label: str
    on: date
    day: int = Field(description="days after infusion")
    cause: str
    treatment_related: bool


class AesiRow(GradeCounts):
    aesi: Aesi
    serious: int = Field(description="subjects with a serious event of this kind")


class SafetyTables(BaseModel):
    model_config = ConfigDict(frozen=True)

    subjects: int = Field(description="the safety population: infused subjects")
    adverse_events: tuple[SocRow, ...]
    crs: SyndromeTable
    icans: SyndromeTable
    deaths: tuple[DeathRow, ...]
    aesi: tuple[AesiRow, ...]


def summarise(days: Iterable[int]) -> Summary:
    """Median and range."""
    values = sorted(days)
    if not values:
        return Summary(n=0, median=None, minimum=None, maximum=None)
    return Summary(
        n=len(values), median=float(statistics.median(values)), minimum=values[0], maximum=values[-1]
    )


def _counts(max_grades: dict[int, int]) -> dict[str, Any]:
    by_grade = dict.fromkeys(_GRADES, 0)
    for grade in max_grades.values():
        by_grade[grade] += 1
    counts = GradeCounts(
        by_max_grade=by_grade,
        any_grade=len(max_grades),
        grade_3_or_more=sum(1 for grade in max_grades.values() if grade >= 3),
    )
    return counts.model_dump()


def _highest(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    highest: dict[int, int] = {}
    for subject_id, grade in pairs:
        highest[subject_id] = max(grade, highest.get(subject_id, 0))
    return highest


def _ae_table(events: Sequence[AdverseEventFacts]) -> tuple[SocRow, ...]:
    by_soc: dict[str, list[AdverseEventFacts]] = defaultdict(list)
    for event in events:
        by_soc[event.soc].append(event)
    rows = []
    for soc in sorted(by_soc):
        by_term: dict[str, list[AdverseEventFacts]] = defaultdict(list)
        for event in by_soc[soc]:
            by_term[event.term].append(event)
        terms = [
            TermRow(term=term, **_counts(_highest((e.subject_id, e.grade) for e in items)))
            for term, items in by_term.items()
        ]
        terms.sort(key=lambda row: (-row.any_grade, row.term.lower()))
        counts = _counts(_highest((e.subject_id, e.grade) for e in by_soc[soc]))
        rows.append(SocRow(soc=soc, terms=tuple(terms), **counts))
    return tuple(rows)


def _syndrome_table(syndrome: Syndrome, episodes: dict[int, tuple[Episode, ...]]) -> SyndromeTable:
    everything = [episode for items in episodes.values() for episode in items]
    highest = _highest((subject_id, e.max_grade) for subject_id, items in episodes.items() for e in items)
    first_onsets = [items[0].onset_day for items in episodes.values() if items]
    resolved = [e.duration_days for e in everything if not e.ongoing and not e.fatal]
    return SyndromeTable(
        syndrome=syndrome,
        episodes=len(everything),
        time_to_onset_days=summarise(first_onsets),
        duration_days=summarise(resolved),
        ongoing_episodes=sum(1 for e in everything if e.ongoing),
        fatal_episodes=sum(1 for e in everything if e.fatal),
        subjects_given_tocilizumab=sum(1 for items in episodes.values() if any(e.tocilizumab for e in items)),
        subjects_given_corticosteroids=sum(
            1 for items in episodes.values() if any(e.corticosteroids for e in items)
        ),
        **_counts(highest),
    )


def _deaths(records: Sequence[SubjectSafetyRecord], others: Sequence[DeathRecord]) -> tuple[DeathRow, ...]:
    subjects = {record.subject_id: record for record in records}
    rows: dict[int, DeathRow] = {}
    for record in records:
        fatal = sorted((e for e in record.adverse_events if e.fatal), key=lambda e: e.death_date or e.onset)
        if fatal:
            on = fatal[0].death_date or fatal[0].onset
            rows[record.subject_id] = DeathRow(
                subject_id=record.subject_id,
                label=record.label,
                on=on,
                day=(on - record.infusion_date).days,
                cause="; ".join(dict.fromkeys(e.term for e in fatal)),
                treatment_related=any(e.treatment_related for e in fatal),
            )
    for death in others:
        if death.subject_id not in subjects:
            raise InvalidInput(f"subject {death.subject_id} is not in the safety population", field="deaths")
        if death.subject_id in rows:
            continue  # the fatal adverse event already names the cause
        subject = subjects[death.subject_id]
        rows[death.subject_id] = DeathRow(
            subject_id=death.subject_id,
            label=subject.label,
            on=death.on,
            day=(death.on - subject.infusion_date).days,
            cause=death.cause,
            treatment_related=death.treatment_related,
        )
    return tuple(sorted(rows.values(), key=lambda row: (row.on, row.label)))


def _aesi_table(events: Sequence[AdverseEventFacts]) -> tuple[AesiRow, ...]:
    rows = []
    for aesi in Aesi:
        flagged = [event for event in events if aesi in event.aesi]
        counts = _counts(_highest((e.subject_id, e.grade) for e in flagged))
        serious = len({e.subject_id for e in flagged if e.serious})
        rows.append(AesiRow(aesi=aesi, serious=serious, **counts))
    return tuple(rows)


def safety_tables(
    records: Sequence[SubjectSafetyRecord], *, other_deaths: Sequence[DeathRecord] = ()
) -> SafetyTables:
    """Every DSMB safety table for the safety population ``records``."""
    ids = [record.subject_id for record in records]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a subject appears twice in the safety population", field="records")
    for record in records:
        for event in record.adverse_events:
            if event.subject_id != record.subject_id:
                raise InvalidInput(
                    f"an adverse event of subject {event.subject_id} is filed "
                    f"under subject {record.subject_id}",
                    field="adverse_events",
                )
    events = [event for record in records for event in record.adverse_events]
    episodes = {
        record.subject_id: subject_episodes(record.assessments, infusion_date=record.infusion_date)
        for record in records
    }
    return SafetyTables(
        subjects=len(records),
        adverse_events=_ae_table(events),
        crs=_syndrome_table(Syndrome.CRS, {s: e[Syndrome.CRS] for s, e in episodes.items()}),
        icans=_syndrome_table(Syndrome.ICANS, {s: e[Syndrome.ICANS] for s, e in episodes.items()}),
        deaths=_deaths(records, other_deaths),
        aesi=_aesi_table(events),
    )
