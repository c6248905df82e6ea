"""``celltrial screen FILE``: evaluate eligibility from a screening form or a FHIR R4 Bundle.

The file's kind is detected (``resourceType: Bundle`` → FHIR, a ``patient``/``facts`` object →
screening form). The screening date is ``--date``, else the form's ``screening_date``, else today.
Exit code 0 whatever the decision; 2 on bad input. Problems with single values (a negative lab
value, an Observation without a value) are printed as warnings on stderr and make only the
criteria that read them ``unknown``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from celltrial.errors import InvalidInput
from celltrial.jsoninput import parse_json
from celltrial.textfile import read_text

if TYPE_CHECKING:  # the engine (fhir.resources, pint) loads when a patient is screened, not at start-up
    from celltrial.eligibility import EligibilityResult
    from celltrial.eligibility.form import ScreeningInput

_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow", "needs_review": "magenta"}
_DECISION_STYLE = {"eligible": "bold green", "ineligible": "bold red", "incomplete": "bold yellow"}


def register(app: typer.Typer) -> None:
    app.command("screen")(screen)


def screen(
    file: Path = typer.Argument(..., help="A screening-form JSON or a FHIR R4 Bundle (detected)."),
    on: str | None = typer.Option(
        None, "--date", help="Screening date YYYY-MM-DD (default: the form's, else today)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    protocol: str = typer.Option("NCT07008872", "--protocol", help="The protocol whose criteria apply."),
) -> None:
    """Evaluate every inclusion and exclusion criterion for one patient, with the evidence."""
    from celltrial.eligibility import evaluate, load_rules
    from celltrial.protocol.library import load_settings

    screening_input = read_input(file)
    screening_date = _screening_date(on, screening_input)
    result = evaluate(
        screening_input.facts,
        load_rules(protocol),
        load_settings(protocol),
        screening_date,
        screening_input.judgments,
    )
    warnings = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in screening_input.facts.problems:
        warnings.print(f"warning: {problem}", markup=False)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    _render(result, screening_input)


def read_input(file: Path) -> ScreeningInput:
    """Read a screening form or a FHIR Bundle from ``file``."""
    from celltrial.eligibility.fhir import read_bundle
    from celltrial.eligibility.form import ScreeningInput, is_screening_form, read_form

    text = read_text(file)
    if '"resourceType"' not in text:  # not a FHIR resource: most likely a whole, valid screening form
        try:
            return read_form(text)
        except InvalidInput:
            pass  # read below, to say what it is not
    data = parse_json(text, field=file.name)
    try:
        if isinstance(data, dict) and "resourceType" in data:
            return ScreeningInput(read_bundle(data))
        if is_screening_form(data):
            return read_form(data)
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"{file.name}: {error.field or '$'}") from None
    raise InvalidInput(
        "neither a FHIR Bundle (resourceType 'Bundle') nor a screening form ('patient' and 'facts')",
        field=file.name,
    )


def _screening_date(option: str | None, screening_input: ScreeningInput) -> date:
    if option is not None:
        try:
            return date.fromisoformat(option)
        except ValueError:
            raise InvalidInput(f"{option!r} is not a date (YYYY-MM-DD)", field="--date") from None
    return screening_input.screening_date or date.today()


def _render(result: EligibilityResult, screening_input: ScreeningInput) -> None:
    console = Console(highlight=False)
    who = screening_input.facts.patient_id or "patient"
    console.print(
        f"{who} on {result.screening_date.isoformat()} ({result.protocol}): "
        f"[{_DECISION_STYLE[result.decision]}]{result.decision}[/]"
    )
    table = Table(show_lines=False)
    table.add_column("criterion", no_wrap=True)
    table.add_column("kind")
    table.add_column("verdict", no_wrap=True)
    table.add_column("reason")
    for criterion in result.criteria:
        table.add_row(
            criterion.id,
            criterion.kind,
            Text(criterion.verdict, style=_STYLE[criterion.verdict]),
            Text(criterion.reason),
        )
    console.print(table)
    if result.missing:
        console.print(f"missing: {', '.join(result.missing)}", markup=False)
