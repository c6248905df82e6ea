"""A full disk and a read-only database file (SQLite): every write is refused with a clear message
(503 problem+json through the API, one line and exit code 3 from the CLI), nothing half written,
the file intact (``PRAGMA integrity_check``) and the audit chain verifying.

The full disk is SQLite's own page limit (``PRAGMA max_page_count``, set on every connection of
the app's engine to a few pages above the file's size); the read-only file is opened with
``mode=ro`` (permission bits do not stop root, who runs the tests in CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from live import live_server
from pages import token_headers
from reliability_world import TrialWorld, build_trial
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from stress_report import record_stress

from celltrial.cli import main
from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.audit import service as audit
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance, FormRevision
from celltrial.study.users import service as users
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

PROBLEM = "application/problem+json"


@pytest.fixture
def trial(tmp_path: Path) -> TrialWorld:
    return build_trial(f"sqlite:///{tmp_path / 'celltrial.db'}", enrolled=3)


def _new_form(world: TrialWorld) -> int:
    engine = make_engine(world.url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            by = users.get_by_username_or_raise(session, username=world.investigator)
            return forms.add_form(session, subject_id=world.enrolled[0], form_code="conmeds", by=by).id
    finally:
        engine.dispose()


def _intact(url: str) -> tuple[str, bool, dict[int, tuple[int, int]]]:
    """integrity_check, whether the audit chain verifies, and each form's (version, revisions)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            integrity = str(connection.exec_driver_sql("PRAGMA integrity_check").scalar())
        with unit_of_work(session_factory(engine)) as session:
            chain = audit.verify(session)
            versions = dict(session.execute(select(FormInstance.id, FormInstance.version)).all())
            revisions = dict(
                session.execute(
                    select(FormRevision.form_id, func.count()).group_by(FormRevision.form_id)
                ).all()
            )
    finally:
        engine.dispose()
    return (
        integrity,
        chain.ok,
        {form: (version, revisions.get(form, 0)) for form, version in versions.items()},
    )


def _disk_of(engine: Engine, spare_pages: int) -> None:
    """Every connection of ``engine`` may grow the file by ``spare_pages`` pages beyond its size now."""
    with engine.connect() as connection:
        limit = int(connection.exec_driver_sql("PRAGMA page_count").scalar() or 0) + spare_pages

    @event.listens_for(engine, "connect")
    def full_disk(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {limit}")
        cursor.close()

    engine.dispose()


def test_a_full_disk_refuses_saves_with_a_clear_503_and_leaves_every_saved_form_whole(
    trial: TrialWorld,
) -> None:
    form_ids = [_new_form(trial) for _ in range(3)]
    engine = make_engine(trial.url)
    _disk_of(engine, spare_pages=6)
    app = create_app(engine=engine, settings=WebSettings())
    answers: list[httpx.Response] = []
    versions = dict.fromkeys(form_ids, 0)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        headers = token_headers(client, trial.investigator, trial.password)
        for attempt in range(300):
            form_id = form_ids[attempt % len(form_ids)]
            answer = client.put(
                f"/api/v1/forms/{form_id}",
                json={
                    "values": {
                        "medication": f"Tocilizumab {attempt} " + "x" * 150,
                        "indication": "CRS " * 40,
                    },
                    "reason": "transcription " + "y" * 500,
                },
                headers=headers | {"If-Match": f'W/"{versions[form_id]}"'},
            )
            answers.append(answer)
            if answer.status_code == 200:
                versions[form_id] = answer.json()["form"]["version"]
            elif answer.status_code == 503:
                break
        health = client.get("/api/v1/health")
    integrity, chain_ok, stored = _intact(trial.url)
    refused = [answer for answer in answers if answer.status_code == 503]
    record_stress(
        "faults",
        "disk full (SQLite page limit)",
        1,
        int(not refused or integrity != "ok" or not chain_ok),
        f"{len(answers) - len(refused)} saves fitted, then 503; integrity {integrity}, chain ok {chain_ok}",
    )
    assert {answer.status_code for answer in answers} <= {200, 503}
    assert refused, "the disk never filled up"
    problem = refused[0].json()
    assert refused[0].headers["content-type"] == PROBLEM
    assert "database or disk is full" in problem["detail"]
    assert "nothing was saved" in problem["detail"]
    assert health.status_code == 200, "reading still works"
    assert (integrity, chain_ok) == ("ok", True)
    assert {form: stored[form] for form in form_ids} == {form: (v, v) for form, v in versions.items()}


def _read_only(url: str) -> str:
    return f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"


def test_a_read_only_database_refuses_writes_with_a_clear_503_and_still_answers_health(
    trial: TrialWorld,
) -> None:
    form_id = _new_form(trial)
    token_engine = make_engine(trial.url)
    app = create_app(engine=token_engine, settings=WebSettings())
    with live_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        headers = token_headers(client, trial.investigator, trial.password)
    before = _intact(trial.url)
    app = create_app(_read_only(trial.url), WebSettings())
    with live_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        save = client.put(
            f"/api/v1/forms/{form_id}",
            json={"values": {"medication": "Tocilizumab"}},
            headers=headers | {"If-Match": 'W/"0"'},
        )
        login = client.post(
            "/api/v1/auth/token", data={"username": trial.investigator, "password": trial.password}
        )
        health = client.get("/api/v1/health")
    after = _intact(trial.url)
    record_stress(
        "faults",
        "read-only database file",
        1,
        int(save.status_code != 503 or after != before),
        f"save {save.status_code}, login {login.status_code}, health {health.status_code}; nothing changed",
    )
    for refused in (save, login):
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert "readonly database" in refused.json()["detail"]
    assert health.status_code == 200
    assert after == before
    assert after[:2] == ("ok", True)


def test_the_cli_refuses_to_write_to_a_read_only_database_in_one_line_with_exit_code_3(
    trial: TrialWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _intact(trial.url)
    code = main(
        [
            "site",
            "add",
            "S09",
            "--name",
            "Ninth Hospital",
            "--country",
            "China",
            "--db",
            _read_only(trial.url),
        ]
    )
    error = capsys.readouterr().err
    assert code == 3
    assert error.count("\n") == 1
    assert error.startswith("error: ")
    assert "readonly database" in error
    assert "nothing was saved" in error
    assert _intact(trial.url) == before
