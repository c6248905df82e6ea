"""The chain is appended at commit under a short lock: concurrent saves keep it linear and gapless,
ids follow commit order, the head catches entries cut from the end, savepoints re-seal."""

from __future__ import annotations

import threading

import pytest
from edc_world import Edc, days_ago, edc_fixture  # noqa: F401
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditChainHead, AuditEntry
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance


def _note(session: Session, field: str) -> None:
    audit.record(session, actor="nurse", action="create", entity="ae", entity_id=1, field=field)


def _allow_tampering(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_entry_no_delete"))


def test_concurrent_form_saves_from_threads_leave_a_gapless_chain_that_reaches_its_head(edc: Edc) -> None:
    threads, saves = 4, 6
    subjects = [edc.new_subject() for _ in range(threads)]
    for subject_id in subjects:
        edc.consent(subject_id, day=days_ago(10))
    with edc.sessions() as session:
        form_ids = [
            session.scalars(
                select(FormInstance.id).where(
                    FormInstance.subject_id == subject_id, FormInstance.form_code == "vital_signs"
                )
            ).one()
            for subject_id in subjects
        ]
        before = audit.count(session)
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def coordinator(form_id: int) -> None:
        try:
            start.wait()
            for version in range(saves):
                edc.run(
                    lambda s, v=version: forms.save(
                        s, form_id=form_id, values={"heart_rate": 60 + v}, expected_version=v,
                        reason="corrected" if v else None, by=edc["coordinator"],
                    )
                )  # fmt: skip
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=coordinator, args=(form_id,)) for form_id in form_ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with edc.sessions() as session:
        report = audit.verify(session)
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        head = session.get(AuditChainHead, 1)
        saved = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.field == "vital_signs.heart_rate")
        )
        per_form = dict.fromkeys(form_ids, 0)
        for entity_id in saved:
            per_form[int(entity_id)] += 1
    assert report.ok, str(report)
    assert ids == list(range(1, len(ids) + 1))
    assert head is not None
    assert (head.last_id, head.last_hash) == (ids[-1], report.last_hash)
    assert per_form == dict.fromkeys(form_ids, saves)
    assert report.count >= before + threads * saves


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one writer at a time
def test_an_open_transaction_does_not_hold_the_chain_and_ids_follow_commit_order(
    sessions: sessionmaker[Session],
) -> None:
    slow = sessions()
    _note(slow, "recorded first, committed last")
    slow.flush()
    other = threading.Thread(target=lambda: _write_one(sessions))
    other.start()
    other.join(timeout=60)
    finished = not other.is_alive()
    slow.commit()
    slow.close()
    other.join()
    assert finished, "the second writer waited for the open transaction"
    with unit_of_work(sessions) as session:
        fields = [e.field for e in audit.history(session, entity="ae", entity_id="1")]
        assert audit.verify(session).ok
    assert fields == ["committed first", "recorded first, committed last"]


def _write_one(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        _note(session, "committed first")


def test_entries_cut_from_the_end_are_detected_by_the_chain_head(sessions: sessionmaker[Session]) -> None:
    for number in range(5):
        with unit_of_work(sessions) as session:
            _note(session, f"field_{number}")
    with unit_of_work(sessions) as session:
        _allow_tampering(session)
        session.execute(text("DELETE FROM audit_entry WHERE id > 3"))
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
    assert (report.ok, report.count, report.first_broken_id) == (False, 3, 4)
    assert "removed from the end" in (report.problem or "")


def test_entries_sealed_early_in_a_rolled_back_savepoint_are_sealed_again_at_commit(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as session:
        _note(session, "before the savepoint")
        savepoint = session.begin_nested()
        assert audit.count(session) == 1  # reading the trail seals the waiting entry inside the savepoint
        savepoint.rollback()
        _note(session, "after the savepoint")
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
        fields = [e.field for e in audit.history(session, entity="ae", entity_id="1")]
    assert (report.ok, report.count) == (True, 2), str(report)
    assert fields == ["before the savepoint", "after the savepoint"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_writer_that_chained_to_a_head_another_transaction_moved_chains_again(
    sessions: sessionmaker[Session],
) -> None:
    holder = sessions()
    _note(holder, "holds the head")
    assert audit.count(holder) == 1  # sealed: the head row is locked until this transaction ends
    other = threading.Thread(target=lambda: _write_one(sessions))
    other.start()
    other.join(timeout=1)
    waited = other.is_alive()
    holder.commit()
    holder.close()
    other.join()
    with unit_of_work(sessions) as session:
        entries = audit.history(session, entity="ae", entity_id="1")
        report = audit.verify(session)
    assert waited, "the second writer appended while the head was locked"
    assert [(e.id, e.field) for e in entries] == [(1, "holds the head"), (2, "committed first")]
    assert entries[1].previous_hash == entries[0].hash
    assert (report.ok, report.count) == (True, 2), str(report)
