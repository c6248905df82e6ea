"""Entering a virtual patient's CRFs through the form service, typing errors and queries included.

The site enters each form once it has the data, marked complete. Now and then a number is typed
ten times too large (the scenario's ``data_entry_error_per_form``): the form service's edit check
raises a query, and some days later the coordinator answers it and corrects the value with a
reason, which closes the query. Visit dates are recorded through the visit service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from celltrial.simulate.patients import draw_days
from celltrial.simulate.world import Journey, World
from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import form_definition
from celltrial.study.queries import service as queries
from celltrial.study.users.models import User
from celltrial.study.visits import service as visits

__all__ = ["add_entry", "date_visit", "enter", "load_schedule"]


def load_schedule(session: Session, world: World, journey: Journey, *, by: User) -> None:
    """Remember the ids of the subject's visits and forms (after enrolment, again after infusion)."""
    assert journey.subject_id is not None
    shown = visits.list_visits(session, subject_id=journey.subject_id, today=world.cut, by=by)
    journey.visits = {visit.code: visit.id for visit in shown}
    journey.windows = {
        visit.code: (visit.target_date, visit.window_start, visit.window_end)
        for visit in shown
        if visit.target_date and visit.window_start and visit.window_end
    }
    by_visit = {visit.id: visit.code for visit in shown}
    for form in forms.list_forms(session, subject_id=journey.subject_id, by=by):
        if form.visit_id is not None and form.visit_id in by_visit:
            journey.forms.setdefault((by_visit[form.visit_id], form.form_code), form.id)
            journey.versions.setdefault(form.id, form.version)


def date_visit(session: Session, journey: Journey, code: str, day: date, *, by: User) -> None:
    """Record the date visit ``code`` took place."""
    visits.record_visit_date(session, visit_id=journey.visits[code], on=day, by=by)


def _typo(values: Mapping[str, Any], form_code: str) -> tuple[str, Any] | None:
    """A numeric value typed ten times too large (with a decimal point slipped), if the form has one."""
    definition = form_definition(form_code)
    for name, value in values.items():
        field = definition.field(name)
        if field.type in ("decimal", "integer") and isinstance(value, int | float) and field.max is not None:
            wrong = value * 10 if value * 10 > field.max else value + field.max
            if value > 0 and wrong > field.max:
                return name, round(wrong, 2) if field.type == "decimal" else int(wrong)
    return None


def _save(
    session: Session,
    world: World,
    journey: Journey,
    form_id: int,
    values: Mapping[str, Any],
    day: date,
    by: User,
) -> None:
    conduct = world.scenario.conduct
    typed = dict(values)
    typo = (
        _typo(values, form_definition(_code(journey, form_id)).code)
        if journey.rng.random() < (conduct.data_entry_error_per_form.value)
        else None
    )
    if typo is not None:
        typed[typo[0]] = typo[1]
    result = forms.save(
        session,
        form_id=form_id,
        values=typed,
        expected_version=journey.versions.get(form_id, 0),
        by=by,
        complete=True,
        today=day,
    )
    journey.versions[form_id] = result.form.version
    if typo is None or not result.raised:
        return
    world.tally["queries raised"] += len(result.raised)
    name, right = typo[0], values[typo[0]]
    raised = [query.id for query in result.raised]
    answer_on = day + timedelta(days=draw_days(journey.rng, conduct.days_to_answer_query.value))

    def correct(later: Session) -> None:
        for query_id in raised:
            queries.answer(
                later, query_id=query_id, text=f"Transcription error: {right} in the source document", by=by
            )
        saved = forms.save(
            later,
            form_id=form_id,
            values={name: right},
            expected_version=journey.versions[form_id],
            by=by,
            reason="transcription error corrected from the source document",
            today=answer_on,
        )
        journey.versions[form_id] = saved.form.version
        world.tally["queries resolved"] += len(saved.resolved)

    world.plan(journey, answer_on, 16, correct, after_the_end=True)


def _code(journey: Journey, form_id: int) -> str:
    for (_visit, code), known in journey.forms.items():
        if known == form_id:
            return code
    return journey.facts["log_forms"][form_id]  # type: ignore[no-any-return]


def enter(
    session: Session,
    world: World,
    journey: Journey,
    visit_code: str,
    form_code: str,
    values: Mapping[str, Any],
    day: date,
    *,
    by: User,
) -> None:
    """Enter the visit's form, complete."""
    form_id = journey.forms.get((visit_code, form_code))
    if form_id is None:
        return
    _save(session, world, journey, form_id, values, day, by)
    world.tally["forms entered"] += 1


def add_entry(
    session: Session,
    world: World,
    journey: Journey,
    form_code: str,
    values: Mapping[str, Any],
    day: date,
    *,
    by: User,
    visit_code: str | None = None,
) -> int:
    """Add a form (a log entry, or one more of a repeating form at a visit) and enter it; its id."""
    assert journey.subject_id is not None
    visit_id = journey.visits[visit_code] if visit_code else None
    form = forms.add_form(
        session, subject_id=journey.subject_id, form_code=form_code, by=by, visit_id=visit_id
    )
    journey.facts.setdefault("log_forms", {})[form.id] = form_code
    journey.versions[form.id] = form.version
    _save(session, world, journey, form.id, values, day, by)
    world.tally["forms entered"] += 1
    return form.id
