"""Data queries on SQLite and PostgreSQL: raised, answered, closed, re-opened, with their history."""

from __future__ import annotations

from edc_world import Edc, days_ago, edc_fixture  # noqa: F401
from sqlalchemy import select

from celltrial.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.queries import service as queries
from celltrial.study.queries.lifecycle import QueryStatus


def saved_vitals(edc: Edc, *, site: str = "S01") -> int:
    subject_id = edc.new_subject(site=site)
    edc.consent(subject_id, day=days_ago(10))
    with edc.sessions() as session:
        form_id = session.scalars(
            select(FormInstance.id).where(
                FormInstance.subject_id == subject_id, FormInstance.form_code == "vital_signs"
            )
        ).one()
    by = edc["coordinator"] if site == "S01" else edc["investigator_s02"]
    edc.run(lambda s: forms.save(s, form_id=form_id, values={"heart_rate": 72}, expected_version=0, by=by))
    return form_id


def test_a_monitor_raises_the_site_answers_and_the_monitor_closes(edc: Edc) -> None:
    form_id = saved_vitals(edc)
    monitor, coordinator = edc["monitor"], edc["coordinator"]
    query = edc.run(
        lambda s: queries.raise_query(
            s, form_id=form_id, field="heart_rate", text="Source shows 62?", by=monitor
        )
    )
    assert (query.status, query.origin, query.raised_by) == (QueryStatus.OPEN, "manual", "monitor")
    edc.run(lambda s: queries.answer(s, query_id=query.id, text="72 is correct, ECG strip", by=coordinator))
    edc.run(lambda s: queries.close(s, query_id=query.id, by=monitor))
    shown = edc.run(lambda s: queries.read(s, query=queries.get_or_raise(s, query_id=query.id, by=monitor)))
    assert shown.status is QueryStatus.CLOSED
    assert [(step.action, step.status_after, step.by) for step in shown.history] == [
        ("raise", "open", "monitor"),
        ("answer", "answered", "coordinator"),
        ("close", "closed", "monitor"),
    ]
    with edc.sessions() as session:
        actions = [entry.action for entry in audit.history(session, entity="query", entity_id=str(query.id))]
    assert actions == ["query.raise", "query.answer", "query.close"]


def test_an_unsatisfying_answer_re_opens_the_query_and_a_closed_query_can_re_open(edc: Edc) -> None:
    form_id = saved_vitals(edc)
    manager, coordinator = edc["data_manager"], edc["coordinator"]
    query = edc.run(
        lambda s: queries.raise_query(s, form_id=form_id, field=None, text="Date missing", by=manager)
    )
    edc.run(lambda s: queries.answer(s, query_id=query.id, text="will add", by=coordinator))
    edc.run(lambda s: queries.reopen(s, query_id=query.id, text="please add it now", by=manager))
    edc.run(lambda s: queries.answer(s, query_id=query.id, text="added", by=coordinator))
    edc.run(lambda s: queries.close(s, query_id=query.id, by=manager))
    reopened = edc.run(lambda s: queries.reopen(s, query_id=query.id, text="wrong date", by=manager))
    assert reopened.status is QueryStatus.OPEN


def test_a_step_the_lifecycle_does_not_allow_is_refused(edc: Edc) -> None:
    form_id = saved_vitals(edc)
    monitor = edc["monitor"]
    query = edc.run(
        lambda s: queries.raise_query(s, form_id=form_id, field="heart_rate", text="?", by=monitor)
    )
    edc.refuses(
        IllegalTransition,
        lambda s: queries.reopen(s, query_id=query.id, text="again", by=monitor),
        field="status",
    )
    edc.run(lambda s: queries.close(s, query_id=query.id, text="raised in error", by=monitor))
    edc.refuses(
        IllegalTransition,
        lambda s: queries.answer(s, query_id=query.id, text="late", by=edc["coordinator"]),
        field="status",
    )


def test_query_input_is_checked_and_nothing_is_written_when_it_is_wrong(edc: Edc) -> None:
    form_id = saved_vitals(edc)
    monitor = edc["monitor"]
    edc.refuses(
        InvalidInput,
        lambda s: queries.raise_query(s, form_id=form_id, field="pulse", text="?", by=monitor),
        field="vital_signs.pulse",
    )
    edc.refuses(
        InvalidInput,
        lambda s: queries.raise_query(s, form_id=form_id, field="heart_rate", text="  ", by=monitor),
        field="text",
    )
    edc.refuses(
        NotFound,
        lambda s: queries.raise_query(s, form_id=10_000, field=None, text="?", by=monitor),
        field="form",
    )
    query = edc.run(lambda s: queries.raise_query(s, form_id=form_id, field=None, text="?", by=monitor))
    edc.refuses(InvalidInput, lambda s: queries.close(s, query_id=query.id, by=monitor), field="text")


def test_sites_answer_but_do_not_raise_or_close_and_see_only_their_own_queries(edc: Edc) -> None:
    form_id = saved_vitals(edc)
    monitor, coordinator = edc["monitor"], edc["coordinator"]
    edc.refuses(
        NotAllowed,
        lambda s: queries.raise_query(s, form_id=form_id, field=None, text="?", by=coordinator),
        field="role",
    )
    query = edc.run(lambda s: queries.raise_query(s, form_id=form_id, field=None, text="?", by=monitor))
    edc.refuses(
        NotAllowed, lambda s: queries.close(s, query_id=query.id, text="ok", by=coordinator), field="role"
    )
    edc.refuses(
        NotFound,
        lambda s: queries.answer(s, query_id=query.id, text="not mine", by=edc["investigator_s02"]),
        field="query",
    )
    other_form = saved_vitals(edc, site="S02")
    edc.run(lambda s: queries.raise_query(s, form_id=other_form, field=None, text="?", by=monitor))
    assert [q.id for q in edc.run(lambda s: queries.list_queries(s, by=coordinator))] == [query.id]
    assert len(edc.run(lambda s: queries.list_queries(s, by=monitor, status="open"))) == 2
    edc.refuses(InvalidInput, lambda s: queries.list_queries(s, by=monitor, status="pending"), field="status")
