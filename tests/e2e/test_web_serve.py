"""``celltrial serve`` refuses a database that is behind or unreachable; the app answers 503 problems
when its database cannot be reached."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from anyio.to_thread import current_default_thread_limiter
from fastapi.testclient import TestClient

from celltrial.cli import main
from celltrial.commands.serve import default_workers
from celltrial.database import make_engine
from celltrial.web.app import create_app, worker_threads
from celltrial.web.settings import WebSettings

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1"


def test_serve_refuses_a_database_whose_migrations_are_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert main(["serve", "--db", url]) == 2
    error = capsys.readouterr().err
    assert "behind" in error
    assert f"celltrial db upgrade --db {url}" in error


def test_serve_refuses_a_database_it_cannot_reach(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", UNREACHABLE]) == 3
    assert "cannot be reached" in capsys.readouterr().err


def test_an_unreachable_database_is_a_503_problem_not_a_crash() -> None:
    with TestClient(create_app(UNREACHABLE, WebSettings())) as client:
        health = client.get("/api/v1/health")
        assert health.status_code == 503
        assert health.headers["content-type"] == "application/problem+json"
        study = client.get("/api/v1/study", headers={"Authorization": "Bearer anything"})
        assert study.status_code == 503
        assert study.json()["title"] == "Service unavailable"
        client.cookies.set("celltrial_session", "a-session-the-database-would-know")
        page = client.get("/")
        assert page.status_code == 503
        assert "Service unavailable" in page.text


def test_serve_runs_one_worker_per_core_and_one_on_an_in_memory_database() -> None:
    assert default_workers("postgresql+psycopg://postgres@127.0.0.1:5432/trial") == (os.cpu_count() or 1)
    assert default_workers("sqlite:////srv/celltrial.db") == (os.cpu_count() or 1)
    assert default_workers("sqlite://") == 1
    assert default_workers("sqlite:///:memory:") == 1


def test_routes_run_in_as_many_threads_as_the_pool_has_connections() -> None:
    engine = make_engine(UNREACHABLE, pool_size=7, max_overflow=3)
    assert worker_threads(engine) == 10
    assert worker_threads(make_engine("sqlite://")) is None
    with TestClient(create_app(engine=engine, settings=WebSettings())) as client:
        assert client.portal is not None
        assert client.portal.call(lambda: current_default_thread_limiter().total_tokens) == 10
