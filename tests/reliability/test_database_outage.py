"""PostgreSQL goes away under the running app: requests get 503 problem+json (never 500), and the
app serves again once the database is back, without a restart.

In ``make test`` the outage is the app's own scratch database refusing connections
(``ALLOW_CONNECTIONS false``) with every connection to it terminated, which other tests on the
server do not notice. Under ``make test-stress`` the PostgreSQL server itself is stopped and
started again (``pg_ctlcluster``), alone (marker ``exclusive``), and always started again.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live import live_server
from pages import log_in, token_headers
from reliability_world import build_trial, forms_and_chain, scratch_database
from scratch_databases import POSTGRES_ADMIN_URL
from sqlalchemy import create_engine, text
from stress_report import record_stress

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.study.forms import service as forms
from celltrial.study.users import service as users
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

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
        elif answer.status_code == 409:  # a save whose answer was lost did commit: read the version
            latest = self.client.get(f"/api/v1/forms/{self.form_id}", headers=self.headers)
            if latest.status_code == 200:
                self.version = latest.json()["version"]
        return answer

    def all(self) -> dict[str, httpx.Response]:
        return {name: request() for name, request in self.requests().items()}


class Hammer(threading.Thread):
    """A client reading the casebook and saving its own form back to back until stopped."""

    def __init__(self, visit: Visit) -> None:
        super().__init__(daemon=True)
        self.visit = visit
        self.stopping = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.wrong: list[str] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            for name in ("casebook", "save"):
                try:
                    answer = self.visit.requests()[name]()
                except httpx.HTTPError as error:
                    self.wrong.append(f"{name}: {type(error).__name__}")
                    continue
                self.statuses[answer.status_code] += 1
                allowed = {200, 503, 409} if name == "save" else {200, 503}
                if answer.status_code not in allowed:
                    self.wrong.append(f"{name}: {answer.status_code} {answer.text[:200]}")
                elif answer.status_code != 200 and answer.headers["content-type"] != PROBLEM:
                    self.wrong.append(f"{name}: {answer.status_code} as {answer.headers['content-type']}")


@contextmanager
def _hammering(served: Served, clients: int) -> Iterator[list[Hammer]]:
    """``clients`` hammers on their own forms for the length of the block."""
    with contextlib.ExitStack() as stack:
        hammers = []
        for form_id in served.spare_forms[:clients]:
            client = stack.enter_context(httpx.Client(base_url=served.base, timeout=60))
            hammers.append(
                Hammer(Visit(client, client, served.visit.headers, served.visit.subject_id, form_id))
            )
        for hammer in hammers:
            hammer.start()
        try:
            yield hammers
        finally:
            for hammer in hammers:
                hammer.stopping.set()
            for hammer in hammers:
                hammer.join(timeout=120)


@dataclass
class Served:
    """The app served on a trial: one scripted visit, and forms for hammering clients."""

    url: str
    base: str
    visit: Visit
    spare_forms: list[int]

    def forms_intact(self) -> list[str]:
        """Forms whose version is not their number of revisions, and a broken audit chain."""
        engine = make_engine(self.url)
        try:
            with unit_of_work(session_factory(engine)) as session:
                versions, revisions, chain = forms_and_chain(session)
        finally:
            engine.dispose()
        wrong = [
            f"form {form}: version {version}, {revisions.get(form, 0)} revisions"
            for form, version in versions.items()
            if version != revisions.get(form, 0)
        ]
        return wrong + ([] if chain.ok else [f"audit chain: {chain}"])


@contextmanager
def _serving(database_url: str, hammers: int = 0) -> Iterator[Served]:
    world = build_trial(database_url, enrolled=2)
    form_ids = [
        _conmeds_form(database_url, world.investigator, world.enrolled[0]) for _ in range(hammers + 1)
    ]
    app = create_app(database_url, WebSettings())
    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=60) as client,
        httpx.Client(base_url=base, timeout=60) as browser,
    ):
        headers = token_headers(client, world.investigator, world.password)
        log_in(browser, world.investigator, world.password)
        visit = Visit(client, browser, headers, world.enrolled[0], form_ids[0])
        yield Served(database_url, base, visit, form_ids[1:])


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
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
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
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
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
    with _serving(database_url, hammers=4) as served:
        visit = served.visit
        before = visit.all()
        with _hammering(served, 4) as hammers:
            with _database_refusing_connections(database_url):
                during = visit.all()
                again = visit.all()
            after = visit.all()
            killed = 0
            for _ in range(5):  # connections killed in the middle of the clients' requests
                time.sleep(0.3)
                killed += _terminate_connections(database_url)
        after_kill = visit.all()
    under_load = Counter[int]()
    for hammer in hammers:
        under_load.update(hammer.statuses)
    hammered = [problem for hammer in hammers for problem in hammer.wrong]
    wrong = (
        _served(before)
        + _unavailable(during)
        + _unavailable(again)
        + _served(after)
        + _served(after_kill)
        + hammered
        + served.forms_intact()
    )
    record_stress(
        "faults",
        "database refuses connections, connections killed under load (postgresql)",
        3,
        int(bool(_unavailable(during) + _unavailable(again)))
        + int(bool(_served(after) + _served(after_kill)))
        + int(bool(hammered)),
        f"{len(during) + len(again)} requests during the outage: "
        f"{dict(Counter(a.status_code for a in [*during.values(), *again.values()]))}; "
        f"served again without restart; 4 clients meanwhile: {dict(under_load)}, "
        f"{killed} connections killed under them; forms and audit chain whole",
    )
    assert not wrong, "\n".join(wrong)
    assert under_load[200] > 0
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
    probe = create_engine(POSTGRES_ADMIN_URL)
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
    with (
        scratch_database(POSTGRES_ADMIN_URL, tmp_path) as database_url,
        _serving(database_url, hammers=8) as served,
    ):
        visit = served.visit
        before = visit.all()
        with _hammering(served, 8) as hammers:
            time.sleep(1)
            try:
                subprocess.run(
                    [*_cluster(), "stop", "-m", "fast"], check=True, capture_output=True, timeout=60
                )
                during = visit.all()
                time.sleep(1)
            finally:
                subprocess.run([*_cluster(), "start"], check=True, capture_output=True, timeout=120)
                _server_ready()
            time.sleep(1)
            after = visit.all()
        intact = served.forms_intact()
    under_load = Counter[int]()
    for hammer in hammers:
        under_load.update(hammer.statuses)
    hammered = [problem for hammer in hammers for problem in hammer.wrong]
    unavailable, answered = _unavailable(during), _served(before) + _served(after)
    record_stress(
        "faults",
        "PostgreSQL stopped and started under the app and 8 clients",
        1,
        int(bool(unavailable or answered or hammered or intact)),
        f"{len(during)} requests during the outage: {dict(Counter(a.status_code for a in during.values()))}; "
        f"8 clients throughout: {dict(under_load)}; served again without restart; "
        "forms and audit chain whole",
    )
    assert not unavailable + answered + hammered + intact, "\n".join(
        unavailable + answered + hammered + intact
    )
    assert visit.version == 2
    assert under_load[503] > 0, "the clients did not meet the outage"
