"""Safety after the infusion: daily CRS/ICANS assessments, adverse events, SAE reports, DLT, stopping rule.

The investigator enters each day's ASTCT inputs (temperature, hypotension, hypoxia, ICE score,
consciousness...) and the safety service grades them. Each adverse event is recorded when the
site learns of it, still ongoing, and updated with its end; a serious one opens its SAE record,
reported to the sponsor within hours, and the sponsor assesses its expectedness. At day 28 the
investigator confirms the DLT evaluation and the sponsor reads the stopping rule, suspending
recruitment when it says stop.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.simulate.outcomes import TreatmentOutcome, crs_grade_on, icans_grade_on
from celltrial.simulate.world import Journey, World, at
from celltrial.study.safety import monitoring, reports
from celltrial.study.safety import service as safety
from celltrial.study.safety.models import CrsIcansAssessment, SeriousAdverseEvent
from celltrial.study.trial import service as trials

__all__ = ["assess", "plan_adverse_events", "record_death_event", "review_dlt"]

_CRS_INPUTS: dict[int, dict[str, Any]] = {
    0: {"temperature_c": 37.0, "hypotension": "none", "hypoxia": "none"},
    1: {"temperature_c": 38.6, "hypotension": "none", "hypoxia": "none"},
    2: {"temperature_c": 39.0, "hypotension": "no_vasopressor", "hypoxia": "low_flow"},
    3: {"temperature_c": 39.4, "hypotension": "one_vasopressor", "hypoxia": "high_flow"},
    4: {"temperature_c": 39.8, "hypotension": "multiple_vasopressors", "hypoxia": "positive_pressure"},
}
_ICANS_INPUTS: dict[int, dict[str, Any]] = {
    0: {"ice_score": 10, "consciousness": "normal"},
    1: {"ice_score": 8, "consciousness": "awakens_spontaneously"},
    2: {"ice_score": 5, "consciousness": "awakens_to_voice"},
    3: {"ice_score": 2, "consciousness": "awakens_to_tactile"},
    4: {"ice_score": None, "consciousness": "unarousable"},
}
_CAUSE_EVENTS = {
    "disease_progression": (
        "Disease progression",
        "General disorders and administration site conditions",
        "not_related",
    ),
    "infection": ("Sepsis", "Infections and infestations", "possible"),
    "crs": ("Cytokine release syndrome", "Immune system disorders", "definite"),
}


def assess(session: Session, world: World, journey: Journey, day: int) -> CrsIcansAssessment:
    """The investigator's CRS/ICANS assessment ``day`` days after infusion, graded by the service."""
    outcome = journey.course.treatment if journey.course else None
    assert outcome is not None
    assert journey.subject_id is not None
    crs, icans = crs_grade_on(outcome, day), icans_grade_on(outcome, day)
    treated_crs = crs >= 2 or (crs >= 1 and day > outcome.crs_onset + 1 and outcome.crs_max >= 2)
    inputs = {
        "assessment_date": journey.day(day).isoformat(),
        "symptomatic": day > world.settings.schedule.daily_crs_icans_days.value[-1],
        **_CRS_INPUTS[crs],
        "fever_masked": False,
        **_ICANS_INPUTS[icans],
        "seizure": "none",
        "motor_weakness": False,
        "cerebral_edema": "none",
        "tocilizumab_given": treated_crs,
        "corticosteroids_given": icans >= 2 or crs >= 3,
    }
    row = safety.record_assessment(
        session, by=world.site_staff(journey).investigator, subject_id=journey.subject_id, assessment=inputs
    )
    world.tally["CRS/ICANS assessments"] += 1
    return row


def _event(
    world: World,
    journey: Journey,
    *,
    term: str,
    soc: str,
    grade: int,
    onset: date,
    end: date,
    related: str,
    related_ld: str = "unlikely",
    serious: list[str] | None = None,
    aesi: list[str] | None = None,
    actions: list[str] | None = None,
) -> None:
    """Plan an adverse event: recorded the day after onset as ongoing, updated when it ends."""
    noticed = onset + timedelta(days=1) if grade < 3 else onset

    def record(session: Session) -> None:
        by = world.site_staff(journey).investigator
        event: dict[str, Any] = {
            "term": term,
            "soc": soc,
            "grade": grade,
            "onset_date": onset.isoformat(),
            "serious": bool(serious),
            "seriousness": serious or [],
            "related_to_cart": related,
            "related_to_lymphodepletion": related_ld,
            "action_taken": actions or ["none"],
            "outcome": "recovering",
            "aesi": [code for code in aesi or [] if code != "prolonged_cytopenia"],
        }
        if serious:
            event["site_awareness_at"] = at(noticed, 18).isoformat()
        assert journey.subject_id is not None
        row = safety.record_adverse_event(session, by=by, subject_id=journey.subject_id, event=event)
        world.tally["adverse events"] += 1
        if serious:
            _report(session, world, journey, row.id, noticed, expected=term != "Sepsis")

        def close(later: Session) -> None:
            changes: dict[str, Any] = {"resolution_date": end.isoformat(), "outcome": "recovered"}
            if aesi and "prolonged_cytopenia" in aesi:
                changes["aesi"] = aesi
            safety.update_adverse_event(
                later,
                by=by,
                event_id=row.id,
                changes=changes,
                version=row.version,
                reason="the event resolved",
            )

        world.plan(journey, end + timedelta(days=1), 12, close)

    world.plan(journey, noticed, 18, record)


def _report(
    session: Session, world: World, journey: Journey, event_id: int, noticed: date, *, expected: bool
) -> None:

    sae_id = session.scalar(
        select(SeriousAdverseEvent.id).where(SeriousAdverseEvent.adverse_event_id == event_id)
    )
    assert sae_id is not None
    by = world.site_staff(journey).investigator
    reports.record_sponsor_report(session, by=by, sae_id=sae_id, reported_at=at(noticed, 22))
    world.tally["SAEs reported"] += 1

    def assess_expectedness(later: Session) -> None:
        reports.assess_expectedness(later, by=world.staff.sponsor, sae_id=sae_id, expected=expected)

    world.plan(journey, noticed + timedelta(days=1), 11, assess_expectedness)


def plan_adverse_events(world: World, journey: Journey, outcome: TreatmentOutcome) -> None:
    """Plan the course's CRS, ICANS, cytopenia and infection as adverse events."""
    if outcome.crs_max and not _dies_of(outcome, "crs"):
        onset = journey.day(outcome.crs_onset)
        serious = ["hospitalisation", "life_threatening"] if outcome.crs_max >= 3 else None
        actions = ["tocilizumab"] + (["corticosteroids", "icu_admission"] if outcome.crs_max >= 3 else [])
        _event(
            world,
            journey,
            term="Cytokine release syndrome",
            soc="Immune system disorders",
            grade=outcome.crs_max,
            onset=onset,
            end=onset + timedelta(days=outcome.crs_days),
            related="definite",
            serious=serious,
            aesi=["crs"],
            actions=actions if outcome.crs_max >= 2 else ["none"],
        )
    if outcome.icans_max and outcome.alive_on(outcome.icans_onset + outcome.icans_days):
        onset = journey.day(outcome.icans_onset)
        _event(
            world,
            journey,
            term="Encephalopathy",
            soc="Nervous system disorders",
            grade=outcome.icans_max,
            onset=onset,
            end=onset + timedelta(days=outcome.icans_days),
            related="definite",
            serious=["hospitalisation"] if outcome.icans_max >= 3 else None,
            aesi=["icans"],
            actions=["corticosteroids"] if outcome.icans_max >= 2 else ["none"],
        )
    if outcome.neutropenia_grade_4:
        last = 35 if journey.rng.random() < 0.3 else int(journey.rng.integers(12, 27))
        if outcome.alive_on(last):
            _event(
                world,
                journey,
                term="Neutrophil count decreased",
                soc="Investigations",
                grade=4,
                onset=journey.day(-1),
                end=journey.day(last),
                related="possible",
                related_ld="probable",
                aesi=["prolonged_cytopenia"] if last > 28 else None,
            )
    if outcome.infection_day is not None and outcome.alive_on(outcome.infection_day + 14):
        onset = journey.day(outcome.infection_day)
        _event(
            world,
            journey,
            term="Lung infection",
            soc="Infections and infestations",
            grade=3,
            onset=onset,
            end=onset + timedelta(days=14),
            related="possible",
            serious=["hospitalisation"],
            aesi=["infection"],
            actions=["other"],
        )


def _dies_of(outcome: TreatmentOutcome, cause: str) -> bool:
    return outcome.death_cause == cause


def record_death_event(
    session: Session, world: World, journey: Journey, outcome: TreatmentOutcome, day: date
) -> None:
    """The fatal adverse event of the death, with its SAE report."""
    assert outcome.death_cause is not None
    assert journey.subject_id is not None
    term, soc, related = _CAUSE_EVENTS[outcome.death_cause]
    event: dict[str, Any] = {
        "term": term,
        "soc": soc,
        "grade": 5,
        "onset_date": (day - timedelta(days=3)).isoformat(),
        "resolution_date": day.isoformat(),
        "serious": True,
        "seriousness": ["death"],
        "related_to_cart": related,
        "related_to_lymphodepletion": "unlikely",
        "outcome": "fatal",
        "aesi": ["crs"] if outcome.death_cause == "crs" else [],
        "site_awareness_at": at(day, 12).isoformat(),
    }
    row = safety.record_adverse_event(
        session, by=world.site_staff(journey).investigator, subject_id=journey.subject_id, event=event
    )
    world.tally["adverse events"] += 1
    _report(session, world, journey, row.id, day, expected=outcome.death_cause != "infection")


def review_dlt(session: Session, world: World, journey: Journey, day: date) -> None:
    """Day 28: the investigator confirms the DLT evaluation; the sponsor reads the stopping rule."""
    assert journey.subject_id is not None
    by = world.site_staff(journey).investigator
    evaluation = monitoring.dlt_evaluation(session, by=by, subject_id=journey.subject_id)
    if evaluation.status.value == "pending":
        # a finding still inside its time limit (ICANS >= 3 for 72 h): nothing to confirm yet
        world.tally["DLT confirmations awaiting a finding's time limit"] += 1
    else:
        monitoring.confirm_dlt(
            session, by=by, subject_id=journey.subject_id, is_dlt=evaluation.status.value == "dlt"
        )
        world.tally["DLT evaluations confirmed"] += 1
    status = monitoring.stopping_rule_status(
        session, by=world.staff.sponsor, study_id=world.study_id, as_of=day
    )
    if status.decision.stop and world.recruiting:
        trials.change_status(
            session,
            study_id=world.study_id,
            status="SUSPENDED",
            reason=(
                f"safety stopping rule: {status.events} events in {status.evaluable} evaluable subjects "
                f"(P(rate > {status.rule.rate_threshold}) = {status.decision.posterior_probability:.2f})"
            ),
            by=world.staff.sponsor,
        )
        world.recruiting = False
        world.tally["recruitment suspended by the stopping rule"] += 1
