"""Database plumbing shared by every domain that persists data.

- :class:`Base`: the declarative base of every ORM class (one ``MetaData``, one naming convention).
- :func:`database_url`: ``CELLTRIAL_DATABASE_URL`` or a SQLite file ``celltrial.db`` in the
  working directory; PostgreSQL in production (``postgresql+psycopg://...``).
- :func:`make_engine`: an engine with SQLite set up for a regulated workload (WAL journal,
  foreign keys on, a busy timeout so concurrent writers wait instead of failing).
- :func:`unit_of_work`: one session and one transaction per command or request; commit on
  success, roll back on any error, so a failed service call changes nothing; a database that
  fails it (unreachable, disk full, read-only file) is :class:`ServiceUnavailable` (503, exit 3).
- :func:`upgrade` / :func:`pending_migrations`: Alembic migrations, one branch per domain
  (``celltrial/migrations/versions``), all upgraded together to ``heads``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from celltrial.errors import InvalidInput, ServiceUnavailable

DEFAULT_URL = "sqlite:///celltrial.db"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every celltrial table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def database_url(url: str | None = None) -> str:
    """The database to use: the argument, else ``CELLTRIAL_DATABASE_URL``, else ``celltrial.db``."""
    chosen = url or os.environ.get("CELLTRIAL_DATABASE_URL") or DEFAULT_URL
    if chosen.startswith("postgresql://"):
        chosen = "postgresql+psycopg://" + chosen.removeprefix("postgresql://")
    if not chosen.startswith(("sqlite://", "postgresql+psycopg://")):
        raise InvalidInput(
            f"'{chosen}' is not a supported database URL (use sqlite:///FILE or postgresql://...)",
            field="database url",
        )
    return chosen


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, **options: Any) -> Engine:
    """An engine for ``url`` (see :func:`database_url`)."""
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(resolved, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **options)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _driver_errors(*names: str) -> tuple[type[BaseException], ...]:
    """The database drivers' exception classes called ``names`` (psycopg's once it is loaded)."""
    drivers = [sqlite3, sys.modules.get("psycopg")]
    return tuple(getattr(driver, name) for driver in drivers if driver is not None for name in names)


def connection_failure(error: BaseException) -> bool:
    """Whether ``error`` is the database failing rather than the request: SQLAlchemy's
    ``OperationalError``/``InterfaceError``, or the driver's own (psycopg, sqlite3) when code
    that talks to the driver directly (a hook after commit) meets a lost connection."""
    return isinstance(
        error, (OperationalError, InterfaceError, *_driver_errors("OperationalError", "InterfaceError"))
    )


def unavailable(error: BaseException) -> ServiceUnavailable:
    """The error to show for a database that failed a unit of work (see :func:`connection_failure`).

    SQLite's own reasons name no server and tell the user what is wrong ("database or disk is
    full", "attempt to write a readonly database", "database is locked"); SQLite commits in the
    process, so a failure there means the transaction was rolled back. A server's connection
    errors name its address and databases, so they stay in the exception chain and out of the
    message an API client sees; and a connection lost at commit leaves unknown whether the
    commit happened, so the message says to reload before saving again.
    """
    reason = getattr(error, "orig", None) or error
    if isinstance(reason, sqlite3.Error):
        said = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
        return ServiceUnavailable(f"the database refused the write, nothing was saved: {said}")
    return ServiceUnavailable(
        "the database cannot be reached or lost the connection; try again shortly "
        "(reload before saving again: a save whose answer was lost may have been stored)"
    )


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises.

    A rollback that cannot run (the connection is gone, or the failure came after the commit)
    never hides the error that ended the unit of work; a failing database is
    :class:`ServiceUnavailable`.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as error:
        with suppress(SQLAlchemyError, *_driver_errors("Error")):
            session.rollback()
        if isinstance(error, Exception) and connection_failure(error):
            raise unavailable(error) from error
        raise
    finally:
        with suppress(SQLAlchemyError, *_driver_errors("Error")):
            session.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("celltrial") / "migrations"))
    config.attributes["connection_engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every pending migration of every domain."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "heads")


def pending_migrations(engine: Engine) -> list[str]:
    """Revisions not yet applied to the database (empty when it is up to date)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    wanted: list[str] = []
    for head in script.get_heads():
        for revision in script.iterate_revisions(head, "base"):
            if revision.revision in applied:
                break
            wanted.append(revision.revision)
    if applied:
        applied_ancestors = {
            rev.revision for head in applied for rev in script.iterate_revisions(head, "base")
        }
        wanted = [rev for rev in wanted if rev not in applied_ancestors]
    return sorted(set(wanted))
