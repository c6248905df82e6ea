"""The study command line: db upgrade/status, site and user management, audit verify and show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from study_world import World, add_subjects

from celltrial.cli import main
from celltrial.database import unit_of_work
from celltrial.study.audit import service as audit


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text("correct horse battery staple\n", encoding="utf-8")
    return path


def test_sites_and_users_are_added_listed_and_disabled(
    database_url: str, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", database_url)
    assert _run(capsys, "site", "add", "s01", "--name", "First Hospital", "--country", "China", *db)[0] == 0
    code, out, _ = _run(capsys, "site", "list", "--json", *db)
    assert (code, json.loads(out)[0]["code"]) == (0, "S01")
    add = ("user", "add", "li.wei", "--name", "Li Wei", "--role", "coordinator", "--site", "S01")
    code, out, _ = _run(capsys, *add, "--password-file", str(password_file), *db)
    assert (code, out.strip()) == (0, "added user li.wei (coordinator, site S01)")
    code, out, _ = _run(capsys, "user", "disable", "li.wei", "--reason", "left the site", *db)
    assert code == 0
    code, out, _ = _run(capsys, "user", "list", *db)
    assert out.split("\t")[0] == "li.wei"
    assert out.strip().endswith("disabled")
    code, out, _ = _run(capsys, "user", "list", "--json", *db)
    assert "password" not in out
    assert json.loads(out)[0]["disabled"] is True


def test_a_role_change_from_the_console_is_audited_and_a_site_role_needs_its_site(
    database_url: str,
    sessions: sessionmaker[Session],
    password_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = ("--db", database_url)
    assert _run(capsys, "site", "add", "S01", "--name", "First Hospital", "--country", "China", *db)[0] == 0
    add = ("user", "add", "li.wei", "--name", "Li Wei", "--role", "coordinator", "--site", "S01")
    assert _run(capsys, *add, "--password-file", str(password_file), *db)[0] == 0
    code, out, _ = _run(capsys, "user", "role", "li.wei", "monitor", "--reason", "now monitors", *db)
    assert (code, out.strip()) == (0, "li.wei is now monitor")
    code, _, err = _run(capsys, "user", "role", "li.wei", "investigator", "--reason", "back at the site", *db)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "site" in err
    code, out, _ = _run(capsys, "user", "list", "--json", *db)
    assert json.loads(out)[0]["role"] == "monitor"
    with unit_of_work(sessions) as session:
        changes = [entry for entry in audit.history(session, entity="user") if entry.action == "role.change"]
    assert len(changes) == 1
    assert changes[0].reason == "now monitors"


def test_bad_input_is_one_line_on_stderr_with_exit_code_2(
    database_url: str, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", database_url)
    code, _, err = _run(
        capsys,
        "user",
        "add",
        "x1y",
        "--name",
        "X",
        "--role",
        "chef",
        "--password-file",
        str(password_file),
        *db,
    )
    assert code == 2
    assert err.startswith("error: role: unknown role 'chef'")
    assert len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "site", "add", "S01", "--name", "A", "--country", "", *db)
    assert (code, err.strip()) == (2, "error: country: the site country is empty")


def test_a_reset_password_from_the_console_lifts_a_lockout(
    database_url: str, password_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", database_url)
    assert (
        _run(
            capsys,
            "user",
            "add",
            "ana",
            "--name",
            "Ana Monitor",
            "--role",
            "monitor",
            "--password-file",
            str(password_file),
            *db,
        )[0]
        == 0
    )
    new = tmp_path / "new.txt"
    new.write_text("another long passphrase\n", encoding="utf-8")
    assert _run(capsys, "user", "reset-password", "ana", "--password-file", str(new), *db)[:2] == (
        0,
        "reset the password of ana\n",
    )


def test_audit_verify_says_ok_with_the_count_then_names_the_broken_entry(
    database_url: str, sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", database_url)
    _run(capsys, "site", "add", "S01", "--name", "First", "--country", "China", *db)
    _run(capsys, "site", "add", "S02", "--name", "Second", "--country", "China", *db)
    assert _run(capsys, "audit", "verify", *db)[:2] == (0, "OK, 2 entries\n")
    with unit_of_work(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(text("UPDATE audit_entry SET actor = 'intruder' WHERE id = 1"))
    code, out, _ = _run(capsys, "audit", "verify", *db)
    assert code == 1
    assert out.startswith("entry 1: its content does not match its hash")
    code, out, _ = _run(capsys, "audit", "verify", "--json", *db)
    assert (code, json.loads(out)["first_broken_id"]) == (1, 1)


def test_audit_show_prints_a_subjects_history(
    database_url: str, sessions: sessionmaker[Session], world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    (subject_id,) = add_subjects(sessions, world, count=1)
    with unit_of_work(sessions) as session:
        audit.record(
            session, actor="nurse", action="create", entity="ae", entity_id=1, field="term", new="CRS",
            subject_id=subject_id,
        )  # fmt: skip
    code, out, _ = _run(capsys, "audit", "show", "S01-SCR-001", "--json", "--db", database_url)
    assert code == 0
    assert [(e["action"], e["new_value"]) for e in json.loads(out)] == [("create", '"CRS"')]
    code, out, _ = _run(capsys, "audit", "show", "S01-SCR-001", "--db", database_url)
    assert (code, "Audit trail of subject S01-SCR-001 (1 entries)" in out) == (0, True)
    code, _, err = _run(capsys, "audit", "show", "S09-SCR-404", "--db", database_url)
    assert (code, "no subject 'S09-SCR-404'" in err) == (2, True)


def test_db_status_and_upgrade_on_a_new_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code, _, err = _run(capsys, "site", "list", "--db", url)
    assert code == 2
    assert "celltrial db upgrade" in err
    code, out, _ = _run(capsys, "db", "upgrade", "--db", url)
    assert code == 0
    assert out.strip().endswith("up to date")
    code, out, _ = _run(capsys, "db", "status", "--json", "--db", url)
    status = json.loads(out)
    assert (code, status["pending"], status["rows"]["audit_entry"]) == (0, [], 0)
