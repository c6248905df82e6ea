"""Every result of the DSMB report and the analyses pages, computed by the pure analysis functions.

:func:`collect` reads the trial from the database as a user who may see safety and efficacy
data (sponsor, DSMB, data manager) and analyses it at the data cut-off. :func:`analyse` takes a
trial snapshot (:mod:`celltrial.reporting.trialdata`), the data cut-off and the stopping rule's
status, and returns :class:`TrialAnalyses`: CONSORT counts, the safety
tables (:func:`celltrial.analysis.safety_tables.safety_tables`), response rates with exact
Clopper–Pearson intervals (:mod:`celltrial.analysis.proportions`), Kaplan–Meier estimates
(:mod:`celltrial.analysis.survival`) and the NCA of the CAR-T kinetics
(:mod:`celltrial.analysis.nca`). Endpoint definitions (as the report states them):

- **Response rates** at the protocol's response time points (settings
  ``analysis.response_timepoints_days``: day 28 and month 3): the response of the visit of that
  nominal day; the denominator is every subject infused at least that many days before the
  cut-off (a subject who died or missed the assessment counts as a non-responder). ORR counts
  CR, CRi, MLFS, PR, CMR and PMR; CR/CRi counts CR, CRi and CMR. MRD-negative CR/CRi at day 28:
  leukaemia subjects in remission with negative flow MRD (< 0.01%), over the leukaemia subjects
  of the day-28 denominator.
- **Overall survival**: infusion to death from any cause; alive subjects censored on the last
  day known alive.
- **Event-free survival** (progression-free for lymphoma): infusion to progression, relapse or
  death; censored at the last response assessment, and at consolidative allo-HSCT when the
  protocol says so (``analysis.censor_at_consolidative_hsct``); the other choice is the
  sensitivity analysis.
- **Progression-free survival** (lymphoma subjects): as event-free survival, in the lymphoma
  subjects.
- **Leukaemia-free survival** (leukaemia subjects in CR/CRi): from the first CR/CRi to relapse or
  death; censored at the last response assessment, with the protocol's HSCT censoring.
- **Duration of response**: the responders' duration of response
  (:mod:`celltrial.analysis.subject_efficacy`), with the protocol's HSCT censoring.
- **Overall survival by disease** (leukaemia vs lymphoma) and **by prior allo-HSCT** (yes/no),
  the protocol's subgroups.
- **Median follow-up**: reverse Kaplan–Meier of overall survival (Schemper & Smith 1996).
- **Kinetics**: NCA per subject with the protocol's LLOQ (``analysis.kinetics_lloq_copies_per_ug``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.analysis.nca import KineticParameters, noncompartmental
from celltrial.analysis.proportions import ProportionEstimate, clopper_pearson
from celltrial.analysis.response import (
    CR_CRI_RESPONSES,
    OBJECTIVE_RESPONSES,
)
from celltrial.analysis.safety_events import Aesi
from celltrial.analysis.safety_tables import SafetyTables, safety_tables
from celltrial.analysis.stopping import (
    DEFAULT_TRUE_RATES,
    OperatingCharacteristic,
    SafetyStoppingRule,
    operating_characteristics,
)
from celltrial.analysis.survival import KaplanMeierSummary, TimeUnit, kaplan_meier, kaplan_meier_by_group
from celltrial.errors import InvalidInput
from celltrial.reporting.dsmb_data import (
    SubjectCourse,
    consort_counts,
    default_cutoff,
    safety_records,
    subject_courses,
)
from celltrial.reporting.figures import ConsortCounts
from celltrial.reporting.trialdata import TrialData, load_trial_data
from celltrial.study.audit.models import AuditEntry
from celltrial.study.permissions import Action
from celltrial.study.safety import monitoring
from celltrial.study.safety.monitoring import StoppingRuleStatus
from celltrial.study.trial import service as trials
from celltrial.study.users.models import User

__all__ = [
    "AESI_LABELS",
    "KineticsSummaryRow",
    "RateRow",
    "SurvivalEndpoint",
    "TrialAnalyses",
    "analyse",
    "collect",
    "data_version",
    "kinetics_summary",
    "response_rates",
    "survival_by_disease",
    "survival_endpoints",
]


AESI_LABELS = {
    Aesi.CRS: "Cytokine release syndrome",
    Aesi.ICANS: "ICANS",
    Aesi.IEC_HS: "IEC-HS / HLH",
    Aesi.PROLONGED_CYTOPENIA: "Prolonged cytopenia (after day 28)",
    Aesi.INFECTION: "Infection",
    Aesi.T_CELL_APLASIA: "T-cell aplasia",
    Aesi.GVHD: "Graft-versus-host disease",
    Aesi.TLS: "Tumour lysis syndrome",
    Aesi.SECONDARY_MALIGNANCY: "Secondary malignancy",
}
"""How the report and the pages name each adverse event of special interest."""


@dataclass(frozen=True)
class RateRow:
    """One response rate with its exact interval, and which subjects it counts."""

    endpoint: str
    population: str
    estimate: ProportionEstimate | None
    """None when no subject is in the denominator yet."""


@dataclass(frozen=True)
class SurvivalEndpoint:
    """One Kaplan–Meier endpoint; ``summary`` is None without any subject to estimate from."""

    key: str
    name: str
    definition: str
    summary: KaplanMeierSummary | None


@dataclass(frozen=True)
class KineticsSummaryRow:
    """Median and range of one NCA parameter over the subjects where it is defined."""

    parameter: str
    unit: str
    n: int
    median: float | None
    minimum: float | None
    maximum: float | None
    geometric_mean: float | None = None


@dataclass(frozen=True)
class TrialAnalyses:
    """Everything the DSMB report shows, at one data cut-off."""

    nct_id: str
    title: str
    study_status: str
    cutoff: date
    extracted_at: datetime
    extracted_by: str
    draft: bool
    enrolment_cap: int
    consort: ConsortCounts
    courses: tuple[SubjectCourse, ...]
    safety: SafetyTables
    rates: tuple[RateRow, ...]
    subgroup_rates: tuple[RateRow, ...]
    survival: tuple[SurvivalEndpoint, ...]
    survival_by_disease: dict[str, KaplanMeierSummary]
    """Overall survival of the leukaemia and the lymphoma subjects (empty before any infusion)."""
    survival_by_prior_hsct: dict[str, KaplanMeierSummary]
    """Overall survival with and without a prior allo-HSCT (empty before any infusion)."""
    kinetics: dict[str, KineticParameters]
    kinetics_summary: tuple[KineticsSummaryRow, ...]
    lloq: float
    stopping: StoppingRuleStatus
    operating_characteristics: tuple[OperatingCharacteristic, ...]

    def endpoint(self, key: str) -> SurvivalEndpoint:
        return next(endpoint for endpoint in self.survival if endpoint.key == key)


def _rate(endpoint: str, population: str, successes: int, n: int) -> RateRow:
    return RateRow(endpoint, population, clopper_pearson(successes, n) if n else None)


def _day_name(day: int) -> str:
    return f"month {round(day / 30)}" if day >= 60 else f"day {day}"


def response_rates(
    courses: Sequence[SubjectCourse], *, cutoff: date, timepoints: Sequence[int]
) -> tuple[RateRow, ...]:
    """ORR and CR/CRi at each time point, and MRD-negative CR/CRi at the first (see module doc)."""
    rows = []
    for day in timepoints:
        reached = [c for c in courses if (cutoff - c.infusion_date).days >= day]
        found = [c.response_at(day) for c in reached]
        population = f"infused ≥ {day} days before the cut-off (n = {len(reached)})"
        name = _day_name(day)
        objective = sum(1 for r in found if r is not None and r.response in OBJECTIVE_RESPONSES)
        complete = sum(1 for r in found if r is not None and r.response in CR_CRI_RESPONSES)
        rows.append(_rate(f"ORR at {name}", population, objective, len(reached)))
        rows.append(_rate(f"CR/CRi at {name}", population, complete, len(reached)))
    if timepoints:
        day = timepoints[0]
        leukaemia = [c for c in courses if c.disease == "leukemia" and (cutoff - c.infusion_date).days >= day]
        negative = 0
        for course in leukaemia:
            at_day = course.response_at(day)
            negative += bool(at_day and at_day.response in CR_CRI_RESPONSES and at_day.mrd_negative)
        population = f"leukaemia, infused ≥ {day} days before the cut-off (n = {len(leukaemia)})"
        rows.append(_rate(f"MRD-negative CR/CRi at {_day_name(day)}", population, negative, len(leukaemia)))
    return tuple(rows)


def subgroup_rates(courses: Sequence[SubjectCourse], *, cutoff: date, day: int) -> tuple[RateRow, ...]:
    """CR/CRi at ``day`` by disease (lymphoma vs leukaemia) and by prior allo-HSCT."""
    groups: list[tuple[str, Callable[[SubjectCourse], bool]]] = [
        ("leukaemia", lambda c: c.disease == "leukemia"),
        ("lymphoma", lambda c: c.disease == "lymphoma"),
        ("prior allo-HSCT", lambda c: c.prior_hsct),
        ("no prior allo-HSCT", lambda c: not c.prior_hsct),
    ]
    rows = []
    for name, member in groups:
        reached = [c for c in courses if member(c) and (cutoff - c.infusion_date).days >= day]
        complete = 0
        for course in reached:
            found = course.response_at(day)
            complete += bool(found and found.response in CR_CRI_RESPONSES)
        rows.append(
            _rate(f"CR/CRi at {_day_name(day)}", f"{name} (n = {len(reached)})", complete, len(reached))
        )
    return tuple(rows)


def _km(observed: Sequence[tuple[float, bool]], landmarks: Sequence[int]) -> KaplanMeierSummary | None:
    """Kaplan-Meier of (days, event) pairs; None when there are none."""
    if not observed:
        return None
    times, events = [t for t, _ in observed], [e for _, e in observed]
    return kaplan_meier(
        times, events, time_unit=TimeUnit.DAYS, landmarks_months=tuple(float(m) for m in landmarks)
    )


def _efs(course: SubjectCourse, *, censor_at_hsct: bool) -> tuple[float, bool]:
    outcome = course.efficacy
    ends = [day for day in (outcome.progression_day, course.death_day) if day is not None]
    event_day = min(ends, default=None)
    hsct = course.hsct_day
    if censor_at_hsct and hsct is not None and (event_day is None or hsct < event_day):
        return float(hsct), False
    if event_day is not None:
        return float(event_day), True
    assessed = [r.day for r in course.responses if r.response.value != "NE"]
    return float(max(assessed, default=0)), False


def _lfs(course: SubjectCourse, *, censor_at_hsct: bool) -> tuple[float, bool] | None:
    """Leukaemia-free survival from the first CR/CRi; None for a subject never in CR/CRi."""
    start = next((a.day for a in course.efficacy.assessments if a.response in CR_CRI_RESPONSES), None)
    if start is None:
        return None
    outcome = course.efficacy
    ends = [day for day in (outcome.relapse_day, course.death_day) if day is not None and day >= start]
    event_day = min(ends, default=None)
    hsct = course.hsct_day
    if censor_at_hsct and hsct is not None and hsct >= start and (event_day is None or hsct < event_day):
        return float(hsct - start), False
    if event_day is not None:
        return float(event_day - start), True
    assessed = [r.day for r in course.responses if r.response.value != "NE"]
    return float(max([start, *assessed]) - start), False


def survival_endpoints(
    courses: Sequence[SubjectCourse], *, censor_at_hsct: bool, landmarks: Sequence[int]
) -> tuple[SurvivalEndpoint, ...]:
    """OS, EFS (primary and sensitivity HSCT censoring) and DOR (see the module docstring)."""
    overall = [
        (float(c.death_day if c.death_day is not None else c.last_alive_day), c.death_day is not None)
        for c in courses
    ]
    primary = [_efs(c, censor_at_hsct=censor_at_hsct) for c in courses]
    other = [_efs(c, censor_at_hsct=not censor_at_hsct) for c in courses]
    hsct_rule = "censored at allo-HSCT" if censor_at_hsct else "not censored at allo-HSCT"
    other_rule = "not censored at allo-HSCT" if censor_at_hsct else "censored at allo-HSCT"
    lymphoma = [_efs(c, censor_at_hsct=censor_at_hsct) for c in courses if c.disease == "lymphoma"]
    remissions = [_lfs(c, censor_at_hsct=censor_at_hsct) for c in courses if c.disease == "leukemia"]
    leukaemia_free = [found for found in remissions if found is not None]
    durations = []
    for course in courses:
        outcome = course.efficacy
        found = outcome.duration_censored_at_hsct if censor_at_hsct else outcome.duration
        if found is not None:
            durations.append(found)
    return (
        SurvivalEndpoint(
            "os",
            "Overall survival",
            "infusion to death from any cause; alive subjects censored on the last day known alive",
            _km(overall, landmarks),
        ),
        SurvivalEndpoint(
            "efs",
            "Event-free survival",
            "infusion to progression, relapse or death; censored at the last response assessment, "
            f"{hsct_rule} (primary analysis)",
            _km(primary, landmarks),
        ),
        SurvivalEndpoint(
            "efs_sensitivity",
            "Event-free survival, sensitivity analysis",
            f"as the primary analysis, {other_rule}",
            _km(other, landmarks),
        ),
        SurvivalEndpoint(
            "pfs",
            "Progression-free survival (lymphoma)",
            f"lymphoma subjects: infusion to progression or death; {hsct_rule}",
            _km(lymphoma, landmarks),
        ),
        SurvivalEndpoint(
            "lfs",
            "Leukaemia-free survival (leukaemia in CR/CRi)",
            f"leukaemia subjects from their first CR/CRi to relapse or death; {hsct_rule}",
            _km(leukaemia_free, landmarks),
        ),
        SurvivalEndpoint(
            "dor",
            "Duration of response",
            f"first objective response to progression, relapse or death; {hsct_rule}",
            _km([(float(d.days), d.event) for d in durations], landmarks),
        ),
    )


def survival_by_disease(
    courses: Sequence[SubjectCourse], *, landmarks: Sequence[int]
) -> dict[str, KaplanMeierSummary]:
    """Overall survival by disease (leukaemia vs lymphoma), on the same numbers-at-risk months."""
    return _survival_by(courses, [c.disease for c in courses], landmarks=landmarks)


def survival_by_prior_hsct(
    courses: Sequence[SubjectCourse], *, landmarks: Sequence[int]
) -> dict[str, KaplanMeierSummary]:
    """Overall survival with and without an allo-HSCT before the trial (a protocol subgroup)."""
    groups = ["prior allo-HSCT" if c.prior_hsct else "no prior allo-HSCT" for c in courses]
    return _survival_by(courses, groups, landmarks=landmarks)


def _survival_by(
    courses: Sequence[SubjectCourse], groups: list[str], *, landmarks: Sequence[int]
) -> dict[str, KaplanMeierSummary]:
    if not courses:
        return {}
    return kaplan_meier_by_group(
        [float(c.death_day if c.death_day is not None else c.last_alive_day) for c in courses],
        [c.death_day is not None for c in courses],
        groups,
        time_unit=TimeUnit.DAYS,
        landmarks_months=tuple(float(m) for m in landmarks),
    )


def _summary_row(
    parameter: str, unit: str, values: list[float], geometric: bool = False
) -> KineticsSummaryRow:
    if not values:
        return KineticsSummaryRow(parameter, unit, 0, None, None, None)
    positive = [value for value in values if value > 0]
    mean = math.exp(statistics.fmean(math.log(v) for v in positive)) if geometric and positive else None
    return KineticsSummaryRow(
        parameter, unit, len(values), float(statistics.median(values)), min(values), max(values), mean
    )


def kinetics_summary(parameters: dict[str, KineticParameters]) -> tuple[KineticsSummaryRow, ...]:
    """Median (range) of Cmax, Tmax, AUC day 0–28 and Tlast; geometric mean of Cmax and AUC."""
    found = list(parameters.values())
    copies = "copies/µg gDNA"
    return (
        _summary_row("Cmax", copies, [p.cmax for p in found if p.cmax is not None], geometric=True),
        _summary_row("Tmax", "days", [p.tmax for p in found if p.tmax is not None]),
        _summary_row("AUC day 0–28", f"{copies} × days", [p.auc for p in found if p.cmax is not None], True),
        _summary_row("Tlast (persistence)", "days", [p.tlast for p in found if p.tlast is not None]),
    )


def analyse(
    data: TrialData,
    *,
    cutoff: date,
    stopping: StoppingRuleStatus,
    rule: SafetyStoppingRule,
    true_rates: Sequence[float] = DEFAULT_TRUE_RATES,
) -> TrialAnalyses:
    """Every DSMB result of the snapshot ``data`` at ``cutoff``."""
    settings = data.settings.analysis
    courses = subject_courses(data, cutoff=cutoff)
    records, deaths = safety_records(data, cutoff=cutoff)
    lloq = settings.kinetics_lloq_copies_per_ug.value
    kinetics = {
        c.label: noncompartmental([s.day for s in c.kinetics], [s.copies for s in c.kinetics], lloq=lloq)
        for c in courses
        if c.kinetics
    }
    timepoints = settings.response_timepoints_days.value
    return TrialAnalyses(
        nct_id=data.nct_id,
        title=data.title,
        study_status=data.status,
        cutoff=cutoff,
        extracted_at=data.extracted_at,
        extracted_by=data.extracted_by,
        draft=data.draft,
        enrolment_cap=data.settings.enrolment.cap.value,
        consort=consort_counts(data, cutoff=cutoff),
        courses=courses,
        safety=safety_tables(records, other_deaths=deaths),
        rates=response_rates(courses, cutoff=cutoff, timepoints=timepoints),
        subgroup_rates=subgroup_rates(courses, cutoff=cutoff, day=timepoints[0]) if timepoints else (),
        survival=survival_endpoints(
            courses,
            censor_at_hsct=settings.censor_at_consolidative_hsct.value,
            landmarks=settings.landmarks_months.value,
        ),
        survival_by_disease=survival_by_disease(courses, landmarks=settings.landmarks_months.value),
        survival_by_prior_hsct=survival_by_prior_hsct(courses, landmarks=settings.landmarks_months.value),
        kinetics=kinetics,
        kinetics_summary=kinetics_summary(kinetics),
        lloq=lloq,
        stopping=stopping,
        operating_characteristics=operating_characteristics(rule, true_rates),
    )


def collect(
    session: Session, *, by: User, cutoff: date | None = None, nct_id: str | None = None
) -> TrialAnalyses:
    """The trial's analyses at ``cutoff`` (default: the latest clinical date in the database).

    Reads unlocked data too (an interim DSMB review); the report then says it is a draft.
    """
    data = load_trial_data(
        session, by=by, nct_id=nct_id, draft=True, permissions=(Action.SAFETY_VIEW, Action.EFFICACY_VIEW)
    )
    if cutoff is not None and cutoff > data.extracted_on:
        raise InvalidInput(f"the data cut-off {cutoff} is after today ({data.extracted_on})", field="cutoff")
    cut = cutoff or default_cutoff(data)
    trial = trials.the_study(session, nct_id=data.nct_id)
    stopping = monitoring.stopping_rule_status(session, by=by, study_id=trial.id, as_of=cut)
    return analyse(data, cutoff=cut, stopping=stopping, rule=monitoring.stopping_rule(data.settings))


_NOT_TRIAL_DATA = ("export", "user")
"""Audit entities that leave the trial's data as they were: data handed out (exports, DSMB
reports) and accounts (logins, logouts, password and role changes)."""


def data_version(session: Session) -> int:
    """The state of the trial's data: the number of its newest audit entry (0 for none).

    Every change to study data goes through a service that appends to the audit trail in the
    same transaction, so analyses computed at one version stay valid until the next. Entries
    about exports and user accounts are skipped (:data:`_NOT_TRIAL_DATA`).
    """
    newest = (
        select(AuditEntry.id)
        .where(AuditEntry.entity.not_in(_NOT_TRIAL_DATA))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return session.scalar(newest) or 0
