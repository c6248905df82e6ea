"""``celltrial grade``: ASTCT CRS and ICANS grades and CTCAE lab grades from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from celltrial.clinical.crs import grade_crs, parse_crs_assessment
from celltrial.clinical.ctcae import grade_lab
from celltrial.clinical.icans import grade_icans, parse_icans_assessment
from celltrial.jsoninput import read_json_file

grade_app = typer.Typer(
    help="Grade CRS, ICANS (ASTCT consensus) and lab values (CTCAE).", no_args_is_help=True
)
_FILE_HELP = "JSON file with the assessment (see the issue's CLI contract)."


def _read_json(path: Path) -> Any:
    return read_json_file(path)


def _render(kind: str, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{kind} grade {result['grade']}[/bold]")
    for driver in result["drivers"]:
        console.print(f"  - {driver}", markup=False)
    console.print(f"source: {result['source']}", markup=False, style="dim")


@grade_app.command("crs")
def crs(
    file: Path = typer.Argument(..., help=_FILE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Grade cytokine release syndrome by the ASTCT consensus (Lee et al. 2019)."""
    result = grade_crs(parse_crs_assessment(_read_json(file)))
    _render("CRS", result.model_dump(mode="json"), as_json)


@grade_app.command("icans")
def icans(
    file: Path = typer.Argument(..., help=_FILE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Grade ICANS by the ASTCT consensus for adults (ICE score; Lee et al. 2019)."""
    result = grade_icans(parse_icans_assessment(_read_json(file)))
    _render("ICANS", result.model_dump(mode="json"), as_json)


@grade_app.command("ctcae")
def ctcae(
    term: str = typer.Argument(
        ..., help="CTCAE term, e.g. 'Neutrophil count decreased' or neutrophil_count_decreased."
    ),
    value: float = typer.Option(..., "--value", help="The lab value."),
    unit: str = typer.Option(
        ..., "--unit", help="Unit of the value and limits, e.g. 10^9/L, g/dL, U/L, umol/L."
    ),
    uln: float | None = typer.Option(None, "--uln", help="Upper limit of normal, in --unit."),
    lln: float | None = typer.Option(None, "--lln", help="Lower limit of normal, in --unit."),
    baseline: float | None = typer.Option(None, "--baseline", help="Baseline value, in --unit."),
    version: str = typer.Option("5.0", "--ctcae-version", help="CTCAE version."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Grade a lab value by CTCAE (v5.0)."""
    result = grade_lab(term, value, unit, uln=uln, lln=lln, baseline=baseline, version=version)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json")))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{result.term}: grade {result.grade}[/bold] (CTCAE v{result.ctcae_version})")
    console.print(f"  criterion: {result.criterion}", markup=False)
    if result.grade_text:
        console.print(f"  CTCAE: {result.grade_text}", markup=False)
    if result.clinical_note:
        console.print(f"  note: {result.clinical_note}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(grade_app, name="grade")
