"""``celltrial simulate``: a whole simulated trial into a database, or the design's operating characteristics.

``celltrial simulate --patients 60 --seed 7 --db URL [--until YYYY-MM-DD]`` runs the trial from
the study start to the data cut through the services and prints its CONSORT flow;
``celltrial simulate design --reps 2000 --seed 1 [--plot FILE.png]`` repeats the trial's outcomes
(no database) over the scenario's grid of true rates.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from celltrial.analysis.stopping import SafetyStoppingRule
from celltrial.database import database_url
from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings
from celltrial.simulate.consort import render_consort
from celltrial.simulate.design import DesignPoint, operating_characteristics
from celltrial.simulate.design_figure import render_design_figure
from celltrial.simulate.scenario import load_scenario
from celltrial.simulate.trial import simulate_trial
from celltrial.study.console import DB_OPTION, describe
from celltrial.study.safety.monitoring import stopping_rule

simulate_app = typer.Typer(
    help="Simulate the trial through the services, or the design's operating characteristics.",
    invoke_without_command=True,
)
SCENARIO_OPTION = typer.Option(None, "--scenario", help="A scenario YAML file (default: the shipped one).")


def register(app: typer.Typer) -> None:
    app.add_typer(simulate_app, name="simulate")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", field="--until") from None


@simulate_app.callback()
def simulate(
    context: typer.Context,
    patients: int = typer.Option(60, "--patients", help="Patients referred to the trial."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives the same trial."),
    db: str | None = DB_OPTION,
    until: str | None = typer.Option(None, "--until", help="Data cut YYYY-MM-DD (default: yesterday)."),
    scenario: Path | None = SCENARIO_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run the trial in calendar time from the study start into an empty database; print its CONSORT flow."""
    if context.invoked_subcommand is not None:
        return
    chosen = load_scenario(scenario)
    cut = _day(until)
    console = Console(stderr=True, highlight=False)
    with Progress(
        TextColumn("simulating {task.description}"), BarColumn(), console=console, transient=True,
        disable=as_json or not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task(describe(db), total=None)

        def advance(day: date, last: date) -> None:
            span = (last - chosen.study.start.value).days or 1
            bar.update(task, total=span, completed=(day - chosen.study.start.value).days)

        summary = simulate_trial(
            database_url(db), patients=patients, seed=seed, until=cut, progress=advance, scenario=chosen
        )
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
        return
    typer.echo(
        f"{summary.nct_id}: {summary.patients} patients referred, seed {summary.seed}, "
        f"{summary.start} to the data cut {summary.cut} ({summary.seconds:.1f} s)"
    )
    for line in render_consort(summary.consort):
        typer.echo(line)
    verified = "verified" if summary.audit_verified else "BROKEN"
    typer.echo(f"Audit trail: {summary.audit_entries} entries, chain {verified}")


@simulate_app.command("design")
def design(
    reps: int = typer.Option(2000, "--reps", help="Replicates per pair of true rates."),
    seed: int = typer.Option(1, "--seed", help="Random seed."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the figure to this PNG file."),
    scenario: Path | None = SCENARIO_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """P(stop), expected sample size and P(success) over the scenario's grid of true rates."""
    chosen = load_scenario(scenario)
    settings = load_settings(chosen.study.nct_id)
    rule: SafetyStoppingRule = stopping_rule(settings)
    reference = settings.analysis.reference_cr_rate.value
    points = operating_characteristics(chosen, reps=reps, seed=seed, rule=rule, reference_rate=reference)
    if plot is not None:
        render_design_figure(points, plot, rule=rule, reference_rate=reference)
    if as_json:
        document = {
            "reps": reps,
            "seed": seed,
            "rule": rule.model_dump(),
            "reference_cr_rate": reference,
            "points": [point.as_dict() for point in points],
        }
        typer.echo(json.dumps(document))
        return
    _render(points, reps=reps, reference=reference, rule=rule)
    if plot is not None:
        typer.echo(f"figure written to {plot}")


def _render(points: list[DesignPoint], *, reps: int, reference: float, rule: SafetyStoppingRule) -> None:
    table = Table(
        title=(
            f"{reps} replicates per row; stop when "
            f"P(event rate > {rule.rate_threshold}) > {rule.posterior_cutoff}; "
            f"success: lower 95% bound of CR/CRi > {reference}"
        )
    )
    for column in ("true CR", "true event", "P(stop)", r"E\[enrolled]", r"E\[infused]", "P(success)"):
        table.add_column(column, justify="right")
    for point in points:
        table.add_row(
            f"{point.cr_rate:.2f}",
            f"{point.event_rate:.2f}",
            f"{point.probability_of_stopping:.3f}",
            f"{point.expected_enrolled:.1f}",
            f"{point.expected_infused:.1f}",
            f"{point.probability_of_success:.3f}",
        )
    Console(highlight=False, width=120).print(table)
