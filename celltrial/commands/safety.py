"""``celltrial safety``: stopping-rule status, operating characteristics, DSMB tables, SAE clocks.

``oc`` needs only the protocol settings; the other commands read the study database as a stored
user (``--as USERNAME`` or ``$CELLTRIAL_USER``) whose role may see safety data.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from celltrial.analysis.stopping import DEFAULT_TRUE_RATES, operating_characteristics
from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings
from celltrial.reporting.safety_figures import operating_characteristics_figure
from celltrial.study.console import DB_OPTION, command_session
from celltrial.study.safety import monitoring, reports
from celltrial.study.trial import service as trials
from celltrial.study.users import service as users

safety_app = typer.Typer(
    help="Safety monitoring: stopping rule, DSMB tables, SAE clocks.", no_args_is_help=True
)
AS_OPTION = typer.Option(
    None, "--as", envvar="CELLTRIAL_USER", help="Your username (default: $CELLTRIAL_USER)."
)
STUDY_OPTION = typer.Option(None, "--study", help="NCT id (default: the only study in the database).")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(safety_app, name="safety")


def _username(name: str | None) -> str:
    if not name:
        raise InvalidInput("say who you are with --as USERNAME (or set CELLTRIAL_USER)", field="--as")
    return name


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", field=option) from None


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date and time (ISO 8601)", field="--now") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{text!r} has no time zone (e.g. 2025-03-01T09:00:00+00:00)", field="--now")
    return value


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@safety_app.command("stopping-rule")
def stopping_rule_command(
    as_user: str | None = AS_OPTION,
    study: str | None = STUDY_OPTION,
    on: str | None = typer.Option(None, "--date", help="Evaluate as of this day (default: today)."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Where the Bayesian safety stopping rule stands after the subjects who completed the DLT window."""
    with command_session(db) as session:
        by = users.get_by_username_or_raise(session, username=_username(as_user))
        trial = trials.the_study(session, nct_id=study)
        status = monitoring.stopping_rule_status(session, by=by, study_id=trial.id, as_of=_day(on, "--date"))
    if as_json:
        _echo(status.model_dump(mode="json"))
        return
    decision = status.decision
    console = Console(highlight=False, soft_wrap=True)
    verdict = "STOP" if decision.stop else ("continue" if decision.rule_applies else "not applied yet")
    console.print(
        f"[bold]{verdict}[/bold]: {status.events} event(s) in {status.evaluable} evaluable subject(s)"
    )
    console.print(
        f"P(rate > {status.rule.rate_threshold:.0%} | data) = {decision.posterior_probability:.3f} "
        f"(stop above {status.rule.posterior_cutoff:.0%}; first look after {status.rule.first_look_after})",
        markup=False,
    )
    console.print(
        f"infused {status.infused}, awaiting the window {status.awaiting}, "
        f"not evaluable {status.not_evaluable}"
    )
    console.print(f"event: {status.event_definition}", markup=False, style="dim")


@safety_app.command("oc")
def oc_command(
    protocol: str = typer.Option("NCT07008872", "--protocol", help="The protocol whose settings apply."),
    plot: Path | None = typer.Option(None, "--plot", help="Also draw the figure to FILE.png (.svg, .pdf)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Exact operating characteristics of the stopping rule for true event rates 10-50%."""
    rule = monitoring.stopping_rule(load_settings(protocol))
    characteristics = operating_characteristics(rule, DEFAULT_TRUE_RATES)
    if plot is not None:
        operating_characteristics_figure(characteristics, rule, plot)
    if as_json:
        _echo(
            {
                "rule": rule.model_dump(),
                "characteristics": [item.model_dump() for item in characteristics],
                "plot": str(plot) if plot is not None else None,
            }
        )
        return
    table = Table(title="Operating characteristics (exact)")
    for heading in ("true rate", "P(stop)", "expected evaluable subjects"):
        table.add_column(heading, justify="right")
    for item in characteristics:
        table.add_row(
            f"{item.true_rate:.0%}", f"{item.probability_of_stopping:.3f}", f"{item.expected_sample_size:.1f}"
        )
    Console(highlight=False).print(table)


@safety_app.command("tables")
def tables_command(
    as_user: str | None = AS_OPTION,
    study: str | None = STUDY_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """DSMB safety tables: AEs by SOC and term, CRS/ICANS, deaths, AESIs."""
    with command_session(db) as session:
        by = users.get_by_username_or_raise(session, username=_username(as_user))
        trial = trials.the_study(session, nct_id=study)
        tables = monitoring.dsmb_tables(session, by=by, study_id=trial.id)
    if as_json:
        _echo(tables.model_dump(mode="json"))
        return
    console = Console(highlight=False, soft_wrap=True)
    total = tables.subjects or 1
    table = Table(title=f"Adverse events by SOC and term, subjects by maximum grade (N = {tables.subjects})")
    for heading in ("SOC / term", "any", ">= 3", "1", "2", "3", "4", "5"):
        table.add_column(heading, justify="left" if heading == "SOC / term" else "right")
    for soc in tables.adverse_events:
        rows = [(soc.soc, soc)] + [(f"  {term.term}", term) for term in soc.terms]
        for name, row in rows:
            counts = [row.by_max_grade[grade] for grade in (1, 2, 3, 4, 5)]
            table.add_row(
                name,
                f"{row.any_grade} ({100 * row.any_grade / total:.0f}%)",
                str(row.grade_3_or_more),
                *map(str, counts),
            )
    console.print(table)
    for syndrome in (tables.crs, tables.icans):
        onset = syndrome.time_to_onset_days
        console.print(
            f"{syndrome.syndrome.value.upper()}: {syndrome.any_grade}/{tables.subjects} subjects, "
            f"grade >= 3 {syndrome.grade_3_or_more}; onset day median {onset.median} "
            f"(range {onset.minimum}-{onset.maximum}); tocilizumab {syndrome.subjects_given_tocilizumab}, "
            f"corticosteroids {syndrome.subjects_given_corticosteroids}",
            markup=False,
        )
    for death in tables.deaths:
        related = "treatment-related" if death.treatment_related else "not treatment-related"
        console.print(f"death: {death.label} day {death.day}: {death.cause} ({related})", markup=False)


@safety_app.command("sae-clocks")
def sae_clocks_command(
    as_user: str | None = AS_OPTION,
    study: str | None = STUDY_OPTION,
    now: str | None = typer.Option(None, "--now", help="The instant to judge the clocks at (default: now)."),
    overdue_only: bool = typer.Option(False, "--overdue", help="Only SAEs with an overdue clock."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Every SAE's reporting clocks (24 h to the sponsor, follow-ups, SUSAR 7/15 days), overdue first."""
    moment = _instant(now)
    with command_session(db) as session:
        by = users.get_by_username_or_raise(session, username=_username(as_user))
        trial = trials.the_study(session, nct_id=study)
        board = reports.clock_board(session, by=by, now=moment, study_id=trial.id, overdue_only=overdue_only)
    if as_json:
        _echo(
            {
                "now": moment.isoformat(),
                "saes": [{**row.model_dump(mode="json"), "overdue": row.overdue} for row in board],
            }
        )
        return
    table = Table(title=f"SAE clocks at {moment:%Y-%m-%d %H:%M} UTC")
    for heading in ("SAE", "subject", "term", "clock", "due (UTC)", "status"):
        table.add_column(heading)
    for row in board:
        for clock in row.clocks:
            status = clock.status.value + (f" by {clock.hours_overdue} h" if clock.hours_overdue else "")
            table.add_row(
                str(row.sae_id),
                row.subject,
                row.term,
                clock.kind.value,
                f"{clock.due_at:%Y-%m-%d %H:%M}",
                status,
            )
    Console(highlight=False).print(table)
