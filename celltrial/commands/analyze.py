"""``celltrial analyze``: exact confidence intervals, Kaplan–Meier and CAR-T kinetics (NCA)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from celltrial.analysis.nca import AucMethod, KineticParameters, noncompartmental
from celltrial.analysis.proportions import clopper_pearson
from celltrial.analysis.survival import KaplanMeierSummary, TimeUnit, kaplan_meier_by_group
from celltrial.errors import InvalidInput
from celltrial.reporting.csvinput import read_csv_table

analyze_app = typer.Typer(
    help="Analyses: exact binomial CIs, Kaplan–Meier survival, CAR-T kinetics (NCA).", no_args_is_help=True
)
_ALL = "all"


def _months(value: float | None) -> str:
    return "NR" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    return "NE" if value is None else f"{value:.1%}"


@analyze_app.command("ci")
def ci(
    successes: int = typer.Option(..., "--successes", help="Number of subjects with the outcome."),
    n: int = typer.Option(..., "--n", help="Number of evaluable subjects."),
    level: float = typer.Option(0.95, "--level", help="Confidence level, e.g. 0.95."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Exact Clopper–Pearson confidence interval for a proportion (e.g. ORR 18/20)."""
    result = clopper_pearson(successes, n, level)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    typer.echo(
        f"{successes}/{n} = {result.estimate:.1%} ({level:.0%} CI {result.lower:.1%}–{result.upper:.1%}, "
        "Clopper–Pearson)"
    )


def _print_km(group: str, summary: KaplanMeierSummary, console: Console) -> None:
    median = summary.median
    console.print(
        f"{group}: n={summary.n}, events={summary.events}, median {_months(median.median)} months "
        f"({summary.level:.0%} CI {_months(median.lower)}–{_months(median.upper)}); "
        f"median follow-up {_months(summary.median_follow_up.median)} months",
        markup=False,
    )
    for landmark in summary.landmarks:
        if landmark.survival is None:
            console.print(f"  {landmark.month:g} months: not reached by follow-up", markup=False)
            continue
        console.print(
            f"  {landmark.month:g} months: {landmark.survival:.1%} "
            f"({_share(landmark.lower)}–{_share(landmark.upper)})",
            markup=False,
        )


@analyze_app.command("km")
def km(
    file: Path = typer.Argument(..., help="CSV file, one row per subject, with a header row."),
    time: str = typer.Option(..., "--time", help="Column with the time to event or censoring."),
    event: str = typer.Option(..., "--event", help="Column with 1 (event) or 0 (censored)."),
    group: str | None = typer.Option(None, "--group", help="Column to estimate separately by."),
    time_unit: TimeUnit = typer.Option(
        TimeUnit.DAYS, "--time-unit", help="Unit of --time; results in months."
    ),
    level: float = typer.Option(0.95, "--level", help="Confidence level."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Kaplan–Meier per group: median with CI, survival at 6/12/24 months, numbers at risk, curve."""
    columns = [time, event] + ([group] if group else [])
    table = read_csv_table(file, columns)
    times = table.numbers(time, non_negative=True)
    events = table.flags(event)
    groups = table.labels(group) if group else [_ALL] * len(times)
    summaries = kaplan_meier_by_group(times, events, groups, time_unit=time_unit, level=level)
    if as_json:
        payload = {
            "time_unit": "months",
            "input_time_unit": str(time_unit),
            "days_per_month": 30.4375,
            "groups": {name: summary.as_dict() for name, summary in summaries.items()},
        }
        typer.echo(json.dumps(payload))
        return
    console = Console(highlight=False, soft_wrap=True)
    for name, summary in summaries.items():
        _print_km(name, summary, console)


def _nca_row(subject: str, parameters: KineticParameters) -> dict[str, object]:
    return {"subject": subject, **parameters.as_dict()}


@analyze_app.command("nca")
def nca(
    file: Path = typer.Argument(..., help="CSV file, one row per sample, with a header row."),
    subject: str = typer.Option(..., "--subject", help="Column with the subject id."),
    time: str = typer.Option(..., "--time", help="Column with the day since infusion."),
    value: str = typer.Option(
        ..., "--value", help="Column with copies/µg gDNA or CAR+ cells/µL ('BLQ' allowed)."
    ),
    lloq: float | None = typer.Option(
        None, "--lloq", help="Lower limit of quantification, in --value units."
    ),
    method: AucMethod = typer.Option(AucMethod.LINEAR_UP_LOG_DOWN, "--method", help="Trapezoidal rule."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Non-compartmental CAR-T kinetics per subject: Cmax, Tmax, AUC day 0–28, Clast, Tlast."""
    table = read_csv_table(file, [subject, time, value])
    subjects = table.labels(subject)
    days = table.numbers(time, non_negative=True)
    values = table.numbers(value, non_negative=True, blq_token="BLQ")
    series: dict[str, tuple[list[float], list[float]]] = {}
    for index, subject_id in enumerate(subjects):
        subject_days, subject_values = series.setdefault(subject_id, ([], []))
        if days[index] in subject_days:
            raise InvalidInput(
                f"subject {subject_id} has two samples on day {days[index]:g}", field=table.where(index, time)
            )
        subject_days.append(days[index])
        subject_values.append(values[index])
    results = [
        _nca_row(subject_id, noncompartmental(subject_days, subject_values, lloq=lloq, method=method))
        for subject_id, (subject_days, subject_values) in series.items()
    ]
    if as_json:
        typer.echo(
            json.dumps({"time_unit": "days", "lloq": lloq, "method": str(method), "subjects": results})
        )
        return
    console = Console(highlight=False, soft_wrap=True)
    for row in results:
        console.print(
            f"{row['subject']}: Cmax {row['cmax']} at day {row['tmax']}, AUC0-28 {row['auc_0_28']:.4g}, "
            f"Clast {row['clast']} at day {row['tlast']}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    """Mount ``celltrial analyze``."""
    app.add_typer(analyze_app, name="analyze")
