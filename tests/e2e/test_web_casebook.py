"""The casebook listing (``GET /api/v1/subjects/{id}/forms``), read in one statement: each form's
open queries, and every form shown locked while a lock holds on the subject or the study."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_world import World
from fastapi.testclient import TestClient
from sqlalchemy import event

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.forms.service import create_instance
from celltrial.study.subjects.models import Subject
from celltrial.study.users import service as users

Headers = dict[str, dict[str, str]]


def _new_subject(client: TestClient, as_role: Headers, world: World, initials: str) -> int:
    new = {"site_id": world.site_a, "date_of_birth": "1980-05-01", "sex": "female", "initials": initials}
    made = client.post("/api/v1/subjects", json=new, headers=as_role["coordinator"])
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


@pytest.fixture(scope="module")
def subjects(client: TestClient, as_role: Headers, world: World) -> tuple[int, int, list[int]]:
    """Two subjects at site A; the first with a laboratory and a vital-signs form (log entries)."""
    first = _new_subject(client, as_role, world, "CB")
    second = _new_subject(client, as_role, world, "CC")
    engine = make_engine(world.url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            by = users.get_by_username(session, username=world["coordinator"])
            assert by is not None
            subject = session.get(Subject, first)
            assert subject is not None
            forms = [
                create_instance(session, subject=subject, form_code=code, by=by).id
                for code in ("labs", "vital_signs")
            ]
    finally:
        engine.dispose()
    return first, second, forms


def _casebook(client: TestClient, as_role: Headers, subject_id: int) -> dict[int, dict[str, Any]]:
    answer = client.get(f"/api/v1/subjects/{subject_id}/forms", headers=as_role["monitor"])
    assert answer.status_code == 200, answer.text
    return {item["id"]: item for item in answer.json()}


def _query(client: TestClient, as_role: Headers, form_id: int, field: str) -> int:
    raised = client.post(
        f"/api/v1/forms/{form_id}/queries",
        json={"field": field, "text": "please check"},
        headers=as_role["monitor"],
    )
    assert raised.status_code == 201, raised.text
    return int(raised.json()["id"])


def test_each_form_counts_its_own_open_queries(
    client: TestClient, as_role: Headers, subjects: tuple[int, int, list[int]]
) -> None:
    first, _, (labs, vitals) = subjects
    before = _casebook(client, as_role, first)
    _query(client, as_role, labs, "wbc")
    _query(client, as_role, labs, "platelets")
    after = _casebook(client, as_role, first)
    assert after[labs]["open_queries"] == before[labs]["open_queries"] + 2
    assert after[vitals]["open_queries"] == before[vitals]["open_queries"]
    detail = client.get(f"/api/v1/forms/{labs}", headers=as_role["monitor"]).json()
    assert detail["open_queries"] == after[labs]["open_queries"]


@pytest.fixture
def statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app sends while the test runs (the sign-in check's included)."""
    sent: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def record(*arguments: Any) -> None:
        sent.append(arguments[2])

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_the_casebook_is_read_in_one_statement_after_the_sign_in_check(
    client: TestClient, as_role: Headers, subjects: tuple[int, int, list[int]], statements: list[str]
) -> None:
    listed = _casebook(client, as_role, subjects[0])
    assert set(subjects[2]) <= set(listed)
    reads = [sql for sql in statements if "api_token" not in sql and "user_account" not in sql]
    assert len(reads) == 1, reads


@pytest.mark.parametrize("scope", ["subject", "study"])
def test_every_form_shows_locked_while_a_lock_holds_and_another_subjects_lock_does_not_count(
    client: TestClient, as_role: Headers, subjects: tuple[int, int, list[int]], scope: str
) -> None:
    first, second, _ = subjects
    manager = as_role["data_manager"]
    other = client.post(
        "/api/v1/locks", json={"subject_id": second, "reason": "other subject"}, headers=manager
    )
    assert other.status_code == 201, other.text
    assert "locked" not in {item["status"] for item in _casebook(client, as_role, first).values()}
    locked_id = first if scope == "subject" else None
    locked = client.post(
        "/api/v1/locks", json={"subject_id": locked_id, "reason": "cut-off"}, headers=manager
    )
    assert locked.status_code == 201, locked.text
    assert {item["status"] for item in _casebook(client, as_role, first).values()} == {"locked"}
    for subject_id in (locked_id, second):
        released = client.post(
            "/api/v1/locks/release", json={"subject_id": subject_id, "reason": "test over"}, headers=manager
        )
        assert released.status_code == 200, released.text
    assert "locked" not in {item["status"] for item in _casebook(client, as_role, first).values()}
