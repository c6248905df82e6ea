"""From referral to enrolment: registration, consent (a guardian's for minors), screening, enrolment.

The coordinator registers the patient and records the consent; the investigator screens with
the real eligibility engine (the screening form of :mod:`celltrial.simulate.screening_facts`,
judgments included) and enrols the eligible within the screening window. When the enrolment cap
is reached the sponsor closes recruitment; patients still in screening are then not enrolled
(withdrawn with the reason) and later referrals are not screened.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from celltrial.eligibility import evaluate, load_rules, read_form
from celltrial.simulate import crf_values
from celltrial.simulate.crf import add_entry, enter, load_schedule
from celltrial.simulate.outcomes import draw_course
from celltrial.simulate.patients import VirtualPatient, generator
from celltrial.simulate.screening_facts import screening_form, screening_values
from celltrial.simulate.world import Journey, World, at
from celltrial.study.consent import service as consents
from celltrial.study.screening import service as screenings
from celltrial.study.subjects import service as subjects
from celltrial.study.trial import service as trials

__all__ = ["refer"]

_GUARDIANS = ("mother", "father")


def refer(world: World, patient: VirtualPatient) -> Journey:
    """Put a referred patient on the agenda: registered and consented, then screened."""
    journey = Journey(patient=patient, rng=generator(world.seed, patient.number, "conduct"))
    world.journeys.append(journey)
    world.plan(journey, patient.consent_on, 9, lambda session: _register(session, world, journey))
    return journey


def _register(session: Session, world: World, journey: Journey) -> None:
    patient = journey.patient
    if not world.recruiting:
        journey.ended = "not screened: recruitment closed"
        world.tally["referred after recruitment closed"] += 1
        return
    team = world.site_staff(journey)
    subject = subjects.register(
        session,
        study_id=world.study_id,
        site_id=team.site_id,
        date_of_birth=patient.birth_date,
        sex=patient.sex,
        initials=patient.initials,
        by=team.coordinator,
    )
    journey.subject_id = subject.id
    signed = at(patient.consent_on, 9.5)
    minor = patient.age_on(patient.consent_on) < world.settings.enrolment.minor_age_years.value
    consents.record_consent(
        session,
        subject_id=subject.id,
        icf_version="1.0",
        signed_at=signed,
        by=team.coordinator,
        guardian_name=f"{patient.initials} (parent)" if minor else None,
        guardian_relationship=_GUARDIANS[patient.number % 2] if minor else None,
        assent_at=signed + timedelta(minutes=20) if minor else None,
    )
    world.tally["consented"] += 1
    world.tally["consented by a guardian"] += minor
    world.plan(journey, patient.screened_on, 11, lambda later: _screen(later, world, journey))


def _screen(session: Session, world: World, journey: Journey) -> None:
    patient = journey.patient
    assert journey.subject_id is not None
    team = world.site_staff(journey)
    values = screening_values(patient, generator(world.seed, patient.number, "screening"))
    document = screening_form(patient, values, judged_by=team.investigator.full_name)
    screening_input = read_form(document)
    result = evaluate(
        screening_input.facts,
        load_rules(world.scenario.study.nct_id),
        world.settings,
        patient.screened_on,
        screening_input.judgments,
    )
    attempt = screenings.record(
        session,
        subject_id=journey.subject_id,
        result=result.to_json(),
        rule_set_version=result.rules_version,
        by=team.investigator,
    )
    world.tally["screened"] += 1
    journey.forms = {}
    load_schedule(session, world, journey, by=team.coordinator)
    on = patient.screened_on
    journey.facts["screening_crf"] = crf_values.screening(patient, values, on)
    enter(
        session,
        world,
        journey,
        "SCR",
        "screening",
        journey.facts["screening_crf"],
        on,
        by=team.coordinator,
    )
    enter(
        session,
        world,
        journey,
        "SCR",
        "demographics",
        crf_values.demographics(patient),
        on,
        by=team.coordinator,
    )
    enter(
        session,
        world,
        journey,
        "SCR",
        "labs",
        crf_values.labs(journey.rng, on, phase="baseline", values=values),
        on,
        by=team.coordinator,
    )
    if attempt.decision != "eligible":
        journey.ended = f"screen failed: {attempt.decision}"
        world.tally["screen failed"] += 1
        return
    enter(
        session,
        world,
        journey,
        "SCR",
        "vital_signs",
        crf_values.vital_signs(journey.rng, on),
        on,
        by=team.coordinator,
    )
    _history(session, world, journey)
    world.plan(journey, patient.enrolment_on, 10, lambda later: _enrol(later, world, journey))


def _history(session: Session, world: World, journey: Journey) -> None:
    """The prior therapies and the malignancy on the screening visit's repeating CRFs."""
    patient, on = journey.patient, journey.patient.screened_on
    by = world.site_staff(journey).coordinator
    lines = crf_values.prior_therapies(patient, journey.rng)
    for number, values in enumerate(lines):
        if number == 0:
            enter(session, world, journey, "SCR", "prior_therapy", values, on, by=by)
        else:
            add_entry(session, world, journey, "prior_therapy", values, on, by=by, visit_code="SCR")
    diagnosed = date.fromisoformat(str(lines[0]["start_date"])) - timedelta(days=10)
    enter(
        session,
        world,
        journey,
        "SCR",
        "medical_history",
        crf_values.medical_history(patient, diagnosed),
        on,
        by=by,
    )


def _baseline_lesions(session: Session, world: World, journey: Journey, day: date) -> None:
    """The lymphoma's target lesions measured on the screening PET-CT (the Lugano baseline)."""
    lesions = crf_values.baseline_lesions(generator(world.seed, journey.patient.number, "lesions"))
    journey.facts["lesions"] = lesions
    values = crf_values.lesion_values(lesions, None, journey.patient.screened_on, "pet_ct")
    by = world.site_staff(journey).coordinator
    add_entry(session, world, journey, "lesions", values, day, by=by, visit_code="SCR")
    world.tally["lesion assessments"] += 1


def _enrol(session: Session, world: World, journey: Journey) -> None:
    assert journey.subject_id is not None
    team = world.site_staff(journey)
    day = journey.patient.enrolment_on
    cap = world.settings.enrolment.cap.value
    if not world.recruiting or trials.enrolled_count(session, study_id=world.study_id) >= cap:
        subjects.change_status(
            session,
            subject_id=journey.subject_id,
            status="withdrawn",
            reason="eligible but not enrolled: recruitment closed",
            by=team.coordinator,
        )
        journey.ended = "eligible, not enrolled: recruitment closed"
        world.tally["eligible, not enrolled"] += 1
        return
    subjects.enrol(session, subject_id=journey.subject_id, by=team.investigator, on=day)
    journey.enrolled_on = day
    world.tally["enrolled"] += 1
    load_schedule(session, world, journey, by=team.coordinator)
    if not journey.patient.leukaemia:
        _baseline_lesions(session, world, journey, day)
    journey.course = draw_course(generator(world.seed, journey.patient.number, "course"), world.scenario)
    if trials.enrolled_count(session, study_id=world.study_id) >= cap:
        trials.change_status(
            session,
            study_id=world.study_id,
            status="ACTIVE_NOT_RECRUITING",
            reason=f"enrolment cap of {cap} reached",
            by=world.staff.sponsor,
        )
        world.recruiting = False
    if world.on_enrolled is not None:
        world.on_enrolled(session, world, journey)
