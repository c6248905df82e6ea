"""The analysis data of the DSMB report and the analyses pages, read from one trial snapshot.

:func:`subject_courses` turns a :class:`~celltrial.reporting.trialdata.TrialData` snapshot into
one :class:`SubjectCourse` per infused subject, as it stood at the data cut-off: the efficacy
outcomes of :func:`celltrial.reporting.trialdata.efficacy` (responses derived on the response
CRFs, allo-HSCT, death) recomputed from what was known by the cut-off, a death known only from
a fatal adverse event, kinetics samples, daily CRS/ICANS grades and the last day the subject was
known alive. Nothing dated after the cut-off is used. :func:`consort_counts` and
:func:`safety_records` give the CONSORT flow and the inputs of the safety tables at the cut-off.

Conventions (stated in the report):

- Day 0 is the day of CAR-T infusion; the safety and efficacy populations are the infused
  subjects (infusion on or before the cut-off).
- Responses are those the response CRF derived from its components (ELN 2017 / NCCN ALL for
  leukaemia, Lugano 2014 for lymphoma); an assessment belongs to the time point of its visit.
- Last known alive: the latest dated record of the subject (visit, CRF date, assessment, AE,
  last contact on the disposition CRF) up to the cut-off; a death after the cut-off is not seen.
- Kinetics: days since the infusion start (infusion CRF, else the first bag infused); samples
  before the infusion are left out; a sample below the LLOQ is entered as 0 (the NCA rule
  handles it); samples entered twice for the same time are averaged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from celltrial.analysis.episodes import DailyGrades
from celltrial.analysis.response import Response
from celltrial.analysis.safety_events import AdverseEventFacts, Aesi, Outcome, Relatedness, Seriousness
from celltrial.analysis.safety_tables import DeathRecord, SubjectSafetyRecord
from celltrial.analysis.subject_efficacy import SubjectEfficacy, subject_efficacy
from celltrial.reporting.figures import ConsortCounts
from celltrial.reporting.trialdata import AdverseEventRecord, SubjectRecord, TrialData, efficacy

__all__ = [
    "KineticsSample",
    "ResponseAssessment",
    "SubjectCourse",
    "consort_counts",
    "default_cutoff",
    "infused_by",
    "safety_records",
    "subject_courses",
]

_LEUKAEMIA_DIAGNOSES = frozenset({"t_cell_all", "cd7_positive_aml"})


@dataclass(frozen=True)
class ResponseAssessment:
    """A response assessment: study day, the nominal day of its visit, category, flow MRD."""

    day: int
    visit_day: int | None
    response: Response
    mrd_negative: bool | None


@dataclass(frozen=True)
class KineticsSample:
    """A peripheral-blood CAR transgene measurement (0 when below the LLOQ)."""

    day: float
    copies: float
    below_lloq: bool


@dataclass(frozen=True)
class SubjectCourse:
    """An infused subject's course from the infusion to the data cut-off."""

    subject_id: int
    label: str
    disease: str
    """``leukemia`` or ``lymphoma`` (``unknown`` without a screening diagnosis)."""
    prior_hsct: bool
    infusion_date: date
    responses: tuple[ResponseAssessment, ...]
    death_day: int | None
    death_cause: str | None
    hsct_day: int | None
    last_alive_day: int
    follow_up_ended: bool
    """Follow-up ended before the cut-off (death, withdrawal, loss, completion)."""
    kinetics: tuple[KineticsSample, ...]
    safety_days: tuple[DailyGrades, ...]
    efficacy: SubjectEfficacy
    """Best response, progression, relapse, duration of response, at the cut-off."""

    def response_at(self, visit_day: int) -> ResponseAssessment | None:
        """The assessment of the visit with nominal day ``visit_day`` (None: not done)."""
        return next((r for r in self.responses if r.visit_day == visit_day), None)


def _on_or_before(text: object, cutoff: date) -> date | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return value if value <= cutoff else None


def _instant(text: object) -> datetime | None:
    """An ISO 8601 instant as a naive UTC datetime (None when missing or malformed)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def default_cutoff(data: TrialData) -> date:
    """The latest date of any clinical record in the snapshot (the data as entered so far)."""
    dates: list[date] = [s.screening_date for s in data.screenings]
    dates += [v.actual_date for v in data.visits if v.actual_date is not None]
    dates += [a.assessment_date for a in data.assessments]
    dates += [e.onset_date for e in data.adverse_events]
    dates += [s.infusion_date for s in data.subjects if s.infusion_date is not None]
    return max(dates, default=data.extracted_on)


def _disease(data: TrialData, subject_id: int) -> str:
    screening = data.latest_form("screening", subject_id)
    if screening is not None and "diagnosis" in screening.data:
        return "leukemia" if screening.data["diagnosis"] in _LEUKAEMIA_DIAGNOSES else "lymphoma"
    first = next(iter(data.forms_of("response", subject_id)), None)
    return str(first.data.get("disease_type", "unknown")) if first is not None else "unknown"


def _visit_days(data: TrialData) -> dict[str, int]:
    """The nominal day after infusion of each scheduled visit anchored on the infusion."""
    return {v.code: v.day for v in data.settings.schedule.visits if str(v.anchor) == "infusion"}


def _at_cutoff(outcome: SubjectEfficacy | None, last_day: int) -> SubjectEfficacy:
    """The subject's efficacy outcomes from what was known ``last_day`` days after infusion."""
    if outcome is None:
        return subject_efficacy(())
    kept = [a for a in outcome.assessments if a.day <= last_day]
    hsct = outcome.hsct_day if outcome.hsct_day is not None and outcome.hsct_day <= last_day else None
    death = outcome.death_day if outcome.death_day is not None and outcome.death_day <= last_day else None
    return subject_efficacy(kept, hsct_day=hsct, death_day=death)


def _responses(outcome: SubjectEfficacy, visit_days: dict[str, int]) -> tuple[ResponseAssessment, ...]:
    return tuple(
        ResponseAssessment(
            day=a.day,
            visit_day=visit_days.get(a.visit) if a.visit else None,
            response=a.response,
            mrd_negative=a.mrd_negative,
        )
        for a in outcome.assessments
    )


def _fatal_events(data: TrialData, subject_id: int, cutoff: date) -> list[AdverseEventRecord]:
    return [
        e
        for e in data.adverse_events
        if e.subject_id == subject_id
        and (e.grade == 5 or e.outcome == Outcome.FATAL.value)
        and (e.resolution_date or e.onset_date) <= cutoff
    ]


def _fatal_event_death(data: TrialData, subject: SubjectRecord, cutoff: date) -> tuple[date, str] | None:
    fatal = _fatal_events(data, subject.id, cutoff)
    if not fatal:
        return None
    first = min(fatal, key=lambda e: e.resolution_date or e.onset_date)
    return first.resolution_date or first.onset_date, first.term


def _death_cause(data: TrialData, subject_id: int) -> str | None:
    form = data.latest_form("death", subject_id)
    return None if form is None else str(form.data.get("primary_cause", "unknown")).replace("_", " ")


def _prior_hsct(data: TrialData, subject_id: int) -> bool:
    return any(
        form.data.get("therapy_type") == "allogeneic_hsct"
        for form in data.forms_of("prior_therapy", subject_id)
    )


def _last_alive(data: TrialData, subject: SubjectRecord, cutoff: date) -> date:
    assert subject.infusion_date is not None
    dates = [subject.infusion_date]
    dates += [v.actual_date for v in data.visits if v.subject_id == subject.id and v.actual_date is not None]
    dates += [a.assessment_date for a in data.assessments if a.subject_id == subject.id]
    dates += [e.onset_date for e in data.adverse_events if e.subject_id == subject.id]
    disposition = data.latest_form("disposition", subject.id)
    if disposition is not None:
        contact = _on_or_before(disposition.data.get("last_contact_date"), cutoff)
        dates += [contact] if contact is not None else []
    return max(day for day in dates if day <= cutoff)


def _infusion_start(data: TrialData, subject: SubjectRecord) -> datetime:
    assert subject.infusion_date is not None
    form = data.latest_form("infusion", subject.id)
    start = _instant(form.data.get("infusion_datetime")) if form is not None else None
    if start is None:
        bags = [
            infused
            for product in data.products
            if product.subject_id == subject.id
            for _din, infused in product.infused_bags
        ]
        start = _instant(min(bags).isoformat()) if bags else None
    return start or datetime.combine(subject.infusion_date, time())


def _kinetics(data: TrialData, subject: SubjectRecord, cutoff: date) -> tuple[KineticsSample, ...]:
    start = _infusion_start(data, subject)
    samples: dict[float, list[float]] = {}
    for form in data.forms_of("kinetics_sample", subject.id):
        taken = _instant(form.data.get("sample_datetime"))
        if form.data.get("sample_type") != "peripheral_blood" or taken is None or taken.date() > cutoff:
            continue
        day = (taken - start).total_seconds() / 86400
        if day < 0:
            continue
        below = bool(form.data.get("below_lloq"))
        copies = 0.0 if below else float(form.data.get("car_copies") or 0.0)
        samples.setdefault(round(day, 3), []).append(copies)
    return tuple(
        KineticsSample(day=day, copies=sum(values) / len(values), below_lloq=not any(values))
        for day, values in sorted(samples.items())
    )


def _safety_days(data: TrialData, subject_id: int, cutoff: date) -> tuple[DailyGrades, ...]:
    return tuple(
        DailyGrades(
            day=a.assessment_date,
            crs_grade=a.crs_grade,
            icans_grade=a.icans_grade,
            tocilizumab_given=a.tocilizumab_given,
            corticosteroids_given=a.corticosteroids_given,
        )
        for a in data.assessments
        if a.subject_id == subject_id and a.assessment_date <= cutoff
    )


_ENDED = frozenset({"died", "withdrawn", "lost_to_follow_up", "completed"})


def infused_by(data: TrialData, cutoff: date) -> list[SubjectRecord]:
    """The safety population at the cut-off: subjects infused on or before it, by infusion date."""
    found = [s for s in data.subjects if s.infusion_date is not None and s.infusion_date <= cutoff]
    return sorted(found, key=lambda s: (s.infusion_date or cutoff, s.label))


def subject_courses(data: TrialData, *, cutoff: date) -> tuple[SubjectCourse, ...]:
    """Every infused subject's course at the cut-off, in order of infusion."""
    courses = []
    outcomes = efficacy(data)
    visit_days = _visit_days(data)
    for subject in infused_by(data, cutoff):
        assert subject.infusion_date is not None
        outcome = _at_cutoff(outcomes.get(subject.id), (cutoff - subject.infusion_date).days)
        death_day, cause = outcome.death_day, _death_cause(data, subject.id)
        if death_day is None:
            fatal = _fatal_event_death(data, subject, cutoff)
            if fatal is not None:
                death_day, cause = (fatal[0] - subject.infusion_date).days, fatal[1]
                outcome = subject_efficacy(
                    outcome.assessments, hsct_day=outcome.hsct_day, death_day=death_day
                )
        last_alive = (
            death_day
            if death_day is not None
            else (_last_alive(data, subject, cutoff) - subject.infusion_date).days
        )
        ended = death_day is not None or (
            subject.status in _ENDED and subject.status_changed_at.date() <= cutoff
        )
        courses.append(
            SubjectCourse(
                subject_id=subject.id,
                label=subject.label,
                disease=_disease(data, subject.id),
                prior_hsct=_prior_hsct(data, subject.id),
                infusion_date=subject.infusion_date,
                responses=_responses(outcome, visit_days),
                death_day=death_day,
                death_cause=cause if death_day is not None else None,
                hsct_day=outcome.hsct_day,
                last_alive_day=last_alive,
                follow_up_ended=ended,
                kinetics=_kinetics(data, subject, cutoff),
                safety_days=_safety_days(data, subject.id, cutoff),
                efficacy=outcome,
            )
        )
    return tuple(courses)


def consort_counts(data: TrialData, *, cutoff: date, evaluable_after_days: int = 28) -> ConsortCounts:
    """The CONSORT flow at the cut-off.

    Screened: a screening on or before the cut-off. A screen failure is counted once, under the
    first criterion that excluded the patient at their last screening; the other patients not
    enrolled are still in screening (or eligible, not yet enrolled) or withdrew before enrolment.
    Apheresed: a collection on or before the cut-off; manufactured: a manufacturing lot was made
    from it; evaluable: infused at least ``evaluable_after_days`` days before the cut-off, or died
    earlier.
    """
    last_screening = {}
    for screening in sorted(data.screenings, key=lambda s: (s.screening_date, s.attempt)):
        if screening.screening_date <= cutoff:
            last_screening[screening.subject_id] = screening
    enrolled = {s.id for s in data.subjects if s.enrolment_date is not None and s.enrolment_date <= cutoff}
    failures: Counter[str] = Counter()
    other: Counter[str] = Counter()
    subjects = {s.id: s for s in data.subjects}
    for subject_id, screening in last_screening.items():
        if subject_id in enrolled:
            continue
        withdrawn = subjects[subject_id].consent_withdrawn_at
        if screening.decision == "ineligible" and screening.excluded_by:
            failures[screening.excluded_by[0]] += 1
        elif withdrawn is not None and withdrawn.date() <= cutoff:
            other["withdrew before enrolment"] += 1
        elif screening.decision == "ineligible":
            failures["not eligible"] += 1
        else:
            other["in screening or not yet enrolled"] += 1
    infused = {s.id for s in infused_by(data, cutoff)}
    manufactured = {p.subject_id for p in data.products if p.lot_number and p.collected_at.date() <= cutoff}
    apheresed = {p.subject_id for p in data.products if p.collected_at.date() <= cutoff}
    courses = {c.subject_id: c for c in subject_courses(data, cutoff=cutoff)}
    evaluable = {
        subject_id
        for subject_id, course in courses.items()
        if (cutoff - course.infusion_date).days >= evaluable_after_days or course.death_day is not None
    }
    manufactured |= infused
    apheresed |= manufactured
    return ConsortCounts(
        screened=len(set(last_screening) | enrolled),
        screen_failures=dict(sorted(failures.items())),
        enrolled=len(enrolled),
        apheresed=len(apheresed & enrolled),
        manufactured=len(manufactured & enrolled),
        infused=len(infused & enrolled),
        evaluable=len(evaluable & enrolled),
        not_enrolled_other=dict(sorted(other.items())),
    )


def _facts(event: AdverseEventRecord, cutoff: date) -> AdverseEventFacts:
    resolved = event.resolution_date if event.resolution_date and event.resolution_date <= cutoff else None
    outcome = Outcome(event.outcome)
    if event.resolution_date is not None and resolved is None:
        outcome = Outcome.NOT_RECOVERED  # resolved after the cut-off: ongoing at it
    return AdverseEventFacts(
        subject_id=event.subject_id,
        term=event.term,
        soc=event.soc,
        grade=event.grade,
        onset=event.onset_date,
        resolved_on=resolved,
        serious=event.serious,
        seriousness=frozenset(Seriousness(code) for code in event.seriousness),
        related_to_cart=Relatedness(event.related_to_cart),
        related_to_lymphodepletion=Relatedness(event.related_to_lymphodepletion),
        outcome=outcome,
        aesi=frozenset(Aesi(code) for code in event.aesi),
        event_id=event.id,
    )


def _known_at(event: AdverseEventRecord, cutoff: date) -> bool:
    """Began by the cut-off; a fatal event only when the death too was by then."""
    fatal = event.grade == 5 or event.outcome == Outcome.FATAL.value
    return (event.resolution_date or event.onset_date) <= cutoff if fatal else event.onset_date <= cutoff


def safety_records(data: TrialData, *, cutoff: date) -> tuple[list[SubjectSafetyRecord], list[DeathRecord]]:
    """The safety population's adverse events and daily CRS/ICANS grades at the cut-off.

    Events with an onset after the cut-off are left out; an event resolved after it is ongoing
    at it; a fatal event whose death falls after the cut-off is left out (its grade before the
    death is not recorded). A death known from the death CRF without a fatal adverse event is listed
    with the CRF's primary cause.
    """
    records, deaths = [], []
    for course in subject_courses(data, cutoff=cutoff):
        events = tuple(
            _facts(e, cutoff)
            for e in data.adverse_events
            if e.subject_id == course.subject_id and _known_at(e, cutoff)
        )
        records.append(
            SubjectSafetyRecord(
                subject_id=course.subject_id,
                label=course.label,
                infusion_date=course.infusion_date,
                adverse_events=events,
                assessments=course.safety_days,
            )
        )
        if course.death_day is not None and not any(e.fatal for e in events):
            form = data.latest_form("death", course.subject_id)
            related = form is not None and form.data.get("relationship_to_cart") in (
                "possible",
                "probable",
                "definite",
            )
            deaths.append(
                DeathRecord(
                    subject_id=course.subject_id,
                    on=course.infusion_date + timedelta(days=course.death_day),
                    cause=course.death_cause or "unknown",
                    treatment_related=related,
                )
            )
    return records, deaths
