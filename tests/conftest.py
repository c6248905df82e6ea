"""Fixtures shared by every test layer.

``database_url`` is parametrised over SQLite and PostgreSQL: every integration test that uses
it runs against both. PostgreSQL tests use the server at 127.0.0.1:5432 (user postgres, no
password, database ``test``) and a database of their own per test session and worker, dropped
at the end, so runs never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "CELLTRIAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public reference data sets in ../shared/data."""
    assert SHARED_DATA.is_dir(), f"reference data missing at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (and xdist worker), dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"celltrial_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a SQLite file, or a fresh schema-less PostgreSQL database.

    Each test gets a database of its own (SQLite: a new file; PostgreSQL: every table dropped
    and re-migrated), so tests never see each other's rows.
    """
    from celltrial.database import Base, make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'celltrial.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    try:
        _drop_everything(engine, Base)
        upgrade(engine)
        yield url
    finally:
        engine.dispose()


def _drop_everything(engine: object, base: object) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import Engine

    assert isinstance(engine, Engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
