"""``celltrial product``: the cell product's chain of identity, custody log, labels and vein-to-vein time.

Every command acts as a named study user (``--user`` or ``$CELLTRIAL_USER``) whose role and site
decide what they may see: product data belong to a subject and a site.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.product import labelling, views
from celltrial.product.labels import render_label_pdf
from celltrial.study.console import DB_OPTION, command_session
from celltrial.study.users import service as users
from celltrial.study.users.models import User

product_app = typer.Typer(help="The cell product: chain of identity, custody, labels.", no_args_is_help=True)
USER_OPTION = typer.Option(
    None, "--user", envvar="CELLTRIAL_USER", help="The study user acting (default: $CELLTRIAL_USER)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")


def _user(session: Session, username: str | None) -> User:
    if not username or not username.strip():
        raise InvalidInput("name the study user acting with --user or CELLTRIAL_USER", field="--user")
    return users.get_by_username_or_raise(session, username=username)


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else ""


@product_app.command("coi")
def coi(
    subject: str = typer.Argument(..., help="Subject number, e.g. S01-001."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a subject's chain of identity: collections, lots, release, bags, bedside checks, flags."""
    with command_session(db) as session:
        view = views.coi_view(session, by=_user(session, user), subject_number=subject)
    if as_json:
        typer.echo(view.model_dump_json())
        return
    typer.echo(f"{view.coi_number}  subject {view.subject_number} ({view.subject_status})")
    for chain in view.collections:
        typer.echo(
            f"  collection {chain.attempt}: DIN {chain.din}, collected {_when(chain.collected_at)} UTC, "
            f"at step {chain.custody_step}" + (f", next {chain.next_step}" if chain.next_step else "")
        )
        lot = chain.lot
        if lot is None:
            continue
        release = {None: "not tested", True: "within specification", False: "OUT OF SPECIFICATION"}[
            lot.releasable
        ]
        typer.echo(
            f"    lot {lot.lot_number}: outcome {lot.outcome or 'in manufacturing'}, release {release}"
        )
        for failure in lot.out_of_specification:
            typer.echo(f"      out of specification: {failure}")
        for bag in lot.bags:
            state = "infused" if bag.infused_at else "thawed" if bag.thawed_at else "stored"
            typer.echo(
                f"    bag {bag.bag_number}: DIN {bag.din}, {bag.volume_ml:g} mL, expires "
                f"{_when(bag.expires_at)} UTC, {state}"
            )
    for check in view.bedside_verifications:
        verdict = "passed" if check.passed else "BLOCKED: " + "; ".join(check.problems)
        typer.echo(f"  bedside check {_when(check.verified_at)} UTC, bag {check.bag_read}: {verdict}")
    for flag in view.flags:
        typer.echo(f"  ! {flag}")


@product_app.command("custody")
def custody(
    subject: str = typer.Argument(..., help="Subject number, e.g. S01-001."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the chain of custody: each step, when, where, who handed over and who received."""
    with command_session(db) as session:
        events = views.custody_view(session, by=_user(session, user), subject_number=subject)
    if as_json:
        typer.echo(json.dumps([event.model_dump(mode="json") for event in events]))
        return
    typer.echo(f"Chain of custody of subject {subject} ({len(events)} steps)")
    for e in events:
        line = (
            f"{_when(e.occurred_at)} UTC  {e.step}  DIN {e.apheresis_din}  {e.location}  "
            f"{e.handed_over_by} -> {e.received_by}"
        )
        if e.temperature_range_c:
            line += f"  [{e.temperature_range_c[0]:g} to {e.temperature_range_c[1]:g} °C"
            line += f", {len(e.readings)} readings]" if e.readings else "]"
        if e.bags:
            line += f"  bags {', '.join(e.bags)}"
        typer.echo(line + "".join(f"  ! {flag}" for flag in e.flags))


@product_app.command("label")
def label(
    din: str = typer.Argument(..., help="The bag's DIN: 13 characters, with or without its check character."),
    out: Path = typer.Option(..., "--out", help="The PDF file to write."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Write the 100 x 100 mm PDF label of the collection or product bag carrying DIN."""
    if out.suffix.lower() != ".pdf":
        raise InvalidInput(f"{out} must end in .pdf", field="--out")
    with command_session(db) as session:
        what = labelling.label_for_din(session, by=_user(session, user), din=din)
    try:
        out.write_bytes(render_label_pdf(what))
    except OSError as error:
        raise InvalidInput(f"cannot write {out}: {error.strerror}", field="--out") from None
    typer.echo(
        f"wrote the label of DIN {what.din.keyboard_entry} ({what.product.code}, subject {what.subject_id}, "
        f"{what.coi_id}) to {out}"
    )


def _days(value: float | int | None) -> str:
    return "" if value is None else f"{value:.1f}"


@product_app.command("v2v")
def v2v(user: str | None = USER_OPTION, db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Vein-to-vein time (apheresis to infusion) and its components, per subject and summarised, in days."""
    with command_session(db) as session:
        report = views.vein_to_vein_report(session, by=_user(session, user))
    if as_json:
        typer.echo(report.model_dump_json())
        return
    table = Table(title=f"Vein-to-vein time in days; infused subjects: {len(report.subjects)}")
    table.add_column("subject")
    table.add_column("total")
    for name in report.components:
        table.add_column(name.replace("_", " "))
    for row in report.subjects:
        mark = " (exceptional release)" if row.exceptional_release else ""
        table.add_row(
            row.subject_number + mark,
            _days(row.total_days),
            *(_days(row.components[n]) for n in report.components),
        )
    for statistic in ("median", "q1", "q3", "minimum", "maximum"):
        table.add_row(
            statistic,
            _days(report.summary["vein_to_vein"][statistic]),
            *(_days(report.summary[n][statistic]) for n in report.components),
        )
    Console(soft_wrap=True, width=200).print(table)


@product_app.command("counts")
def counts(user: str | None = USER_OPTION, db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """The product's CONSORT boxes: apheresed, lots, manufacturing failures, out of specification, infused."""
    with command_session(db) as session:
        numbers = views.manufacturing_counts(session, by=_user(session, user))
    if as_json:
        typer.echo(numbers.model_dump_json())
        return
    for name, value in numbers.model_dump().items():
        typer.echo(f"{name.replace('_', ' ')}: {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
