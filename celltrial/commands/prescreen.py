"""``celltrial prescreen``: how many patients of an OMOP or FHIR source could the trial take?

``celltrial prescreen --omop PATH_OR_URL [--engine duckdb|postgres|spark] [--date YYYY-MM-DD] --json``
prints ``{"total", "as_of", "steps": [{"criterion", "remaining", "failed", "unknown", ...}],
"failed_alone": {...}, ...}``; without ``--json`` a progress bar runs on stderr while the rules
are evaluated, then a table. ``--csv``, ``--figure`` (PNG) and ``--verdicts`` (per-patient
Parquet) write files. ``--fhir DIR`` reads FHIR Bundles or bulk-data NDJSON instead.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from celltrial.errors import InvalidInput
from celltrial.population.fhir_tables import flatten_fhir
from celltrial.population.funnel import Funnel
from celltrial.population.prescreen import STAGES, PrescreenRun, prescreen
from celltrial.population.source import Engine, open_source

_ENGINES = ("duckdb", "postgres", "spark")
_STAGE_TEXT = {
    "concepts": "resolving concepts",
    "records": "latest record of each fact",
    "units": "units of the values",
    "verdicts": "verdict of every criterion",
    "funnel": "counting the funnel",
}


def register(app: typer.Typer) -> None:
    app.command("prescreen")(prescreen_command)


def prescreen_command(
    omop: str | None = typer.Option(
        None, "--omop", help="OMOP CDM: Parquet directory, zip, DuckDB file or postgresql://...?schema=."
    ),
    fhir: Path | None = typer.Option(None, "--fhir", help="A directory of FHIR R4 Bundles or bulk NDJSON."),
    engine: str | None = typer.Option(
        None, "--engine", help="duckdb (default for files), postgres or spark."
    ),
    spark_master: str = typer.Option(
        "local[2]", "--spark-master", help="Spark master URL for --engine spark."
    ),
    on: str | None = typer.Option(None, "--date", help="As-of (screening) date YYYY-MM-DD (default: today)."),
    protocol: str = typer.Option("NCT07008872", "--protocol", help="The protocol whose criteria apply."),
    as_json: bool = typer.Option(False, "--json", help="Print the funnel as JSON."),
    csv_path: Path | None = typer.Option(None, "--csv", help="Also write the funnel as CSV."),
    figure: Path | None = typer.Option(None, "--figure", help="Also write the funnel as a PNG figure."),
    verdicts: Path | None = typer.Option(
        None, "--verdicts", help="Also write per-patient verdicts (Parquet)."
    ),
) -> None:
    """Count the patients of a population who pass each criterion, in protocol order."""
    as_of = _as_of(on)
    chosen = _engine(engine)
    if (omop is None) == (fhir is None):
        raise InvalidInput("give exactly one of --omop or --fhir", field="--omop")
    if figure is not None and figure.suffix.lower() != ".png":
        raise InvalidInput("the figure is written as PNG; name it *.png", field="--figure")
    if fhir is not None:
        with flatten_fhir(fhir) as directory:
            run_and_report(
                str(directory), chosen, spark_master, as_of, protocol, as_json, csv_path, figure, verdicts
            )
        return
    assert omop is not None
    run_and_report(omop, chosen, spark_master, as_of, protocol, as_json, csv_path, figure, verdicts)


def run_and_report(
    location: str,
    engine: Engine | None,
    spark_master: str,
    as_of: date,
    protocol: str,
    as_json: bool,
    csv_path: Path | None,
    figure: Path | None,
    verdicts: Path | None,
) -> None:
    with open_source(location, engine=engine, spark_master=spark_master) as source:
        run = _run(source, as_of, protocol, show_progress=not as_json)
        if verdicts is not None:
            run.write_verdicts(verdicts)
    funnel = run.funnel
    if csv_path is not None:
        csv_path.write_text(funnel.to_csv(), encoding="utf-8")
    if figure is not None:
        funnel.figure(figure)
    if as_json:
        typer.echo(json.dumps(funnel.to_json(), ensure_ascii=False))
        return
    _render(funnel)


def _run(source: Any, as_of: date, protocol: str, *, show_progress: bool) -> PrescreenRun:
    if not show_progress:
        return prescreen(source, as_of=as_of, protocol=protocol)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("prescreening", total=len(STAGES))

        def advance(stage: str) -> None:
            done = STAGES.index(stage)
            bar.update(task, completed=done, description=_STAGE_TEXT.get(stage, stage))

        run = prescreen(source, as_of=as_of, protocol=protocol, progress=advance)
        bar.update(task, completed=len(STAGES))
    return run


def _as_of(on: str | None) -> date:
    if on is None:
        return date.today()
    try:
        return date.fromisoformat(on)
    except ValueError:
        raise InvalidInput(f"{on!r} is not a date (YYYY-MM-DD)", field="--date") from None


def _engine(engine: str | None) -> Engine | None:
    if engine is None:
        return None
    if engine not in _ENGINES:
        raise InvalidInput(f"{engine!r} is not one of {', '.join(_ENGINES)}", field="--engine")
    chosen: Engine = engine  # type: ignore[assignment]
    return chosen


def _render(funnel: Funnel) -> None:
    console = Console(highlight=False)
    table = Table(
        title=f"Prescreening funnel on {funnel.as_of.isoformat()} — {funnel.total:,} patients alive"
    )
    for header in ("criterion", "kind", "remaining", "failed", "unknown", "confirmed", "failed alone"):
        table.add_column(header, justify="left" if header in ("criterion", "kind") else "right")
    for step in funnel.steps:
        table.add_row(
            step.criterion,
            step.kind,
            f"{step.remaining:,}",
            f"{step.failed:,}",
            f"{step.unknown:,}",
            f"{step.confirmed:,}",
            f"{funnel.failed_alone[step.criterion]:,}",
        )
    console.print(table)
    last = funnel.steps[-1] if funnel.steps else None
    if last is not None:
        console.print(
            f"{last.remaining:,} patients not ruled out by the data; "
            f"{last.confirmed:,} shown to pass every criterion."
        )
    console.print(f"{funnel.deceased:,} patients died before {funnel.as_of.isoformat()} and are not counted.")
    for note in funnel.notes:
        console.print(f"note: {note}")
