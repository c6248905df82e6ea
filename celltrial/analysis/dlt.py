"""Dose-limiting toxicities (DLTs) evaluated from the CRS/ICANS grades and the adverse events.

The DLT window and definitions are protocol settings (``safety.dlt_window_days``,
``safety.dlt_definitions``), written as sentences; :func:`parse_criterion` reads the sentences it
knows and refuses any other, naming it, so a protocol can change a grade or a time limit
without code but never gets a definition silently ignored. The sentences understood:

* ``grade [>=] N CRS [(ASTCT)]`` — an ASTCT CRS grade of N or more on a day in the window
  (grade 5 is death due to CRS, worse than 4, so it counts too);
* ``grade [>=] N ICANS [(ASTCT)] [not resolving to grade <= M within H hours|days]`` — an ASTCT
  ICANS grade of N or more starting in the window; with the clause, only when no assessment
  with grade <= M follows within the time limit (death due to ICANS never resolves);
* ``treatment-related death`` — a fatal adverse event suspected to be caused by the CAR-T
  cells or the lymphodepletion, or a day graded 5 for CRS or ICANS (death due to the syndrome);
* ``grade >= N non-haematological toxicity [related to CAR-T] [not resolving to grade <= M
  within D days|hours]`` — an adverse event of grade N or more starting in the window that is
  not a blood-count toxicity and not CRS or ICANS (graded by their own definitions), suspected
  to be caused by the CAR-T cells (or by either treatment without ``related to CAR-T``).

Decisions where the settings are silent: the window holds the days ``first``..``last`` after
the infusion (day 0), both included, and is complete once ``as_of`` is after its last day; CRS
and ICANS are assessed once a day, so a limit in hours is rounded up to whole days (72 hours =
3 days: a grade <= 2 assessment on or before the third day after the first grade >= 3 day
resolves it); within an episode a day with no assessment is no evidence of resolution; adverse
events of one term that follow on each other (the next starts by the day after the previous
ended) at grade N or more are one toxicity. A finding still inside its time limit on ``as_of``
is *pending*. The investigator confirms or overrules every evaluation.

Pure: the caller passes ``as_of``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from celltrial.analysis.episodes import DailyGrades, Syndrome
from celltrial.analysis.safety_events import AdverseEventFacts, Aesi
from celltrial.errors import InvalidInput

__all__ = [
    "Criterion",
    "DltEvaluation",
    "DltFinding",
    "DltStatus",
    "DltWindow",
    "SubjectSafetyData",
    "evaluate_dlt",
    "parse_criteria",
    "parse_criterion",
    "parse_event",
]

_AT_LEAST = r"grade\s*(?P<ge>>=|≥)?\s*(?P<grade>[1-5])"
_UNTIL = (
    r"(?:\s+not resolving to grade\s*(?:<=|≤)\s*(?P<to>[0-4])"
    r"\s+within\s+(?P<limit>\d+)\s+(?P<unit>hours?|days?))?"
)
_SYNDROME = re.compile(rf"^{_AT_LEAST}\s+(?P<what>CRS|ICANS)(?:\s*\(ASTCT\))?{_UNTIL}$", re.IGNORECASE)
_DEATH = re.compile(r"^treatment[- ]related death$", re.IGNORECASE)
_NON_HAEM = re.compile(
    rf"^{_AT_LEAST}\s+non-ha?ematological toxicity(?P<cart>\s+related to CAR-T)?{_UNTIL}$", re.IGNORECASE
)
_WINDOW_SUFFIX = re.compile(r"\s+within the DLT window$", re.IGNORECASE)


class Criterion(BaseModel):
    """One computable safety definition (a DLT definition or part of the stopping-rule event)."""

    model_config = ConfigDict(frozen=True)

    text: str
    kind: Literal["crs", "icans", "treatment_related_death", "non_haematological"]
    min_grade: int = 5
    resolve_to: int | None = None
    within_days: int | None = None
    cart_only: bool = False


def parse_criterion(text: str) -> Criterion:
    """Read one definition sentence; refuse a sentence celltrial cannot compute."""
    cleaned = " ".join(text.split())
    if _DEATH.match(cleaned):
        return Criterion(text=cleaned, kind="treatment_related_death")
    match = _SYNDROME.match(cleaned) or _NON_HAEM.match(cleaned)
    if match is None:
        raise InvalidInput(
            f"the definition {cleaned!r} is not one celltrial can compute (known forms: 'grade [>=] N CRS', "
            "'grade [>=] N ICANS [not resolving to grade <= M within H hours]', 'treatment-related death', "
            "'grade >= N non-haematological toxicity [related to CAR-T] "
            "[not resolving to grade <= M within D days]')",
            field="safety.dlt_definitions",
        )
    groups = match.groupdict()
    within: int | None = None
    if groups["limit"] is not None:
        amount = int(groups["limit"])
        within = math.ceil(amount / 24) if groups["unit"].lower().startswith("hour") else amount
    what = (groups.get("what") or "non_haematological").lower()
    kind: Literal["crs", "icans", "non_haematological"] = (
        "crs" if what == "crs" else "icans" if what == "icans" else "non_haematological"
    )
    if kind == "crs" and within is not None:
        raise InvalidInput(
            f"{cleaned!r}: a CRS definition takes no resolution limit", field="safety.dlt_definitions"
        )
    return Criterion(
        text=cleaned,
        kind=kind,
        min_grade=int(groups["grade"]),
        resolve_to=int(groups["to"]) if groups["to"] is not None else None,
        within_days=within,
        cart_only=bool(groups.get("cart")),
    )


def parse_criteria(texts: Iterable[str]) -> tuple[Criterion, ...]:
    """The DLT definitions of the settings."""
    criteria = tuple(parse_criterion(text) for text in texts)
    if not criteria:
        raise InvalidInput("the protocol defines no DLT", field="safety.dlt_definitions")
    return criteria


def parse_event(text: str) -> tuple[Criterion, ...]:
    """The stopping rule's event: definitions joined by 'or', optionally '... within the DLT window'."""
    body = _WINDOW_SUFFIX.sub("", " ".join(text.split()))
    try:
        return tuple(parse_criterion(part) for part in re.split(r"\s+or\s+", body) if part)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="safety.stopping_rule.event") from None


class DltWindow(BaseModel):
    """Days after the infusion (day 0) during which toxicities count, both ends included."""

    model_config = ConfigDict(frozen=True)

    first_day: int = 0
    last_day: int = Field(default=28, ge=0)

    @classmethod
    def of(cls, days: Sequence[int]) -> DltWindow:
        if len(days) != 2 or days[0] > days[1]:
            raise InvalidInput(
                f"the DLT window must be [first, last] days, got {list(days)}", field="safety.dlt_window_days"
            )
        return cls(first_day=days[0], last_day=days[1])


class SubjectSafetyData(BaseModel):
    """What a subject's DLT evaluation reads."""

    model_config = ConfigDict(frozen=True)

    subject_id: int
    infusion_date: date
    assessments: tuple[DailyGrades, ...] = ()
    adverse_events: tuple[AdverseEventFacts, ...] = ()
    follow_up_ended_on: date | None = Field(
        default=None, description="death, withdrawal or loss to follow-up"
    )


class DltFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    criterion: str
    on: date = Field(description="the day the toxicity met the definition")
    evidence: str
    event_id: int | None = None


class DltStatus(StrEnum):
    DLT = "dlt"  # at least one definition met
    NO_DLT = "no_dlt"  # window complete, nothing met, nothing pending
    PENDING = "pending"  # window not complete or a finding still inside its time limit
    NOT_EVALUABLE = "not_evaluable"  # follow-up ended before the window did, with no DLT


class DltEvaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: int
    window_start: date
    window_end: date
    window_complete: bool
    findings: tuple[DltFinding, ...]
    pending: tuple[DltFinding, ...]
    status: DltStatus

    @property
    def evaluable(self) -> bool:
        """Counts for the stopping rule: a DLT, or the window completed."""
        return self.status in {DltStatus.DLT, DltStatus.NO_DLT}


def evaluate_dlt(
    data: SubjectSafetyData, criteria: Sequence[Criterion], *, window: DltWindow, as_of: date
) -> DltEvaluation:
    """Apply every definition to one subject's data as known on ``as_of``."""
    start = data.infusion_date + timedelta(days=window.first_day)
    end = data.infusion_date + timedelta(days=window.last_day)
    findings: list[DltFinding] = []
    pending: list[DltFinding] = []
    for criterion in criteria:
        met, waiting = _apply(criterion, data, start, end, as_of)
        findings.extend(met)
        pending.extend(waiting)
    findings.sort(key=lambda finding: finding.on)
    complete = as_of > end
    ended = data.follow_up_ended_on
    if findings:
        status = DltStatus.DLT
    elif ended is not None and ended <= end:
        status = DltStatus.NOT_EVALUABLE
    elif not complete or pending:
        status = DltStatus.PENDING
    else:
        status = DltStatus.NO_DLT
    return DltEvaluation(
        subject_id=data.subject_id,
        window_start=start,
        window_end=end,
        window_complete=complete,
        findings=tuple(findings),
        pending=tuple(pending),
        status=status,
    )


_Found = tuple[list[DltFinding], list[DltFinding]]


def _apply(criterion: Criterion, data: SubjectSafetyData, start: date, end: date, as_of: date) -> _Found:
    in_window = [
        a for a in sorted(data.assessments, key=lambda a: a.day) if start <= a.day <= min(end, as_of)
    ]
    if criterion.kind == "crs":
        return _at_least(criterion, in_window, Syndrome.CRS, data.infusion_date), []
    if criterion.kind == "icans":
        if criterion.within_days is None:
            return _at_least(criterion, in_window, Syndrome.ICANS, data.infusion_date), []
        return _icans_not_resolving(criterion, data, start, end, as_of)
    if criterion.kind == "treatment_related_death":
        return _deaths(criterion, data, in_window, start, end), []
    return _non_haematological(criterion, data, start, end, as_of)


def _day(on: date, infusion: date) -> str:
    return f"{on} (day {(on - infusion).days})"


def _at_least(
    criterion: Criterion, days: list[DailyGrades], syndrome: Syndrome, infusion: date
) -> list[DltFinding]:
    for assessment in days:
        grade = assessment.grade(syndrome)
        if grade >= criterion.min_grade:
            evidence = f"{syndrome.value.upper()} grade {grade} on {_day(assessment.day, infusion)}"
            return [DltFinding(criterion=criterion.text, on=assessment.day, evidence=evidence)]
    return []


def _icans_not_resolving(
    criterion: Criterion, data: SubjectSafetyData, start: date, end: date, as_of: date
) -> _Found:
    assert criterion.within_days is not None
    assert criterion.resolve_to is not None
    limit = timedelta(days=criterion.within_days)
    ordered = [a for a in sorted(data.assessments, key=lambda a: a.day) if start <= a.day <= as_of]
    index = 0
    while index < len(ordered):
        first = ordered[index]
        if first.day > end or first.icans_grade < criterion.min_grade:
            index += 1
            continue
        deadline = first.day + limit
        later = ordered[index + 1 :]
        resolution = next((a for a in later if a.icans_grade <= criterion.resolve_to), None)
        fatal = next((a for a in [first, *later] if a.icans_grade == 5), None)
        when = _day(first.day, data.infusion_date)
        if fatal is not None and (resolution is None or fatal.day < resolution.day):
            evidence = f"ICANS grade {first.icans_grade} from {when}, death due to ICANS on {fatal.day}"
            return [DltFinding(criterion=criterion.text, on=fatal.day, evidence=evidence)], []
        if resolution is not None and resolution.day <= deadline:
            index = ordered.index(resolution) + 1
            continue
        if resolution is not None or as_of > deadline:
            seen = (
                f"grade <= {criterion.resolve_to} only on {resolution.day}" if resolution else "not resolved"
            )
            evidence = f"ICANS grade {first.icans_grade} from {when}, {seen} (limit {deadline})"
            return [
                DltFinding(criterion=criterion.text, on=deadline + timedelta(days=1), evidence=evidence)
            ], []
        evidence = (
            f"ICANS grade {first.icans_grade} from {when}, "
            f"must resolve to grade <= {criterion.resolve_to} by {deadline}"
        )
        return [], [DltFinding(criterion=criterion.text, on=deadline, evidence=evidence)]
    return [], []


def _deaths(
    criterion: Criterion, data: SubjectSafetyData, in_window: list[DailyGrades], start: date, end: date
) -> list[DltFinding]:
    for event in data.adverse_events:
        died = event.death_date
        if died is not None and event.treatment_related and start <= died <= end:
            evidence = f"fatal {event.term} on {_day(died, data.infusion_date)}, suspected treatment-related"
            return [DltFinding(criterion=criterion.text, on=died, evidence=evidence, event_id=event.event_id)]
    for assessment in in_window:
        for syndrome in Syndrome:
            if assessment.grade(syndrome) == 5:
                evidence = (
                    f"death due to {syndrome.value.upper()} on {_day(assessment.day, data.infusion_date)}"
                )
                return [DltFinding(criterion=criterion.text, on=assessment.day, evidence=evidence)]
    return []


def _non_haematological(
    criterion: Criterion, data: SubjectSafetyData, start: date, end: date, as_of: date
) -> _Found:
    candidates = [
        event
        for event in data.adverse_events
        if event.grade >= criterion.min_grade
        and not event.haematological
        and not event.aesi & {Aesi.CRS, Aesi.ICANS}
        and (event.related_to_cart.suspected if criterion.cart_only else event.treatment_related)
    ]
    met: list[DltFinding] = []
    waiting: list[DltFinding] = []
    for run in _runs(candidates):
        first = run[0]
        if not start <= first.onset <= end or first.onset > as_of:
            continue
        when = f"{first.term} grade {max(e.grade for e in run)} from {_day(first.onset, data.infusion_date)}"
        if criterion.within_days is None:
            met.append(
                DltFinding(criterion=criterion.text, on=first.onset, evidence=when, event_id=first.event_id)
            )
            continue
        deadline = first.onset + timedelta(days=criterion.within_days)
        last = run[-1]
        if last.fatal:
            evidence = f"{when}, fatal on {last.death_date}"
            met.append(
                DltFinding(
                    criterion=criterion.text,
                    on=last.death_date or last.onset,
                    evidence=evidence,
                    event_id=first.event_id,
                )
            )
        elif last.resolved_on is not None and last.resolved_on <= deadline:
            continue
        elif last.resolved_on is not None or as_of > deadline:
            seen = (
                f"grade >= {criterion.min_grade} until {last.resolved_on}" if last.resolved_on else "ongoing"
            )
            evidence = f"{when}, {seen} (limit {deadline})"
            met.append(
                DltFinding(
                    criterion=criterion.text,
                    on=deadline + timedelta(days=1),
                    evidence=evidence,
                    event_id=first.event_id,
                )
            )
        else:
            evidence = f"{when}, must resolve to grade <= {criterion.resolve_to} by {deadline}"
            waiting.append(
                DltFinding(criterion=criterion.text, on=deadline, evidence=evidence, event_id=first.event_id)
            )
    return met, waiting


def _runs(events: list[AdverseEventFacts]) -> list[list[AdverseEventFacts]]:
    """Records of one term that follow on each other (next onset by the day after the end) as one run."""
    runs: list[list[AdverseEventFacts]] = []
    ordered = sorted(events, key=lambda e: (e.subject_id, e.term.strip().lower(), e.onset))
    for event in ordered:
        previous = runs[-1][-1] if runs else None
        if (
            previous is not None
            and previous.term.strip().lower() == event.term.strip().lower()
            and previous.resolved_on is not None
            and event.onset <= previous.resolved_on + timedelta(days=1)
        ):
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs
