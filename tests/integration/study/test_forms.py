"""CRF saves on SQLite and PostgreSQL: versions, reasons, edit-check queries, SDV, signatures, locks."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from edc_world import Edc, days_ago, edc_fixture  # noqa: F401
from sqlalchemy import select
from study_world import PASSWORD

from celltrial.database import unit_of_work
from celltrial.errors import (
    CelltrialError,
    Conflict,
    InvalidInput,
    Locked,
    NotAllowed,
    NotFound,
    StaleVersion,
)
from celltrial.study.audit import service as audit
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance, FormStatus
from celltrial.study.locks import service as locks
from celltrial.study.queries import service as queries
from celltrial.study.visits.models import Visit

VITALS = {
    "assessment_date": days_ago(1),
    "temperature": 36.9,
    "heart_rate": 72,
    "systolic_bp": 120,
    "diastolic_bp": 80,
}


def form_of(edc: Edc, subject_id: int, code: str, visit: str | None = None) -> int:
    with edc.sessions() as session:
        query = (
            select(FormInstance.id)
            .outerjoin(Visit, Visit.id == FormInstance.visit_id)
            .where(FormInstance.subject_id == subject_id, FormInstance.form_code == code)
        )
        if visit is not None:
            query = query.where(Visit.code == visit)
        found = session.scalars(query.order_by(FormInstance.id)).first()
    assert found is not None, f"no {code} form"
    return found


def consented(edc: Edc) -> int:
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(10))
    return subject_id


def save(
    edc: Edc, form_id: int, values: dict[str, Any], version: int, *, by: str = "coordinator", **options: Any
) -> Any:
    return edc.run(
        lambda s: forms.save(
            s, form_id=form_id, values=values, expected_version=version, by=edc[by], **options
        )
    )


def test_the_first_save_needs_no_reason_and_audits_each_field_as_entered(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    result = save(edc, form_id, {"heart_rate": 72, "temperature": "36.9"}, 0)
    assert (result.form.version, result.form.status) == (1, FormStatus.IN_PROGRESS)
    assert result.changes == {"heart_rate": (None, 72), "temperature": (None, 36.9)}
    with edc.sessions() as session:
        entries = [e for e in audit.history(session, entity="form", entity_id=str(form_id)) if e.field]
    fields = {(e.action, e.field, e.new_value) for e in entries if e.field != "status"}
    assert fields == {("enter", "vital_signs.heart_rate", "72"), ("enter", "vital_signs.temperature", "36.9")}


def test_changing_a_saved_value_needs_a_reason_that_the_audit_trail_keeps(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, {"heart_rate": 72}, 0)
    by = edc["coordinator"]
    edc.refuses(
        InvalidInput,
        lambda s: forms.save(s, form_id=form_id, values={"heart_rate": 80}, expected_version=1, by=by),
        field="reason",
    )
    save(edc, form_id, {"heart_rate": 80}, 1, reason="misread the monitor")
    with edc.sessions() as session:
        [change] = [
            e for e in audit.history(session, entity="form", entity_id=str(form_id)) if e.action == "update"
        ]
    assert (change.field, change.old_value, change.new_value, change.reason) == (
        "vital_signs.heart_rate",
        "72",
        "80",
        "misread the monitor",
    )


def test_filling_an_empty_field_later_is_an_entry_not_a_change(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, {"heart_rate": 72}, 0)
    result = save(edc, form_id, {"temperature": 37.1}, 1)
    assert result.form.version == 2
    assert result.form.data == {"heart_rate": 72, "temperature": 37.1}


def test_a_save_from_a_stale_version_is_refused_with_what_changed(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, {"heart_rate": 72}, 0)
    save(edc, form_id, {"heart_rate": 80}, 1, by="investigator", reason="recounted")
    error = edc.refuses(
        StaleVersion,
        lambda s: forms.save(
            s,
            form_id=form_id,
            values={"heart_rate": 75},
            expected_version=1,
            reason="x",
            by=edc["coordinator"],
        ),
        field="expected_version",
    )
    assert "is at version 2, not 1" in str(error)
    assert "version 2 by investigator" in str(error)
    assert "heart_rate 72 → 80" in str(error)


def test_two_simultaneous_saves_of_one_version_keep_one_and_refuse_the_other(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, {"heart_rate": 72}, 0)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(value: int) -> None:
        start.wait()
        try:
            with unit_of_work(edc.sessions) as session:
                forms.save(
                    session, form_id=form_id, values={"heart_rate": value}, expected_version=1, reason="r",
                    by=edc["coordinator"],
                )  # fmt: skip
            outcomes.append("saved")
        except CelltrialError as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=attempt, args=(value,)) for value in (90, 91)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["StaleVersion", "saved"]
    with edc.sessions() as session:
        assert session.get_one(FormInstance, form_id).version == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"heart_rate": "fast"}, "vital_signs.heart_rate"),
        ({"pulse": 70}, "vital_signs.pulse"),
        ({"assessment_date": "yesterday"}, "vital_signs.assessment_date"),
    ],
)
def test_values_of_the_wrong_type_are_refused_and_nothing_is_written(
    edc: Edc, values: dict[str, Any], field: str
) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    edc.refuses(
        InvalidInput,
        lambda s: forms.save(s, form_id=form_id, values=values, expected_version=0, by=edc["coordinator"]),
        field=field,
    )


def test_an_out_of_range_value_is_saved_with_a_query_that_a_correction_closes(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    result = save(edc, form_id, {"heart_rate": 250}, 0)
    [query] = result.raised
    assert (query.field, query.check_id, query.origin, query.status) == (
        "heart_rate",
        "range",
        "edit_check",
        "open",
    )
    assert "above the expected range 40–180" in query.text
    again = save(edc, form_id, {"heart_rate": 251}, 1, reason="confirmed")
    assert again.raised == []
    fixed = save(edc, form_id, {"heart_rate": 125}, 2, reason="typo")
    assert [q.id for q in fixed.resolved] == [query.id]
    shown = edc.run(
        lambda s: queries.read(s, query=queries.get_or_raise(s, query_id=query.id, by=edc["monitor"]))
    )
    assert [(step.action, step.status_after) for step in shown.history] == [
        ("raise", "open"),
        ("resolve", "closed"),
    ]


def test_a_hidden_field_with_a_value_raises_a_query(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    result = save(edc, form_id, {"on_oxygen": False, "oxygen_flow": 2}, 0)
    assert [(q.field, q.check_id) for q in result.raised] == [("oxygen_flow", "hidden_value")]


def test_marking_a_form_complete_raises_queries_for_missing_required_fields(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    partial = save(edc, form_id, {"heart_rate": 72}, 0)
    assert partial.raised == []
    result = save(edc, form_id, {"temperature": 36.8}, 1, complete=True)
    assert result.form.status is FormStatus.COMPLETE
    assert sorted(q.field for q in result.raised) == ["assessment_date", "diastolic_bp", "systolic_bp"]
    finished = save(
        edc, form_id, {k: v for k, v in VITALS.items() if k != "temperature" and k != "heart_rate"}, 2
    )
    assert sorted(q.field for q in finished.resolved) == ["assessment_date", "diastolic_bp", "systolic_bp"]


def test_an_infusion_dated_before_the_apheresis_raises_a_query_on_the_infusion(edc: Edc) -> None:
    subject_id = edc.enrolled_subject(on=days_ago(3))
    apheresis = form_of(edc, subject_id, "apheresis")
    infusion = form_of(edc, subject_id, "infusion")
    save(edc, apheresis, {"collection_date": days_ago(1)}, 0)
    result = save(edc, infusion, {"infusion_datetime": f"{days_ago(2)}T10:00"}, 0)
    assert [(q.field, q.check_id) for q in result.raised] == [("infusion_datetime", "after_apheresis")]


def test_roles_and_sites_that_may_not_enter_data_are_refused(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    for role, error, field in [
        ("dsmb", NotAllowed, "role"),
        ("monitor", NotAllowed, "role"),
        ("investigator_s02", NotFound, "form"),
    ]:
        edc.refuses(
            error,
            lambda s, role=role: forms.save(
                s, form_id=form_id, values={"heart_rate": 1}, expected_version=0, by=edc[role]
            ),  # type: ignore[misc]
            field=field,
        )


def test_source_data_verification_verifies_a_form_and_a_change_voids_it(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, VITALS, 0, complete=True)
    monitor = edc["monitor"]
    edc.refuses(
        NotAllowed,
        lambda s: forms.verify_field(s, form_id=form_id, field="heart_rate", by=edc["coordinator"]),
        field="role",
    )
    for name in VITALS:
        edc.run(lambda s, name=name: forms.verify_field(s, form_id=form_id, field=name, by=monitor))  # type: ignore[misc]
    shown = edc.run(lambda s: forms.read(s, form=forms.get_or_raise(s, form_id=form_id, by=monitor)))
    assert shown.status is FormStatus.VERIFIED
    assert shown.verified_fields == sorted(VITALS)
    save(edc, form_id, {"heart_rate": 70}, 1, reason="source says 70")
    shown = edc.run(lambda s: forms.read(s, form=forms.get_or_raise(s, form_id=form_id, by=monitor)))
    assert shown.status is FormStatus.COMPLETE
    assert "heart_rate" not in shown.verified_fields


def test_an_in_progress_form_cannot_be_verified(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, {"heart_rate": 72}, 0)
    edc.refuses(
        Conflict,
        lambda s: forms.verify_field(s, form_id=form_id, field="heart_rate", by=edc["monitor"]),
        field="status",
    )


def test_a_signed_form_shows_its_signature_invalidated_after_a_change(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, VITALS, 0, complete=True)
    investigator = edc["investigator"]
    edc.run(
        lambda s: forms.sign_form(s, form_id=form_id, password=PASSWORD, meaning="approved", by=investigator)
    )
    shown = edc.run(lambda s: forms.read(s, form=forms.get_or_raise(s, form_id=form_id, by=investigator)))
    assert shown.status is FormStatus.SIGNED
    [signature] = shown.signatures
    assert "Dr Investigator Person (investigator)" in signature
    assert "approved" in signature
    assert "INVALIDATED" not in signature
    save(edc, form_id, {"temperature": 37.4}, 1, reason="late reading")
    shown = edc.run(lambda s: forms.read(s, form=forms.get_or_raise(s, form_id=form_id, by=investigator)))
    assert shown.status is FormStatus.COMPLETE
    assert "INVALIDATED" in shown.signatures[0]


def test_signing_needs_the_password_and_an_investigator(edc: Edc) -> None:
    form_id = form_of(edc, consented(edc), "vital_signs")
    save(edc, form_id, VITALS, 0, complete=True)
    with pytest.raises(NotAllowed) as refused:
        edc.run(
            lambda s: forms.sign_form(
                s, form_id=form_id, password="wrong", meaning="approved", by=edc["investigator"]
            )
        )
    assert refused.value.field == "password"
    edc.refuses(
        NotAllowed,
        lambda s: forms.sign_form(
            s, form_id=form_id, password=PASSWORD, meaning="approved", by=edc["coordinator"]
        ),
        field="role",
    )


def test_locked_data_cannot_change_until_unlocked_with_a_reason(edc: Edc) -> None:
    subject_id = consented(edc)
    form_id = form_of(edc, subject_id, "vital_signs")
    save(edc, form_id, {"heart_rate": 72}, 0)
    manager = edc["data_manager"]
    edc.run(lambda s: locks.lock(s, subject_id=subject_id, by=manager, reason="interim analysis"))
    edc.refuses(
        Locked,
        lambda s: forms.save(
            s, form_id=form_id, values={"temperature": 37}, expected_version=1, by=edc["coordinator"]
        ),
        field="subject",
    )
    shown = edc.run(lambda s: forms.read(s, form=forms.get_or_raise(s, form_id=form_id, by=manager)))
    assert shown.status is FormStatus.LOCKED
    edc.run(lambda s: locks.unlock(s, subject_id=subject_id, by=manager, reason="query to resolve"))
    assert save(edc, form_id, {"temperature": 37}, 1).form.version == 2


def test_log_forms_repeat_and_other_forms_do_not(edc: Edc) -> None:
    subject_id = consented(edc)
    by = edc["coordinator"]
    first = edc.run(lambda s: forms.add_form(s, subject_id=subject_id, form_code="adverse_events", by=by))
    second = edc.run(lambda s: forms.add_form(s, subject_id=subject_id, form_code="adverse_events", by=by))
    assert (first.sequence, second.sequence) == (1, 2)
    edc.run(lambda s: forms.add_form(s, subject_id=subject_id, form_code="death", by=by))
    edc.refuses(
        Conflict,
        lambda s: forms.add_form(s, subject_id=subject_id, form_code="death", by=by),
        field="form_code",
    )
    edc.refuses(
        NotFound,
        lambda s: forms.add_form(s, subject_id=subject_id, form_code="ecg", by=by),
        field="form_code",
    )
