"""``celltrial demo``: a fresh SQLite database filled with a simulated trial, its logins printed, served."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from celltrial.database import database_url, make_engine, session_factory
from celltrial.errors import InvalidInput

__all__ = ["demo", "register"]

LANDSCAPE = Path(str(resources.files("celltrial.registry") / "data" / "corpus"))
"""The CAR-T trial landscape shipped with celltrial (see its README)."""
TRIAL_RECORD = Path(str(resources.files("celltrial.protocol") / "data" / "NCT07008872.json"))


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
    patients: int = typer.Option(60, "--patients", min=1, help="Patients referred to the simulated trial."),
    seed: int = typer.Option(7, "--seed", min=0, help="Seed of the simulation (same seed, same trial)."),
    registry: Path | None = typer.Option(
        None,
        "--registry",
        help="CT.gov records to import into the registry portal (default: the shipped CAR-T landscape).",
    ),
) -> None:
    """Simulate the trial into a fresh SQLite database, print one login per role, and serve it."""
    from celltrial.registry import service as registry_service
    from celltrial.simulate import simulate_trial
    from celltrial.simulate.consort import render_consort
    from celltrial.simulate.demo_users import DEMO_PASSWORD, DEMO_USERS
    from celltrial.study.users.models import SITE_ROLES

    url = database_url(db)
    path = _fresh_sqlite(url)
    typer.echo(f"simulating NCT07008872 with {patients} referred patients (seed {seed}) ...")
    summary = simulate_trial(url, patients=patients, seed=seed)
    for line in render_consort(summary.consort):
        typer.echo(line)
    engine = make_engine(url)
    try:
        for source in (registry or LANDSCAPE, TRIAL_RECORD):
            typer.echo(f"importing the trial registry from {source} ...")
            report = registry_service.import_registry(factory=session_factory(engine), path=source)
            typer.echo(f"registry: {report.trials_in_sources} trials")
    finally:
        engine.dispose()
    typer.echo(f"demo database: {path}")
    typer.echo("logins (username / password / role / site):")
    for role, (username, _full_name) in DEMO_USERS.items():
        site = "S01" if role in SITE_ROLES else "-"
        typer.echo(f"  {username:<16} {DEMO_PASSWORD:<20} {role.value:<13} {site}")
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
