"""What the study's command-line groups share: the ``--db`` option and one unit of work per command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from celltrial.database import database_url, make_engine, pending_migrations, session_factory, unit_of_work
from celltrial.errors import InvalidInput

__all__ = ["DB_OPTION", "command_session", "describe", "engine_for"]

DB_OPTION = typer.Option(
    None, "--db", help="Database URL (default: $CELLTRIAL_DATABASE_URL, else sqlite:///celltrial.db)."
)


def describe(url: str | None) -> str:
    """The database URL with any password hidden."""
    return make_url(database_url(url)).render_as_string(hide_password=True)


@contextmanager
def engine_for(url: str | None) -> Iterator[Engine]:
    """An engine on the chosen database, disposed of at the end of the command."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def command_session(url: str | None) -> Iterator[Session]:
    """The command's unit of work, on a database whose schema is up to date."""
    with engine_for(url) as engine:
        pending = pending_migrations(engine)
        if pending:
            raise InvalidInput(
                f"the database {describe(url)} is not up to date ({len(pending)} migrations pending): "
                "run `celltrial db upgrade` first",
                field="--db",
            )
        with unit_of_work(session_factory(engine)) as session:
            yield session
