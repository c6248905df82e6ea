"""``celltrial db``: migrate, back up, restore and inspect the study database."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy import func, select

from celltrial.database import Base, pending_migrations, upgrade
from celltrial.study import backup as backups
from celltrial.study.console import DB_OPTION, describe, engine_for

db_app = typer.Typer(help="The study database: migrations, backup and restore.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(db: str | None = DB_OPTION) -> None:
    """Apply every pending migration."""
    with engine_for(db) as engine:
        pending = pending_migrations(engine)
        upgrade(engine)
    typer.echo(f"{describe(db)}: applied {len(pending)} migrations, up to date")


@db_app.command("status")
def status_command(db: str | None = DB_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show the migrations applied and pending, and the rows in each table."""
    with engine_for(db) as engine, engine.connect() as connection:
        pending = pending_migrations(engine)
        heads = backups.current_heads(connection)
        counts: dict[str, int] = {}
        if not pending:
            for table in Base.metadata.sorted_tables:
                counts[table.name] = int(connection.scalar(select(func.count()).select_from(table)) or 0)
    if as_json:
        typer.echo(
            json.dumps({"database": describe(db), "migrations": heads, "pending": pending, "rows": counts})
        )
        return
    typer.echo(f"database: {describe(db)}")
    typer.echo(f"migrations: {', '.join(heads) or 'none'}")
    typer.echo(f"pending: {', '.join(pending) if pending else 'none (up to date)'}")
    for name, count in sorted(counts.items()):
        typer.echo(f"  {name}: {count} rows")


@db_app.command("backup")
def backup_command(
    file: Path = typer.Argument(..., help="The JSON-lines file to write."), db: str | None = DB_OPTION
) -> None:
    """Write every row of every table to FILE (portable JSON lines, one consistent snapshot)."""
    with engine_for(db) as engine:
        summary = backups.backup(engine, file)
    typer.echo(f"backed up {summary.rows} rows of {len(summary.tables)} tables to {file}")


@db_app.command("restore")
def restore_command(
    file: Path = typer.Argument(..., help="A file written by `celltrial db backup`."),
    db: str | None = DB_OPTION,
) -> None:
    """Load FILE into an empty database (migrating it first); all rows or none."""
    with engine_for(db) as engine:
        summary = backups.restore(engine, file)
    typer.echo(
        f"restored {summary.rows} rows of {len(summary.tables)} tables from {file} into {describe(db)}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
