"""Data lock per subject and per study: locked data cannot change; unlocking needs a reason."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from study_world import World, add_subjects

from celltrial.database import unit_of_work
from celltrial.errors import Conflict, InvalidInput, Locked, NotAllowed, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.locks import service as locks


@pytest.fixture
def subjects(sessions: sessionmaker[Session], world: World) -> tuple[int, int]:
    """Two screened subjects at site S01."""
    first, second = add_subjects(sessions, world)
    return first, second


def test_a_locked_subject_refuses_changes_and_others_do_not(
    sessions: sessionmaker[Session], world: World, subjects: tuple[int, int]
) -> None:
    first, second = subjects
    with unit_of_work(sessions) as session:
        locks.lock(session, subject_id=first, by=world["data_manager"], reason="database lock")
    with pytest.raises(Locked, match=f"subject {first} is locked"), unit_of_work(sessions) as session:
        locks.ensure_unlocked(session, subject_id=first)
    with unit_of_work(sessions) as session:
        locks.ensure_unlocked(session, subject_id=second)


def test_a_study_lock_blocks_every_subject(
    sessions: sessionmaker[Session], world: World, subjects: tuple[int, int]
) -> None:
    with unit_of_work(sessions) as session:
        locks.lock(session, subject_id=None, by=world["data_manager"])
    for subject_id in subjects:
        with pytest.raises(Locked, match="the study is locked"), unit_of_work(sessions) as session:
            locks.ensure_unlocked(session, subject_id=subject_id)


def test_unlocking_needs_a_reason_and_is_audited(
    sessions: sessionmaker[Session], world: World, subjects: tuple[int, int]
) -> None:
    first, _ = subjects
    manager = world["data_manager"]
    with unit_of_work(sessions) as session:
        locks.lock(session, subject_id=first, by=manager)
    with pytest.raises(InvalidInput, match="reason"), unit_of_work(sessions) as session:
        locks.unlock(session, subject_id=first, reason="  ", by=manager)
    with unit_of_work(sessions) as session:
        locks.unlock(session, subject_id=first, reason="query on AE end date", by=manager)
    with unit_of_work(sessions) as session:
        locks.ensure_unlocked(session, subject_id=first)
        actions = [(e.action, e.reason) for e in audit.history(session, subject_id=first)]
    assert actions == [("lock", None), ("unlock", "query on AE end date")]


def test_only_a_data_manager_locks_and_unlocks(
    sessions: sessionmaker[Session], world: World, subjects: tuple[int, int]
) -> None:
    for who in ("investigator", "monitor", "admin", "sponsor"):
        with pytest.raises(NotAllowed), unit_of_work(sessions) as session:
            locks.lock(session, subject_id=subjects[0], by=world[who])


def test_locking_twice_or_unlocking_what_is_not_locked_is_a_conflict(
    sessions: sessionmaker[Session], world: World, subjects: tuple[int, int]
) -> None:
    manager = world["data_manager"]
    with unit_of_work(sessions) as session:
        locks.lock(session, subject_id=None, by=manager)
    with pytest.raises(Conflict, match="already locked"), unit_of_work(sessions) as session:
        locks.lock(session, subject_id=None, by=manager)
    with pytest.raises(Conflict, match="not locked"), unit_of_work(sessions) as session:
        locks.unlock(session, subject_id=subjects[1], reason="why not", by=manager)


def test_locking_an_unknown_subject_is_reported(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(NotFound), unit_of_work(sessions) as session:
        locks.lock(session, subject_id=4242, by=world["data_manager"])
