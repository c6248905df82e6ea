"""PostgreSQL goes away under the running app: requests get 503 problem+json (never 500), and the
app serves again once the database is back, without a restart.

In ``make test`` the outage is the app's own scratch database refusing connections
(``ALLOW_CONNECTIONS false``) with every connection to it terminated, which other tests on the
server do not notice. Under ``make test-stress`` the PostgreSQL server itself is stopped and
started again (``pg_ctlcluster``), alone (marker ``exclusive``), and always started again.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from live import live_server
from pages import log_in, token_headers
from reliability_world import build_trial, scratch_database
from sqlalchemy import create_engine, text
from stress_report import record_stress

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.forms import service as forms
from celltrial.study.users import service as users
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

ADMIN_URL = os.environ.get("CELLTRIAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROBLEM = "application/problem+json"
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def _conmeds_form(url: str, username: str, subject_id: int) -> int:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            by = users.get_by_username_or_raise(session, username=username)
            return forms.add_form(session, subject_id=subject_id, form_code="conmeds", by=by).id
    finally:
        engine.dispose()


class Visit:
    """What a user of the app does: read the casebook, save the form, load a page, ask for health."""

    def __init__(
        self,
        client: httpx.Client,
        browser: httpx.Client,
        headers: dict[str, str],
        subject_id: int,
        form_id: int,
    ) -> None:
        self.client, self.browser, self.headers = client, browser, headers
        self.subject_id, self.form_id = subject_id, form_id
        self.version = 0
        self.dose = 0

    def requests(self) -> dict[str, Callable[[], httpx.Response]]:
        return {
            "casebook": lambda: self.client.get(
                f"/api/v1/subjects/{self.subject_id}/forms", headers=self.headers
            ),
            "save": self._save,
            "health": lambda: self.client.get("/api/v1/health"),
            "token": lambda: self.client.post(
                "/api/v1/auth/token", data={"username": "coordinator", "password": "wrong-password-1"}
            ),
            "page": lambda: self.browser.get(f"/subjects/{self.subject_id}", headers={"accept": "text/html"}),
        }

    def _save(self) -> httpx.Response:
        self.dose += 1
        answer = self.client.put(
            f"/api/v1/forms/{self.form_id}",
            json={
                "values": {"medication": "Tocilizumab", "dose": self.dose, "dose_unit": "mg/kg"},
                "reason": "dose",
            },
            headers=self.headers | {"If-Match": f'W/"{self.version}"'},
        )
        if answer.status_code == 200:
            self.version = answer.json()["form"]["version"]
        return answer

    def all(self) -> dict[str, httpx.Response]:
        return {name: request() for name, request in self.requests().items()}


@contextmanager
def _serving(database_url: str) -> Iterator[Visit]:
    world = build_trial(database_url, enrolled=2)
    form_id = _conmeds_form(database_url, world.investigator, world.enrolled[0])
    app = create_app(database_url, WebSettings())
    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=60) as client,
        httpx.Client(base_url=base, timeout=60) as browser,
    ):
        headers = token_headers(client, world.investigator, world.password)
        log_in(browser, world.investigator, world.password)
        yield Visit(client, browser, headers, world.enrolled[0], form_id)


def _unavailable(answers: dict[str, httpx.Response]) -> list[str]:
    """What is wrong with the answers given while the database is away (empty: all 503 as they should)."""
    wrong = []
    for name, answer in answers.items():
        if answer.status_code != 503:
            wrong.append(f"{name}: {answer.status_code} {answer.text[:200]}")
        elif name != "page" and answer.headers["content-type"] != PROBLEM:
            wrong.append(f"{name}: 503 as {answer.headers['content-type']}")
        elif name == "page" and "text/html" not in answer.headers["content-type"]:
            wrong.append(f"page: 503 as {answer.headers['content-type']}")
    return wrong


def _served(answers: dict[str, httpx.Response]) -> list[str]:
    expected = {"casebook": 200, "save": 200, "health": 200, "token": 401, "page": 200}
    return [
        f"{name}: {answer.status_code} {answer.text[:200]}"
        for name, answer in answers.items()
        if answer.status_code != expected[name]
    ]


@contextmanager
def _database_refusing_connections(url: str) -> Iterator[None]:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def _terminate_connections(url: str) -> int:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            killed = connection.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name},
            ).scalar()
    finally:
        admin.dispose()
    return int(killed or 0)


@ON_POSTGRESQL
def test_requests_get_503_problems_while_the_database_refuses_connections_and_succeed_after(
    database_url: str,
) -> None:
    with _serving(database_url) as visit:
        before = visit.all()
        with _database_refusing_connections(database_url):
            during = visit.all()
            again = visit.all()
        after = visit.all()
        killed = _terminate_connections(database_url)
        after_kill = visit.all()
    wrong = (
        _served(before) + _unavailable(during) + _unavailable(again) + _served(after) + _served(after_kill)
    )
    record_stress(
        "faults",
        "database refuses connections (postgresql)",
        2,
        int(bool(_unavailable(during) + _unavailable(again)))
        + int(bool(_served(after) + _served(after_kill))),
        f"{len(during) + len(again)} requests during the outage: "
        f"{dict(Counter(a.status_code for a in [*during.values(), *again.values()]))}; "
        f"served again without restart; {killed} connections terminated then recovered",
    )
    assert not wrong, "\n".join(wrong)
    leaks = [
        name
        for name, answer in during.items()
        if "127.0.0.1" in answer.text or "celltrial_test" in answer.text
    ]
    assert not leaks, "a 503 names the database server or database"
    assert during["casebook"].json()["title"] == "Service unavailable"
    assert during["save"].headers["retry-after"] == "5"
    assert "Traceback" not in during["page"].text
    assert visit.version == 3, "the two saves before and after the outage were kept, the others refused"


# --- the real server restarted: make test-stress only, alone --------------------------------------


def _cluster() -> list[str]:
    (version,) = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def _server_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    probe = create_engine(ADMIN_URL)
    try:
        while True:
            try:
                with probe.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        probe.dispose()


@pytest.mark.stress
@pytest.mark.exclusive
@pytest.mark.postgres
def test_requests_get_503_problems_while_postgresql_is_stopped_and_succeed_once_it_is_back(
    tmp_path: Path,
) -> None:
    # a database of its own rather than the session's fixtures, whose server connections the
    # restart would break under their teardown
    with scratch_database(ADMIN_URL, tmp_path) as database_url, _serving(database_url) as visit:
        before = visit.all()
        try:
            subprocess.run([*_cluster(), "stop", "-m", "fast"], check=True, capture_output=True, timeout=60)
            during = visit.all()
        finally:
            subprocess.run([*_cluster(), "start"], check=True, capture_output=True, timeout=120)
            _server_ready()
        after = visit.all()
    unavailable, served = _unavailable(during), _served(before) + _served(after)
    record_stress(
        "faults",
        "PostgreSQL stopped and started under the app",
        1,
        int(bool(unavailable or served)),
        f"{len(during)} requests during the outage: {dict(Counter(a.status_code for a in during.values()))}; "
        "served again without restart",
    )
    assert not unavailable + served, "\n".join(unavailable + served)
    assert visit.version == 2
