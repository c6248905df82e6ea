"""After the infusion: daily safety assessments, scheduled visits with their CRFs, and the end of follow-up.

Each scheduled visit happens on its target date, a few visits outside their window and a few
not at all (the scenario's ``visit_out_of_window`` and ``visit_missed``; visits before day 28
are never missed). The CRFs of a visit follow the patient's course: blood counts recover after
lymphodepletion, CAR transgene copies follow the expansion curve, the response assessment
finds remission or relapse. The daily CRS/ICANS assessment is entered through the safety service
that grades it, then on the schedule's ``crs_icans_daily`` CRF with the service's grades. The
monitor verifies the day-28 response (the primary endpoint) against the source a week later and
the investigator signs it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from celltrial.simulate import crf_values, endings, safety_steps
from celltrial.simulate.crf import add_entry, date_visit, enter
from celltrial.simulate.outcomes import DLT_WINDOW_DAYS, TreatmentOutcome, crs_grade_on, icans_grade_on
from celltrial.simulate.world import Action, Journey, World, at
from celltrial.study.forms import service as forms
from celltrial.study.subjects import service as subjects

__all__ = ["after_infusion"]

_NEVER_MISSED = DLT_WINDOW_DAYS
_SKIPPED_FORMS = frozenset({"crs_icans_daily", "infusion", "lymphodepletion", "apheresis", "disposition"})
_VERIFY_AFTER_DAYS = 7


def after_infusion(session: Session, world: World, journey: Journey) -> None:
    """Plan everything from the day of infusion to the end of follow-up."""
    outcome = journey.course.treatment if journey.course else None
    assert outcome is not None
    assert journey.infused_on is not None
    _sample(session, world, journey, outcome, "D0", journey.infused_on, 11)
    last_daily = world.settings.schedule.daily_crs_icans_days.value[-1]
    for day in range(0, DLT_WINDOW_DAYS + 1):
        symptomatic = crs_grade_on(outcome, day) or icans_grade_on(outcome, day)
        if outcome.alive_on(day) and (day <= last_daily or symptomatic):
            world.plan(journey, journey.day(day), 20 if day == 0 else 10, _assessment(world, journey, day))
    safety_steps.plan_adverse_events(world, journey, outcome)
    _plan_visits(world, journey, outcome)
    _plan_end(world, journey, outcome)


def _assessment(world: World, journey: Journey, day: int) -> Action:
    """The day's CRS/ICANS assessment: the visit dated, the graded safety record, its CRF."""

    def assess(session: Session) -> None:
        code = "D0" if day == 0 else f"CRS{day}"
        coordinator = world.site_staff(journey).coordinator
        row = safety_steps.assess(session, world, journey, day)
        if (code, "crs_icans_daily") not in journey.forms:
            return
        on = journey.day(day)
        if day:
            date_visit(session, journey, code, on, by=coordinator)
        enter(
            session,
            world,
            journey,
            code,
            "crs_icans_daily",
            crf_values.daily_assessment(row),
            on,
            by=coordinator,
        )

    return assess


def _visit_day(world: World, journey: Journey, code: str) -> date | None:
    """When the visit happens (None: missed), from its window and the scenario's deviations."""
    target, _start, end = journey.windows[code]
    conduct = world.scenario.conduct
    roll = journey.rng.random()
    day_after = (target - (journey.infused_on or target)).days
    if day_after > _NEVER_MISSED and roll < conduct.visit_missed.value:
        return None
    if roll > 1.0 - conduct.visit_out_of_window.value:
        world.tally["visits out of window"] += 1
        return end + timedelta(days=int(journey.rng.integers(1, 6)))
    return target


def _plan_visits(world: World, journey: Journey, outcome: TreatmentOutcome) -> None:
    assert journey.infused_on is not None
    for code, (target, _start, _end) in sorted(journey.windows.items(), key=lambda item: item[1][0]):
        if code in ("SCR", "APH", "LD", "D0") or code.startswith("CRS") or target <= journey.infused_on:
            continue
        if target > world.cut:
            break
        on = _visit_day(world, journey, code)
        if on is None:
            world.tally["visits missed"] += 1
            continue
        day = (on - journey.infused_on).days
        if not outcome.alive_on(day):
            continue
        world.plan(journey, on, 9, _visit(world, journey, outcome, code, on))
        if code == "D28":
            world.plan(journey, on, 17, _completion(world, journey, on))
            world.plan(journey, on + timedelta(days=_VERIFY_AFTER_DAYS), 11, _verify_primary(world, journey))
        if code == "M24":
            world.plan(journey, on, 16, _end_of_study(world, journey, on))


def _visit(world: World, journey: Journey, outcome: TreatmentOutcome, code: str, on: date) -> Action:
    def happen(session: Session) -> None:
        team = world.site_staff(journey)
        date_visit(session, journey, code, on, by=team.coordinator)
        world.tally["visits"] += 1
        assert journey.infused_on is not None
        day = (on - journey.infused_on).days
        phase = "aplastic" if day <= 14 else "recovering" if day <= 28 else "recovered"
        for visit, form in list(journey.forms):
            if visit != code or form in _SKIPPED_FORMS:
                continue
            if form == "vital_signs":
                values = crf_values.vital_signs(journey.rng, on, fever=crf_values.feverish(outcome, day))
            elif form == "labs":
                values = crf_values.labs(journey.rng, on, phase=phase)
            elif form == "response":
                values = _response(session, world, journey, outcome, code, day, on)
            elif form == "kinetics_sample":
                _sample(session, world, journey, outcome, code, on, 9.5)
                continue
            else:
                continue
            enter(session, world, journey, code, form, values, on, by=team.coordinator)

    return happen


def _response(
    session: Session,
    world: World,
    journey: Journey,
    outcome: TreatmentOutcome,
    code: str,
    day: int,
    on: date,
) -> dict[str, object]:
    """The response form's components; for lymphoma the lesion form of the same date is entered first."""
    hsct_on = None
    if outcome.hsct_day is not None and outcome.hsct_day <= day and not journey.facts.get("hsct_recorded"):
        hsct_on = journey.day(outcome.hsct_day)
        journey.facts["hsct_recorded"] = True
    if not journey.patient.leukaemia and "lesions" in journey.facts:
        found = crf_values.lymphoma_response_on(outcome, day)
        values = crf_values.lesion_values(journey.facts["lesions"], found, on, crf_values.imaging_method(day))
        by = world.site_staff(journey).coordinator
        add_entry(session, world, journey, "lesions", values, on, by=by, visit_code=code)
        world.tally["lesion assessments"] += 1
    baseline = journey.facts.get("screening_crf", {})
    return crf_values.response_values(journey.patient, outcome, day, on, baseline=baseline, hsct_on=hsct_on)


def _sample(
    session: Session,
    world: World,
    journey: Journey,
    outcome: TreatmentOutcome,
    code: str,
    on: date,
    hour: float,
) -> None:
    assert journey.infused_on is not None
    taken = at(on, hour)
    days = (taken - at(journey.infused_on, 10)).total_seconds() / 86400
    lloq = world.scenario.kinetics.lloq_copies_per_ug.value
    values = crf_values.kinetics_sample(journey.rng, outcome, days, taken.isoformat(), lloq)
    enter(
        session, world, journey, code, "kinetics_sample", values, on, by=world.site_staff(journey).coordinator
    )
    world.tally["kinetics samples"] += 1


def _completion(world: World, journey: Journey, on: date) -> Action:
    return lambda session: _window_complete(session, world, journey, on)


def _end_of_study(world: World, journey: Journey, on: date) -> Action:
    return lambda session: endings.complete(session, world, journey, on)


def _verify_primary(world: World, journey: Journey) -> Action:
    def verify(session: Session) -> None:
        form_id = journey.forms.get(("D28", "response"))
        if form_id is None or journey.versions.get(form_id, 0) == 0:
            return
        form = forms.get_or_raise(session, form_id=form_id, by=world.staff.monitor)
        for name in sorted(form.data):
            forms.verify_field(session, form_id=form_id, field=name, by=world.staff.monitor)
        forms.sign_form(
            session,
            form_id=form_id,
            password=world.staff.password,
            meaning="approved",
            by=world.site_staff(journey).investigator,
        )
        world.tally["day-28 responses verified and signed"] += 1

    return verify


def _window_complete(session: Session, world: World, journey: Journey, on: date) -> None:
    safety_steps.review_dlt(session, world, journey, on)
    assert journey.subject_id is not None
    subjects.change_status(
        session,
        subject_id=journey.subject_id,
        status="in_follow_up",
        reason="day-28 assessments done",
        by=world.site_staff(journey).coordinator,
    )


def _plan_end(world: World, journey: Journey, outcome: TreatmentOutcome) -> None:
    course = journey.course
    assert course is not None
    if outcome.death_day is not None:
        day, cause = journey.day(outcome.death_day), outcome.death_cause or "other"
        world.plan(journey, day, 13, lambda session: endings.die(session, world, journey, day, cause))
    if course.withdrawal_day is not None:
        day = journey.day(course.withdrawal_day)
        reason = "the subject no longer wishes to attend follow-up visits"
        world.plan(journey, day, 15, lambda session: endings.withdraw(session, world, journey, day, reason))
    if course.lost_day is not None:
        day = journey.day(course.lost_day)
        world.plan(journey, day, 15, lambda session: endings.lose(session, world, journey, day))
