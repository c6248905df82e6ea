"""Backup and restore: a portable JSON-lines dump that round-trips with nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from study_world import PASSWORD, World, add_subjects, build_world

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.errors import Conflict, InvalidInput
from celltrial.study import backup as backups
from celltrial.study.audit import service as audit
from celltrial.study.locks import service as locks
from celltrial.study.signatures import service as signatures
from celltrial.study.sites import service as sites
from celltrial.study.users import service as users


def _fill(sessions: sessionmaker[Session]) -> World:
    world = build_world(sessions)
    first, _ = add_subjects(sessions, world)
    with unit_of_work(sessions) as session:
        signatures.sign(
            session, user=world["investigator"], password=PASSWORD, entity="form", entity_id=1,
            content={"pulse": 88, "note": "ünïcode ✓"}, meaning="authored", subject_id=first,
            site_id=world.s01.id,
        )  # fmt: skip
        locks.lock(session, subject_id=first, by=world["data_manager"], reason="interim analysis")
        audit.record(
            session,
            actor="nurse",
            action="update",
            entity="ae",
            entity_id=1,
            old=1.5,
            new=None,
            reason="typo",
        )
    return world


def _rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _round_trip(source: str, target: str, tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    engine = make_engine(source)
    backups.backup(engine, first)
    engine.dispose()
    engine = make_engine(target)
    summary = backups.restore(engine, first)
    backups.backup(engine, second)
    engine.dispose()
    assert summary.rows == len(_rows(first)) - 1
    return first, second


def test_a_backup_restored_elsewhere_backs_up_to_the_same_rows(
    database_url: str, sessions: sessionmaker[Session], sqlite_file: str, tmp_path: Path
) -> None:
    _fill(sessions)
    first, second = _round_trip(database_url, sqlite_file, tmp_path)
    assert _rows(first) == _rows(second)
    header = json.loads(_rows(first)[0])
    assert header["tables"]["audit_entry"] > 10
    assert header["tables"]["signature"] == 1


def test_a_restored_database_keeps_its_audit_chain_signatures_and_keeps_numbering(
    database_url: str, sqlite_file: str, tmp_path: Path
) -> None:
    # database_url is the empty target here: SQLite -> SQLite and SQLite -> PostgreSQL
    engine = make_engine(sqlite_file)
    source = session_factory(engine)
    world = _fill(source)
    engine.dispose()
    first, second = _round_trip(sqlite_file, database_url, tmp_path)
    assert _rows(first) == _rows(second)
    engine = make_engine(database_url)
    restored = session_factory(engine)
    try:
        with unit_of_work(restored) as session:
            report = audit.verify(session)
            assert report.ok, str(report)
            (status,) = signatures.signature_status(
                session, entity="form", entity_id=1, content={"pulse": 88, "note": "ünïcode ✓"}
            )
            assert status.valid
            assert status.signature.signed_at.tzinfo is not None
        with unit_of_work(restored) as session:
            site = sites.create(
                session, code="S03", name="Third", country="China", by=users.operator("tester")
            )
            assert site.id == world.s02.id + 1
            assert audit.verify(session).count == report.count + 1
    finally:
        engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _fill(sessions)
    path = tmp_path / "backup.jsonl"
    engine = make_engine(database_url)
    try:
        backups.backup(engine, path)
        with pytest.raises(Conflict, match="not empty"):
            backups.restore(engine, path)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param("not json\n", "not a celltrial backup", id="not a backup"),
        pytest.param(
            '{"format": "celltrial-backup", "version": 9}\n', "format version 9", id="future version"
        ),
    ],
)
def test_restore_refuses_a_file_that_is_not_a_backup(
    database_url: str, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    engine = make_engine(database_url)
    try:
        with pytest.raises(InvalidInput, match=problem):
            backups.restore(engine, path)
    finally:
        engine.dispose()


def test_a_truncated_backup_restores_nothing(database_url: str, sqlite_file: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_file)
    _fill(session_factory(engine))
    full = tmp_path / "full.jsonl"
    backups.backup(engine, full)
    engine.dispose()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(_rows(full)[:-3]) + "\n", encoding="utf-8")
    engine = make_engine(database_url)
    try:
        with pytest.raises(InvalidInput, match="incomplete"):
            backups.restore(engine, cut)
        with unit_of_work(session_factory(engine)) as session:
            assert audit.count(session) == 0
            assert sites.get_all(session) == []
    finally:
        engine.dispose()


def test_the_cli_backs_up_and_restores(
    database_url: str, sessions: sessionmaker[Session], sqlite_file: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from celltrial.cli import main

    _fill(sessions)
    path = tmp_path / "cli.jsonl"
    assert main(["db", "backup", str(path), "--db", database_url]) == 0
    assert main(["db", "restore", str(path), "--db", sqlite_file]) == 0
    out = capsys.readouterr().out
    assert out.startswith("backed up ")
    assert "restored " in out
    assert main(["audit", "verify", "--db", sqlite_file]) == 0
