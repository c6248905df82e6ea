"""``celltrial serve``: run the web app and REST API with uvicorn on a migrated database."""

from __future__ import annotations

import os

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from celltrial.database import database_url, make_engine, pending_migrations
from celltrial.errors import Conflict, InvalidInput, ServiceUnavailable

__all__ = ["check_database", "default_workers", "register", "serve"]


def shown(url: str) -> str:
    """The database URL as it may be printed (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


def check_database(url: str) -> None:
    """Refuse a database that cannot be reached or whose migrations are behind, saying how to fix it."""
    engine = make_engine(url)
    try:
        pending = pending_migrations(engine)
    except SQLAlchemyError as error:
        raise ServiceUnavailable(
            f"the database {shown(url)} cannot be reached: {type(error).__name__}", field="--db"
        ) from None
    finally:
        engine.dispose()
    if pending:
        raise Conflict(
            f"the database is behind by {len(pending)} migration(s) ({', '.join(pending)}); "
            f"run: celltrial db upgrade --db {shown(url)}",
            field="--db",
        )


def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:")


def default_workers(url: str) -> int:
    """One worker process per CPU core (a Python process runs its requests on one core at a time);
    one for an in-memory SQLite database, which only its own process can see."""
    return 1 if _in_memory(url) else max(1, os.cpu_count() or 1)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: CELLTRIAL_DATABASE_URL, else sqlite:///celltrial.db)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64, help="Worker processes (default: one per CPU core)."
    ),
) -> None:
    """Serve the web app and the REST API (refuses a database whose migrations are behind)."""
    import uvicorn

    url = database_url(db)
    check_database(url)
    workers = workers or default_workers(url)
    if workers > 1 and _in_memory(url):
        raise InvalidInput(
            "an in-memory SQLite database cannot be shared by several workers", field="--workers"
        )
    os.environ["CELLTRIAL_DATABASE_URL"] = url
    typer.echo(
        f"celltrial on http://{host}:{port} (database {shown(url)}, {workers} worker process"
        f"{'es' if workers > 1 else ''}); API docs at /docs"
    )
    uvicorn.run(
        "celltrial.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        timeout_keep_alive=30,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
