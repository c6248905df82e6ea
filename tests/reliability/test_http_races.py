"""Races through the HTTP API of a live server, on SQLite and PostgreSQL.

- The enrolment cap: with 39 of 40 subjects enrolled, 200 enrolment requests sent at once (one
  connection each) give exactly one 200 and 199 409 problem+json answers, and 40 enrolled.
- Two users saving the same form from the same version at the same moment: one wins, the other
  gets 409 naming the current version and what changed; the winner's values stay.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import httpx
from http_load import run_in_own_loop
from live import live_server
from pages import token_headers
from reliability_world import build_trial
from sqlalchemy import func, select
from stress_report import record_stress

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntry
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance, FormRevision
from celltrial.study.subjects.models import Subject
from celltrial.study.trial.models import Trial
from celltrial.study.users import service as users
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

PROBLEM = "application/problem+json"


async def _enrol_all_at_once(
    base: str, headers: dict[str, str], subject_ids: list[int]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(subject_ids), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as http:
        return await asyncio.gather(
            *(http.post(f"/api/v1/subjects/{subject}/enrolment", json={}) for subject in subject_ids)
        )


def test_with_39_enrolled_200_simultaneous_enrolment_requests_enrol_exactly_one(database_url: str) -> None:
    world = build_trial(database_url, enrolled=39, candidates=200)
    # the app's usual pool; requests may queue for a connection longer than its usual 30 s on a
    # busy machine, which would be a 503 unrelated to the cap under test
    app = create_app(engine=make_engine(database_url, pool_timeout=300), settings=WebSettings())
    with live_server(app) as base, httpx.Client(base_url=base) as client:
        headers = token_headers(client, world.investigator, world.password)
        answers = run_in_own_loop(_enrol_all_at_once(base, headers, world.candidates))
    statuses = Counter(answer.status_code for answer in answers)
    dialect = database_url.split(":", 1)[0].split("+")[0]
    record_stress(
        "load",
        f"enrolment race over HTTP ({dialect})",
        len(answers),
        sum(count for status, count in statuses.items() if status >= 500),
        f"39/40 enrolled, 200 requests at once: {dict(sorted(statuses.items()))}",
    )
    assert statuses == Counter({200: 1, 409: 199})
    (winner,) = [answer for answer in answers if answer.status_code == 200]
    assert winner.json()["subject_number"] == "S01-040"
    refusals = [answer for answer in answers if answer.status_code == 409]
    assert {answer.headers["content-type"] for answer in refusals} == {PROBLEM}
    assert {answer.json()["field"] for answer in refusals} == {"enrolment"}
    engine = make_engine(database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            numbered = session.scalar(select(func.count()).where(Subject.subject_number.is_not(None)))
            enrolled_count = session.get_one(Trial, world.study_id).enrolled_count
            enrolments = session.scalar(select(func.count()).where(AuditEntry.action == "enrol"))
            chain = audit.verify(session)
    finally:
        engine.dispose()
    assert (numbered, enrolled_count, enrolments) == (40, 40, 1)
    assert chain.ok, str(chain)


def test_two_users_saving_the_same_form_at_once_one_wins_and_the_other_gets_409_with_the_current_version(
    database_url: str,
) -> None:
    world = build_trial(database_url, enrolled=1)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        investigator = users.get_by_username_or_raise(session, username=world.investigator)
        form = forms.add_form(session, subject_id=world.enrolled[0], form_code="conmeds", by=investigator)
        form_id = form.id
        forms.save(
            session,
            form_id=form_id,
            values={"medication": "Tocilizumab", "indication": "CRS", "route": "intravenous"},
            expected_version=0,
            by=investigator,
        )
    app = create_app(database_url, WebSettings())
    start = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}
    doses = {world.investigator: 8, world.coordinator: 12}
    try:
        with live_server(app) as base:

            def save(username: str) -> None:
                with httpx.Client(base_url=base, timeout=60) as client:
                    headers = token_headers(client, username, world.password) | {"If-Match": 'W/"1"'}
                    body = {"values": {"dose": doses[username], "dose_unit": "mg/kg"}}
                    start.wait()
                    answers[username] = client.put(f"/api/v1/forms/{form_id}", json=body, headers=headers)

            savers = [threading.Thread(target=save, args=(username,)) for username in doses]
            for saver in savers:
                saver.start()
            for saver in savers:
                saver.join(timeout=120)
        with sessions() as session:
            stored = session.get_one(FormInstance, form_id)
            revisions = session.scalar(select(func.count()).where(FormRevision.form_id == form_id))
    finally:
        engine.dispose()
    statuses = sorted(answer.status_code for answer in answers.values())
    dialect = database_url.split(":", 1)[0].split("+")[0]
    record_stress(
        "load",
        f"two users saving one form at once ({dialect})",
        2,
        int(statuses != [200, 409] or stored.version != 2),
        f"answers {statuses}; the winner's value kept, version {stored.version}, {revisions} revisions",
    )
    assert statuses == [200, 409]
    (winner,) = [who for who, answer in answers.items() if answer.status_code == 200]
    (loser,) = [who for who, answer in answers.items() if answer.status_code == 409]
    refusal = answers[loser]
    assert refusal.headers["content-type"] == PROBLEM
    assert refusal.json()["field"] == "expected_version"
    assert "is at version 2, not 1" in refusal.json()["detail"]
    assert f"dose None → {doses[winner]}" in refusal.json()["detail"]
    assert answers[winner].json()["form"]["version"] == 2
    assert (stored.version, stored.data["dose"], revisions) == (2, doses[winner], 2)
