"""``celltrial population``: synthetic OMOP data at scale, and loading OMOP files into PostgreSQL.

* ``celltrial population synth --patients N --seed S --out DIR [--as-of YYYY-MM-DD]`` writes a
  deterministic synthetic OMOP CDM (Parquet) of a haematology centre;
* ``celltrial population load-omop DIR --into postgresql://user@host/db?schema=cdm`` copies the
  OMOP tables of a directory or zip (Parquet or CSV) into a PostgreSQL schema.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from celltrial.errors import InvalidInput
from celltrial.population.load import load_omop
from celltrial.population.synth import DEFAULT_AS_OF, synthesise

population = typer.Typer(
    help="Population data: synthetic OMOP, loading OMOP into PostgreSQL.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(population, name="population")


@population.command("synth")
def synth(
    patients: int = typer.Option(..., "--patients", help="How many patients to generate."),
    seed: int = typer.Option(..., "--seed", help="Random seed: the same seed writes the same data."),
    out: Path = typer.Option(..., "--out", help="An empty (or new) directory for the Parquet tables."),
    as_of: str = typer.Option(DEFAULT_AS_OF.isoformat(), "--as-of", help="Data cut date YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help="Print the row counts as JSON."),
) -> None:
    """Write synthetic OMOP CDM 5.4 Parquet tables of a haematology centre."""
    try:
        cut = date.fromisoformat(as_of)
    except ValueError:
        raise InvalidInput(f"{as_of!r} is not a date (YYYY-MM-DD)", field="--as-of") from None
    if as_json:
        counts = synthesise(patients=patients, seed=seed, out=out, as_of=cut)
        typer.echo(json.dumps({"patients": patients, "seed": seed, "as_of": cut.isoformat(), "rows": counts}))
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("patients"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("synth", total=patients)
        counts = synthesise(
            patients=patients,
            seed=seed,
            out=out,
            as_of=cut,
            progress=lambda done: bar.update(task, completed=done),
        )
    typer.echo(f"wrote {patients:,} patients to {out} (data cut {cut.isoformat()})")
    for table, rows in counts.items():
        typer.echo(f"  {table}: {rows:,} rows")


@population.command("load-omop")
def load(
    directory: Path = typer.Argument(..., help="A directory or zip of OMOP tables (Parquet or CSV)."),
    into: str = typer.Option(..., "--into", help="postgresql://user@host:port/database?schema=name"),
    as_json: bool = typer.Option(False, "--json", help="Print the row counts as JSON."),
) -> None:
    """Copy OMOP tables into a PostgreSQL schema (created if needed; tables replaced)."""
    counts = load_omop(directory, into)
    if as_json:
        typer.echo(json.dumps({"rows": counts}))
        return
    for table, rows in counts.items():
        typer.echo(f"{table}: {rows:,} rows")
