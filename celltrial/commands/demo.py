"""``celltrial demo``: a fresh SQLite database with a small demo trial, its logins printed, served."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from celltrial.database import database_url, make_engine, session_factory, upgrade
from celltrial.errors import InvalidInput

__all__ = ["demo", "register"]

LANDSCAPE = Path("..") / "shared" / "data" / "ctgov" / "corpus"


def _fresh_sqlite(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise InvalidInput(
            f"the demo needs a SQLite file database (sqlite:///FILE), not {url!r}", field="--db"
        )
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)
    return path


def demo(
    db: str = typer.Option("sqlite:///var/demo.db", "--db", help="The SQLite database to (re)create."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the web app afterwards."),
    registry: Path | None = typer.Option(
        None,
        "--registry",
        help=f"CT.gov records to import into the registry portal (default: {LANDSCAPE} if present).",
    ),
) -> None:
    """Create a fresh demo database (two sites, one login per role, six patients) and serve it."""
    from celltrial.registry import service as registry_service
    from celltrial.web.demo import build_demo

    url = database_url(db)
    path = _fresh_sqlite(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        built = build_demo(session_factory(engine))
        landscape = registry or (LANDSCAPE if LANDSCAPE.is_dir() else None)
        if landscape is not None:
            typer.echo(f"importing the trial registry from {landscape} ...")
            report = registry_service.import_registry(factory=session_factory(engine), path=landscape)
            typer.echo(f"registry: {report.trials_in_sources} trials")
    finally:
        engine.dispose()
    typer.echo(f"demo database: {path}")
    typer.echo(f"subjects: {', '.join(f'{story} (id {number})' for story, number in built.subjects.items())}")
    typer.echo("logins (username / password / role / site):")
    for login in built.logins:
        typer.echo(f"  {login.username:<16} {login.password:<20} {login.role:<13} {login.site or '-'}")
    typer.echo(f"open http://{host}:{port}")
    if not serve:
        return
    import uvicorn

    os.environ["CELLTRIAL_DATABASE_URL"] = url
    uvicorn.run(
        "celltrial.web.app:create_app", factory=True, host=host, port=port, log_level="info", access_log=False
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
