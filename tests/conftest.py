"""Fixtures shared by every test layer.

``database_url`` is parametrised over SQLite and PostgreSQL: every integration test that uses
it runs against both. PostgreSQL tests use the server at 127.0.0.1:5432 (user postgres, no
password, database ``test``) and a database of their own per test session and worker, dropped
at the end, so runs never collide.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from scratch_databases import scratch_postgres

# Property tests are deterministic (fixed derivation of examples) and judged on what they find,
# never on how long an example took on a busy CI machine.
settings.register_profile(
    "celltrial",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("celltrial")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public reference data sets in ../shared/data."""
    assert SHARED_DATA.is_dir(), f"reference data missing at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (and xdist worker), dropped afterwards."""
    with scratch_postgres("celltrial_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test copies it."""
    from celltrial.database import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "celltrial.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session, used only as a template to clone."""
    from celltrial.database import make_engine, upgrade

    with scratch_postgres("celltrial_template") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of the test's own, on SQLite or on PostgreSQL.

    Migrations run once per session; each test gets a copy (SQLite: the template file copied;
    PostgreSQL: ``CREATE DATABASE ... TEMPLATE``, dropped afterwards), so tests never see each
    other's rows.
    """
    if request.param == "sqlite":
        target = tmp_path / "celltrial.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    with scratch_postgres("celltrial_test", template=request.getfixturevalue("postgres_template")) as url:
        yield url
