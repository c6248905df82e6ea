"""Adverse events and daily CRS/ICANS assessments: record, correct, list.

Every write checks the user's role and site (``safety.report``), that the subject consented and
was enrolled, that their data are not locked, and writes the audit trail in the same
transaction; a refused write changes nothing. A serious adverse event opens its SAE reporting
record (:mod:`celltrial.study.safety.reports`) in the same transaction. CRS and ICANS grades are
computed by the ASTCT calculators from the assessment's inputs, never entered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.analysis.safety_events import ActionTaken, Aesi, Outcome, Seriousness
from celltrial.clinical.crs import grade_crs, parse_crs_assessment
from celltrial.clinical.icans import grade_icans, parse_icans_assessment
from celltrial.errors import Conflict, InvalidInput, NotFound, StaleVersion
from celltrial.protocol.settings import ProtocolSettings
from celltrial.study.audit import service as audit
from celltrial.study.consent.service import first_consent_date
from celltrial.study.safety.access import ensure_may_read, subject_for_entry, today
from celltrial.study.safety.checks import AdverseEventState, canonical_soc, check_adverse_event
from celltrial.study.safety.models import AdverseEvent, CrsIcansAssessment, SeriousAdverseEvent
from celltrial.study.safety.schemas import (
    COMPUTED_FIELDS,
    AdverseEventCreate,
    AdverseEventUpdate,
    CrsIcansAssessmentCreate,
    parse,
)
from celltrial.study.subjects.models import Subject
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "adverse_events",
    "assessments",
    "correct_assessment",
    "get_adverse_event_or_raise",
    "record_adverse_event",
    "record_assessment",
    "update_adverse_event",
]

_EVENT_FIELDS = (
    "term",
    "meddra_code",
    "soc",
    "grade",
    "ctcae_version",
    "onset_date",
    "resolution_date",
    "serious",
    "seriousness",
    "related_to_cart",
    "related_to_lymphodepletion",
    "action_taken",
    "outcome",
    "aesi",
)
_CRS_INPUTS = ("temperature_c", "fever_masked", "hypotension", "hypoxia", "death_due_to_crs")
_ICANS_INPUTS = (
    "ice_score",
    "consciousness",
    "seizure",
    "motor_weakness",
    "cerebral_edema",
    "death_due_to_icans",
)


def _codes(values: frozenset[Any]) -> list[str]:
    return sorted(str(value.value) for value in values)


def _instant(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"{value.isoformat()} has no time zone", field=field)
    if value > utcnow():
        raise InvalidInput(f"{value.isoformat()} is in the future", field=field)
    return value


def _state(values: dict[str, Any]) -> AdverseEventState:
    return AdverseEventState(
        grade=values["grade"],
        onset_date=values["onset_date"],
        resolution_date=values["resolution_date"],
        serious=values["serious"],
        seriousness=frozenset(values["seriousness"]),
        outcome=values["outcome"],
        action_taken=frozenset(values["action_taken"]),
        aesi=frozenset(values["aesi"]),
    )


def _check(session: Session, subject: Subject, values: dict[str, Any]) -> None:
    check_adverse_event(
        _state(values),
        today=today(),
        consent_date=first_consent_date(session, subject_id=subject.id),
        infusion_date=subject.infusion_date,
    )


def record_adverse_event(
    session: Session, *, by: User, subject_id: int, event: AdverseEventCreate | dict[str, Any]
) -> AdverseEvent:
    """Record an adverse event; a serious one opens its SAE record with the site's awareness time."""
    data = parse(AdverseEventCreate, event)
    subject = subject_for_entry(session, subject_id=subject_id, by=by)
    values = data.model_dump(exclude={"site_awareness_at"})
    values["soc"] = canonical_soc(data.soc)
    _check(session, subject, values)
    if data.serious and data.site_awareness_at is None:
        raise InvalidInput(
            "a serious event needs the time the site became aware of it", field="site_awareness_at"
        )
    if not data.serious and data.site_awareness_at is not None:
        raise InvalidInput("the awareness time is for serious events only", field="site_awareness_at")
    settings = trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id))
    row = AdverseEvent(
        subject_id=subject.id,
        term=data.term,
        meddra_code=data.meddra_code,
        soc=values["soc"],
        grade=data.grade,
        ctcae_version=data.ctcae_version or settings.safety.ctcae_version.value,
        onset_date=data.onset_date,
        resolution_date=data.resolution_date,
        serious=data.serious,
        seriousness=_codes(data.seriousness),
        related_to_cart=data.related_to_cart,
        related_to_lymphodepletion=data.related_to_lymphodepletion,
        action_taken=_codes(data.action_taken),
        outcome=data.outcome,
        aesi=_codes(data.aesi),
        created_by_id=by.id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="adverse_event",
        entity_id=row.id,
        new=_snapshot(row),
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    if data.serious:
        assert data.site_awareness_at is not None
        _open_sae(session, by=by, subject=subject, event=row, awareness=data.site_awareness_at)
    return row


def _snapshot(row: AdverseEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _EVENT_FIELDS}


def _open_sae(
    session: Session, *, by: User, subject: Subject, event: AdverseEvent, awareness: datetime
) -> None:
    awareness = _instant(awareness, "site_awareness_at")
    sae = SeriousAdverseEvent(adverse_event_id=event.id, subject_id=subject.id, site_awareness_at=awareness)
    session.add(sae)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="serious_adverse_event",
        entity_id=sae.id,
        new={"adverse_event_id": event.id, "site_awareness_at": awareness},
        subject_id=subject.id,
        site_id=subject.site_id,
    )


def get_adverse_event_or_raise(session: Session, *, event_id: int) -> AdverseEvent:
    row = session.get(AdverseEvent, event_id)
    if row is None:
        raise NotFound(f"no adverse event with id {event_id}", field="adverse_event")
    return row


def update_adverse_event(
    session: Session,
    *,
    by: User,
    event_id: int,
    changes: AdverseEventUpdate | dict[str, Any],
    version: int,
    reason: str,
    site_awareness_at: datetime | None = None,
) -> AdverseEvent:
    """Change a saved adverse event; each changed field is audited with the reason."""
    update = parse(AdverseEventUpdate, changes)
    row = get_adverse_event_or_raise(session, event_id=event_id)
    subject = subject_for_entry(session, subject_id=row.subject_id, by=by, what="adverse event")
    if not reason or not reason.strip():
        raise InvalidInput("a reason for change is required", field="reason")
    if row.version != version:
        raise StaleVersion(
            f"adverse event {row.id} was changed by someone else "
            f"(version {row.version}, you edited {version})",
            field="version",
        )
    given = update.model_dump(exclude_unset=True)
    if not given:
        raise InvalidInput("nothing to change", field="changes")
    if "soc" in given:
        given["soc"] = canonical_soc(given["soc"])
    for listed in ("seriousness", "action_taken", "aesi"):
        if listed in given:
            given[listed] = _codes(given[listed])
    current = _snapshot(row)
    merged = {**current, **given}
    _check(session, subject, _with_enums(merged))
    sae = session.scalar(select(SeriousAdverseEvent).where(SeriousAdverseEvent.adverse_event_id == row.id))
    if merged["serious"] and sae is None and site_awareness_at is None:
        raise InvalidInput(
            "a serious event needs the time the site became aware of it", field="site_awareness_at"
        )
    if not merged["serious"] and sae is not None:
        raise Conflict("this event has an SAE record; it cannot become non-serious here", field="serious")
    changed = {name: value for name, value in given.items() if current[name] != value}
    for name, value in changed.items():
        setattr(row, name, value)
        audit.record(
            session,
            actor=by.username,
            action="update",
            entity="adverse_event",
            entity_id=row.id,
            field=name,
            old=current[name],
            new=value,
            reason=reason.strip(),
            subject_id=subject.id,
            site_id=subject.site_id,
        )
    if changed:
        row.version += 1
    if merged["serious"] and sae is None:
        assert site_awareness_at is not None
        _open_sae(session, by=by, subject=subject, event=row, awareness=site_awareness_at)
    session.flush()
    return row


def _with_enums(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "outcome": Outcome(values["outcome"]),
        "seriousness": [Seriousness(code) for code in values["seriousness"]],
        "action_taken": [ActionTaken(code) for code in values["action_taken"]],
        "aesi": [Aesi(code) for code in values["aesi"]],
    }


def adverse_events(session: Session, *, by: User, subject_id: int) -> list[AdverseEvent]:
    """A subject's adverse events, by onset."""
    subject = ensure_may_read(session, subject_id=subject_id, by=by)
    query = select(AdverseEvent).where(AdverseEvent.subject_id == subject.id)
    return list(session.scalars(query.order_by(AdverseEvent.onset_date, AdverseEvent.id)))


# -- daily CRS / ICANS assessment --------------------------------------------------------------


def _settings(session: Session, subject: Subject) -> ProtocolSettings:
    return trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id))


def _grade(subject: Subject, data: CrsIcansAssessmentCreate, settings: ProtocolSettings) -> dict[str, Any]:
    raw = data.model_dump(mode="json")
    crs = grade_crs(parse_crs_assessment({name: raw[name] for name in _CRS_INPUTS}))
    age = subject.age_on(data.assessment_date)
    inputs = {"age_years": age, **{name: raw[name] for name in _ICANS_INPUTS}}
    if "capd_score" in data.model_fields_set:  # a child's; left out, the calculator asks for it
        inputs["capd_score"] = raw["capd_score"]
    icans = grade_icans(
        parse_icans_assessment(inputs),
        capd_max_age_years=settings.safety.capd_max_age_years.value,
    )
    return {
        "crs_grade": crs.grade,
        "crs_drivers": list(crs.drivers),
        "icans_grade": icans.grade,
        "icans_drivers": list(icans.drivers),
    }


def _check_day(session: Session, subject: Subject, data: CrsIcansAssessmentCreate) -> None:
    if subject.infusion_date is None:
        raise Conflict(
            f"subject {subject.label} has no infusion recorded: CRS/ICANS is assessed after it",
            field="subject",
        )
    day = data.assessment_date
    if day < subject.infusion_date:
        raise InvalidInput(
            f"{day} is before the infusion on {subject.infusion_date}", field="assessment_date"
        )
    if day > today():
        raise InvalidInput(f"{day} is in the future", field="assessment_date")
    settings = trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id))
    last_daily = settings.schedule.daily_crs_icans_days.value[-1]
    study_day = (day - subject.infusion_date).days
    if study_day > last_daily and not data.symptomatic:
        raise InvalidInput(
            f"day {study_day} is after the daily assessments (days 0-{last_daily}): "
            "record it only when the subject is symptomatic (symptomatic: true)",
            field="symptomatic",
        )


def record_assessment(
    session: Session, *, by: User, subject_id: int, assessment: CrsIcansAssessmentCreate | dict[str, Any]
) -> CrsIcansAssessment:
    """Record one day's CRS/ICANS assessment; the ASTCT grades are computed and saved with it."""
    data = parse(CrsIcansAssessmentCreate, assessment)
    subject = subject_for_entry(session, subject_id=subject_id, by=by)
    _check_day(session, subject, data)
    grades = _grade(
        subject, data, trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id))
    )
    taken = session.scalar(
        select(CrsIcansAssessment.id).where(
            CrsIcansAssessment.subject_id == subject.id,
            CrsIcansAssessment.assessment_date == data.assessment_date,
        )
    )
    if taken is not None:
        raise Conflict(
            f"subject {subject.label} already has an assessment on {data.assessment_date} "
            f"(id {taken}); correct it",
            field="assessment_date",
        )
    row = CrsIcansAssessment(subject_id=subject.id, created_by_id=by.id, **data.model_dump(), **grades)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="crs_icans_assessment",
        entity_id=row.id,
        new={**data.model_dump(mode="json"), **grades},
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return row


def correct_assessment(
    session: Session, *, by: User, assessment_id: int, changes: dict[str, Any], version: int, reason: str
) -> CrsIcansAssessment:
    """Correct a saved assessment's inputs; the grades are computed again and the change audited."""
    row = session.get(CrsIcansAssessment, assessment_id)
    if row is None:
        raise NotFound(f"no CRS/ICANS assessment with id {assessment_id}", field="assessment")
    subject = subject_for_entry(session, subject_id=row.subject_id, by=by, what="assessment")
    if not reason or not reason.strip():
        raise InvalidInput("a reason for change is required", field="reason")
    if row.version != version:
        raise StaleVersion(
            f"assessment {row.id} was changed by someone else (version {row.version}, you edited {version})",
            field="version",
        )
    fields = list(CrsIcansAssessmentCreate.model_fields)
    current = {name: getattr(row, name) for name in fields}
    data = parse(CrsIcansAssessmentCreate, {**current, **_no_computed(changes)})
    _check_day(session, subject, data)
    grades = _grade(
        subject, data, trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id))
    )
    new = {**data.model_dump(), **grades}
    old = {**current, **{name: getattr(row, name) for name in grades}}
    for name, value in new.items():
        if old[name] != value:
            setattr(row, name, value)
            audit.record(
                session,
                actor=by.username,
                action="update",
                entity="crs_icans_assessment",
                entity_id=row.id,
                field=name,
                old=old[name],
                new=value,
                reason=reason.strip(),
                subject_id=subject.id,
                site_id=subject.site_id,
            )
    row.version += 1
    session.flush()
    return row


def _no_computed(changes: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise InvalidInput("changes must be an object of assessment fields", field="changes")
    typed = sorted(COMPUTED_FIELDS & changes.keys())
    if typed:
        raise InvalidInput("the grade is computed from the assessment, never entered", field=typed[0])
    return changes


def assessments(session: Session, *, by: User, subject_id: int) -> list[CrsIcansAssessment]:
    """A subject's daily CRS/ICANS assessments, by date."""
    subject = ensure_may_read(session, subject_id=subject_id, by=by)
    query = select(CrsIcansAssessment).where(CrsIcansAssessment.subject_id == subject.id)
    return list(session.scalars(query.order_by(CrsIcansAssessment.assessment_date)))
