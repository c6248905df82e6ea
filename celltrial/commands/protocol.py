"""``celltrial protocol``: show, export, import and list trial protocols."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from celltrial.errors import InvalidInput
from celltrial.protocol import library
from celltrial.protocol.ctgov import Study

protocol_app = typer.Typer(
    help="The trial as data: registry record and protocol settings.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(protocol_app, name="protocol")


def _summary_table(study: Study) -> Table:
    section = study.protocol_section
    status = section.status_module
    design = section.design_module
    eligibility = section.eligibility_module
    sponsors = section.sponsor_collaborators_module
    table = Table(title=f"{study.nct_id}: {study.brief_title}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")

    def row(name: str, value: object) -> None:
        table.add_row(name, "not given in the record" if value in (None, "", []) else str(value))

    row("Recruitment status", status.overall_status)
    row("Phase", ", ".join(design.phases or []) if design else None)
    row("Study type", design.study_type if design else None)
    row("Enrolment", study.enrollment_target)
    row("Start date", status.start_date_struct.date if status.start_date_struct else None)
    row("Completion date", status.completion_date_struct.date if status.completion_date_struct else None)
    row(
        "Conditions",
        "; ".join(section.conditions_module.conditions or []) if section.conditions_module else None,
    )
    arms = section.arms_interventions_module
    row("Arms", "; ".join(f"{arm.label} ({arm.type})" for arm in (arms.arm_groups or [])) if arms else None)
    row(
        "Interventions",
        "; ".join(f"{item.name} ({item.type})" for item in (arms.interventions or [])) if arms else None,
    )
    if eligibility:
        row("Ages", f"{eligibility.minimum_age or '-'} to {eligibility.maximum_age or '-'}")
        row("Sex", eligibility.sex)
        row("Healthy volunteers", "Yes" if eligibility.healthy_volunteers else "No")
    if sponsors:
        row("Lead sponsor", sponsors.lead_sponsor.name)
        row("Collaborators", "; ".join(c.name for c in sponsors.collaborators or []))
    row("Results", "posted" if study.has_results else "Results pending")
    return table


@protocol_app.command("show")
def show(
    nct_id: str = typer.Argument(..., help="NCT id of a shipped or imported protocol."),
    as_json: bool = typer.Option(False, "--json", help="Print the model as JSON."),
) -> None:
    """A readable summary of a protocol's registry record."""
    study = library.load_study(nct_id)
    if as_json:
        typer.echo(
            json.dumps(study.model_dump(mode="json", exclude_unset=True), indent=2, ensure_ascii=False)
        )
        return
    console = Console()
    console.print(_summary_table(study))
    settings = library.load_settings(nct_id) if _has_settings(nct_id) else None
    if settings:
        console.print(
            f"Protocol settings {settings.settings_version}: "
            f"{len(settings.schedule.visits)} scheduled visits, "
            f"{len(settings.assumptions())} values still marked 'assumption'."
        )


def _has_settings(nct_id: str) -> bool:
    try:
        library.load_settings(nct_id)
    except Exception:  # a record without settings is still a record to show
        return False
    return True


@protocol_app.command("export")
def export(
    nct_id: str = typer.Argument(..., help="NCT id of a shipped or imported protocol."),
    output_format: str = typer.Option("ctgov-json", "--format", help="Output format: ctgov-json."),
) -> None:
    """Print the registry record in the ClinicalTrials.gov API v2 JSON shape."""
    if output_format != "ctgov-json":
        raise InvalidInput(f"unknown format {output_format!r}; use ctgov-json", field="--format")
    study = library.load_study(nct_id)
    typer.echo(json.dumps(study.to_ctgov_json(), indent=2, ensure_ascii=False))


@protocol_app.command("import")
def import_(file: Path = typer.Argument(..., help="A CT.gov API v2 study JSON or /studies page.")) -> None:
    """Validate and store every study of a CT.gov API v2 JSON file (all or none)."""
    studies = library.import_file(file)
    for study in studies:
        typer.echo(f"imported {study.nct_id}: {study.brief_title}")


@protocol_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every protocol celltrial knows: shipped with it or imported."""
    rows = library.list_protocols()
    if as_json:
        typer.echo(json.dumps([{"nct_id": nct_id, "origin": origin} for nct_id, origin in rows]))
        return
    table = Table("NCT id", "origin", "title")
    for nct_id, origin in rows:
        table.add_row(nct_id, origin, library.load_study(nct_id).brief_title)
    Console().print(table)
