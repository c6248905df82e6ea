"""Load: 50 clients on loopback against a live server on PostgreSQL, each saving a form of its own
and reading a subject's casebook in turn, back to back: no 5xx, no failed request, and afterwards
every save each client saw succeed is in the database exactly once (the form's version and its
revisions both equal the client's count). The p95 latency goes to the stress report.

In ``make test-stress`` (the ``full`` variant): 60 s against ``celltrial serve --workers 2`` in
its own processes, every subject with its full casebook. In ``make test``: 5 s against the app
served from a thread of the test process (a served process takes up to a minute to start on a
busy CI machine), five full casebooks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from http_load import Served, celltrial_serve, run_clients
from live import live_server
from pages import token_headers
from reliability_world import build_trial, forms_and_chain
from stress_report import record_stress

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.forms import service as forms
from celltrial.study.users import service as users
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

CLIENTS = 50


@contextmanager
def _served(url: str, folder: Path, *, full_scale: bool) -> Iterator[Served]:
    if full_scale:
        with celltrial_serve(url, workers=2, log=folder / "serve.log") as served:
            yield served
    else:
        with live_server(create_app(url, WebSettings())) as base:
            yield Served(base)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_50_clients_saving_forms_and_reading_casebooks_get_no_error_and_every_save_is_stored_once(
    database_url: str, tmp_path: Path, full_scale: bool
) -> None:
    seconds, casebooks = (60.0, CLIENTS) if full_scale else (5.0, 5)
    server = "celltrial serve, 2 workers" if full_scale else "server thread"
    world = build_trial(database_url, enrolled=CLIENTS, casebooks=casebooks)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        coordinator = users.get_by_username_or_raise(session, username=world.coordinator)
        form_ids = [
            forms.add_form(session, subject_id=subject, form_code="conmeds", by=coordinator).id
            for subject in world.enrolled
        ]
    saved: Counter[int] = Counter()
    versions = dict.fromkeys(form_ids, 0)
    casebook_sizes: set[int] = set()

    with _served(database_url, tmp_path, full_scale=full_scale) as served:
        base = served.base
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = token_headers(client, world.coordinator, world.password)

        async def save_or_read(http: httpx.AsyncClient, number: int, iteration: int) -> str:
            if iteration % 2:
                subject = world.enrolled[number % casebooks]
                answer = await http.get(f"/api/v1/subjects/{subject}/forms", headers=headers)
                if answer.status_code == 200:
                    casebook_sizes.add(len(answer.json()))
                return "ok" if answer.status_code == 200 else f"HTTP {answer.status_code}"
            form_id = form_ids[number]
            answer = await http.put(
                f"/api/v1/forms/{form_id}",
                json={"values": {"dose": iteration + 1, "dose_unit": "mg"}, "reason": "dose from the chart"},
                headers=headers | {"If-Match": f'W/"{versions[form_id]}"'},
            )
            if answer.status_code != 200:
                return f"HTTP {answer.status_code}"
            versions[form_id] = answer.json()["form"]["version"]
            saved[form_id] += 1
            return "ok"

        cpu_before = served.cpu() if served.cpu else 0.0
        figures = run_clients(base, clients=CLIENTS, seconds=seconds, step=save_or_read)
        cpu_used = served.cpu() - cpu_before if served.cpu else None
    try:
        with unit_of_work(sessions) as session:
            stored, revisions, chain = forms_and_chain(session)
    finally:
        engine.dispose()
    lost_or_doubled = [
        f"form {form}: {saved[form]} saves answered 200, version {stored[form]}, "
        f"{revisions.get(form, 0)} revisions"
        for form in form_ids
        if not saved[form] == stored[form] == revisions.get(form, 0)
    ]
    record_stress(
        "load",
        f"{CLIENTS} clients x {seconds:.0f} s, form saves + casebook reads (postgresql, {server})",
        figures.requests,
        figures.errors + len(lost_or_doubled),
        f"{figures.summary()}; {saved.total()} saves, each stored once; "
        + (f"server CPU {1000 * cpu_used / figures.requests:.0f} ms a request; " if cpu_used else "")
        + f"casebooks of {max(casebook_sizes, default=0)} forms",
    )
    assert figures.server_errors == 0, figures.summary()
    assert figures.errors == 0, figures.summary()
    assert not lost_or_doubled, "\n".join(lost_or_doubled)
    assert saved.total() >= CLIENTS, "every client saved at least once"
    assert chain.ok, str(chain)
