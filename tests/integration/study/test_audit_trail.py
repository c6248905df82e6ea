"""The audit trail: append-only, hash-chained, linear under concurrent writers, tamper-evident."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.errors import InvalidInput
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import GENESIS_HASH, AuditEntry
from celltrial.study.sites import service as sites
from celltrial.study.users import service as users


def _write(sessions: sessionmaker[Session], n: int, *, actor: str = "coordinator") -> None:
    for i in range(n):
        with unit_of_work(sessions) as session:
            audit.record(
                session, actor=actor, action="create", entity="vital_signs", entity_id=i, field="pulse", new=i
            )


def _allow_tampering(session: Session) -> None:
    """What an intruder with database access would do first: remove the append-only triggers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(text("DROP TRIGGER audit_entry_no_delete"))


def test_a_fresh_chain_verifies_with_its_entry_count(sessions: sessionmaker[Session]) -> None:
    _write(sessions, 5)
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
    assert report.ok
    assert report.count == 5
    assert str(report) == "OK, 5 entries"


def test_an_empty_trail_verifies_with_zero_entries(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        assert str(audit.verify(session)) == "OK, 0 entries"


def test_entries_are_numbered_without_gaps_and_each_links_to_the_previous_hash(
    sessions: sessionmaker[Session],
) -> None:
    _write(sessions, 4)
    with unit_of_work(sessions) as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.id for e in entries] == [1, 2, 3, 4]
    assert entries[0].previous_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.previous_hash == before.hash
    assert entries[2].new_value == "2"
    assert entries[2].at.tzinfo is not None


def test_several_entries_in_one_transaction_chain_in_order(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        for field in ("pulse", "systolic", "diastolic"):
            audit.record(
                session, actor="nurse", action="create", entity="vital_signs", entity_id=1, field=field
            )
    with unit_of_work(sessions) as session:
        assert audit.verify(session).count == 3
        assert [e.field for e in audit.history(session, entity="vital_signs", entity_id="1")] == [
            "pulse",
            "systolic",
            "diastolic",
        ]


def test_a_change_without_a_reason_is_refused_and_writes_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidInput) as refused, unit_of_work(sessions) as session:
        audit.record(
            session, actor="nurse", action="update", entity="vital_signs", entity_id=1, old=80, new=90
        )
    assert refused.value.field == "reason"
    with unit_of_work(sessions) as session:
        assert audit.count(session) == 0


def test_a_failed_service_call_leaves_no_row_and_no_audit_entry(sessions: sessionmaker[Session]) -> None:
    admin = users.operator("tester")

    def two_sites(session: Session) -> None:
        sites.create(session, code="S01", name="First", country="China", by=admin)
        sites.create(session, code="not a code!", name="Second", country="China", by=admin)

    with pytest.raises(InvalidInput), unit_of_work(sessions) as session:
        two_sites(session)
    with unit_of_work(sessions) as session:
        assert audit.count(session) == 0
        assert sites.get_all(session) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entry SET actor = 'someone else'", "DELETE FROM audit_entry"]
)
def test_the_database_refuses_to_update_or_delete_audit_entries(
    sessions: sessionmaker[Session], statement: str
) -> None:
    _write(sessions, 2)
    with pytest.raises(DatabaseError, match="append-only"), unit_of_work(sessions) as session:
        session.execute(text(statement))
    with unit_of_work(sessions) as session:
        assert audit.verify(session).count == 2


def test_changing_an_entry_behind_the_services_back_is_detected_with_its_id(
    sessions: sessionmaker[Session],
) -> None:
    _write(sessions, 6)
    with unit_of_work(sessions) as session:
        _allow_tampering(session)
        session.execute(text("UPDATE audit_entry SET new_value = '120' WHERE id = 4"))
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
    assert not report.ok
    assert report.first_broken_id == 4
    assert report.count == 3
    assert "content does not match its hash" in (report.problem or "")
    assert str(report).startswith("entry 4: ")


def test_deleting_an_entry_is_detected_at_the_gap(sessions: sessionmaker[Session]) -> None:
    _write(sessions, 5)
    with unit_of_work(sessions) as session:
        _allow_tampering(session)
        session.execute(text("DELETE FROM audit_entry WHERE id = 3"))
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
    assert (report.ok, report.first_broken_id) == (False, 3)
    assert "missing" in (report.problem or "")


def test_rewriting_an_entry_and_its_hash_is_detected_at_the_next_entry(
    sessions: sessionmaker[Session],
) -> None:
    _write(sessions, 5)
    with unit_of_work(sessions) as session:
        _allow_tampering(session)
        forged = session.get(AuditEntry, 2)
        assert forged is not None
        new_hash = audit.entry_hash(
            forged.id, forged.at, forged.actor, forged.action, forged.entity, forged.entity_id, forged.field,
            forged.old_value, "999", forged.reason, forged.subject_id, forged.site_id, forged.previous_hash,
        )  # fmt: skip
        session.execute(
            text("UPDATE audit_entry SET new_value = '999', hash = :h WHERE id = 2"), {"h": new_hash}
        )
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
    assert (report.ok, report.first_broken_id) == (False, 3)
    assert "previous hash" in (report.problem or "")


def test_concurrent_audited_writes_keep_one_linear_chain(sessions: sessionmaker[Session]) -> None:
    threads, each = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            start.wait()
            _write(sessions, each, actor=f"writer-{n}")
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
        actors = {e.actor for e in session.scalars(select(AuditEntry))}
    assert report.ok, str(report)
    assert report.count == threads * each
    assert actors == {f"writer-{n}" for n in range(threads)}


def test_values_are_stored_as_canonical_json(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        entry = audit.record(
            session,
            actor="nurse",
            action="create",
            entity="lab",
            entity_id="7",
            new={"b": 1.5, "a": "µmol/L"},
        )
    assert entry.new_value == '{"a":"µmol/L","b":1.5}'
    assert entry.old_value is None


def test_a_subjects_history_lists_only_its_entries_oldest_first(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        for subject_id in (1, 2, 1):
            audit.record(
                session, actor="nurse", action="create", entity="ae", entity_id=1, subject_id=subject_id
            )
    with unit_of_work(sessions) as session:
        assert [e.id for e in audit.history(session, subject_id=1)] == [1, 3]


def test_entries_of_a_rolled_back_savepoint_leave_no_gap_in_the_chain(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as session:
        audit.record(session, actor="nurse", action="create", entity="ae", entity_id=1, field="term")
        savepoint = session.begin_nested()
        audit.record(session, actor="nurse", action="create", entity="ae", entity_id=1, field="grade")
        savepoint.rollback()
        with session.begin_nested():
            audit.record(session, actor="nurse", action="create", entity="ae", entity_id=1, field="onset")
        audit.record(session, actor="nurse", action="create", entity="ae", entity_id=1, field="outcome")
        assert audit.verify(session).count == 3
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
        fields = [e.field for e in audit.history(session, entity="ae", entity_id="1")]
    assert (report.ok, report.count) == (True, 3), str(report)
    assert fields == ["term", "onset", "outcome"]
