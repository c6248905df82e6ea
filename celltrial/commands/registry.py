"""``celltrial registry``: import the trial landscape, search it, show a trial, find related trials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, pending_migrations, session_factory, unit_of_work
from celltrial.errors import InvalidInput
from celltrial.registry import service
from celltrial.registry.schemas import SearchQuery
from celltrial.registry.trial_page import TrialPage

registry_app = typer.Typer(
    help="The trial landscape: import CT.gov records, search, trial pages, related trials.",
    no_args_is_help=True,
)
DB_OPTION = typer.Option(
    None, "--db", help="Database URL (default: $CELLTRIAL_DATABASE_URL, else sqlite:///celltrial.db)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON on stdout.")


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")


@contextmanager
def _factory(db: str | None) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db)
    try:
        pending = pending_migrations(engine)
        if pending:
            raise InvalidInput(
                f"the database is not up to date ({len(pending)} migrations pending): "
                "run `celltrial db upgrade`",
                field="--db",
            )
        yield session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    with _factory(db) as factory, unit_of_work(factory) as session:
        yield session


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@registry_app.command("import")
def import_command(
    path: Path = typer.Argument(
        ..., help="A CT.gov API v2 JSON file, the corpus trials.csv or sample, or a folder."
    ),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import registry records, merging records of the same NCT id (re-importing changes nothing)."""
    console = Console(stderr=True)
    with (
        _factory(db) as factory,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json or not console.is_terminal,
        ) as bar,
    ):
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = service.import_registry(factory=factory, path=path, progress=progress)
    if as_json:
        _echo_json(report.model_dump(mode="json"))
        return
    typer.echo(
        f"imported {report.trials_in_sources} trials from {len(report.files)} file(s) "
        f"in {report.seconds:.1f} s: {report.trials_created} new, "
        f"{report.trials_updated} updated, {report.trials_unchanged} unchanged"
    )
    typer.echo(
        f"sources: {', '.join(f'{n} {kind}' for kind, n in report.source_records.items())}; "
        f"sites stored: {report.sites_stored}"
        + (
            f" ({report.site_rows_without_trial} of {report.site_rows_read} site rows skipped: "
            "their trial is not in the imported trials)"
            if report.site_rows_without_trial
            else ""
        )
    )
    typer.echo(
        f"embeddings: {report.embeddings_computed} computed, {report.embeddings_from_cache} from the shipped "
        f"cache, {report.embeddings_reused} unchanged"
    )
    for skipped in report.skipped_files:
        typer.echo(f"skipped {skipped['file']}: {skipped['reason']}")


@registry_app.command("search")
def search_command(
    text: str = typer.Argument(
        "", help="Words to find in titles, summaries, conditions, interventions, criteria."
    ),
    status: list[str] = typer.Option([], "--status", help="Recruitment status (repeat for several)."),
    phase: list[str] = typer.Option([], "--phase", help="Phase, e.g. PHASE1 (repeat for several)."),
    study_type: str | None = typer.Option(None, "--study-type", help="INTERVENTIONAL, OBSERVATIONAL, ..."),
    condition: str | None = typer.Option(None, "--condition", help="Text within the conditions."),
    intervention: str | None = typer.Option(None, "--intervention", help="Text within the interventions."),
    age: float | None = typer.Option(
        None, "--age", help="A patient's age in years: trials whose limits fit."
    ),
    sex: str | None = typer.Option(None, "--sex", help="A patient's sex: FEMALE or MALE."),
    healthy_volunteers: bool | None = typer.Option(
        None, "--healthy-volunteers/--no-healthy-volunteers", help="Accepts healthy volunteers or not."
    ),
    country: str | None = typer.Option(None, "--country", help="A country with a site."),
    start_year_from: int | None = typer.Option(None, "--start-year-from", help="Started in or after."),
    start_year_to: int | None = typer.Option(None, "--start-year-to", help="Started in or before."),
    sort: str = typer.Option(
        "relevance", "--sort", help="relevance, start_date, last_update, enrollment, nct_id"
    ),
    page: int = typer.Option(1, "--page", help="Page number."),
    page_size: int = typer.Option(20, "--page-size", help="Trials per page (at most 100)."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the registry; results ranked by relevance (or the chosen order)."""
    fields = {
        "text": text or None,
        "status": [s.upper() for s in status],
        "phase": [p.upper() for p in phase],
        "study_type": study_type.upper() if study_type else None,
        "condition": condition,
        "intervention": intervention,
        "age": age,
        "sex": sex.upper() if sex else None,
        "healthy_volunteers": healthy_volunteers,
        "country": country,
        "start_year_from": start_year_from,
        "start_year_to": start_year_to,
        "sort": sort,
        "page": page,
        "page_size": page_size,
    }
    try:
        query = SearchQuery.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "search"
        raise InvalidInput(first["msg"].removeprefix("Value error, "), field=option) from None
    with _session(db) as session:
        found = service.search_trials(session=session, query=query)
    if as_json:
        _echo_json(found.model_dump(mode="json"))
        return
    typer.echo(f"{found.total} trials (page {found.page} of {found.pages})")
    for hit in found.results:
        score = f"{hit.score:7.3f}  " if hit.score is not None else ""
        typer.echo(f"{score}{hit.nct_id}  {hit.overall_status or '-':<22} {hit.title}")


@registry_app.command("related")
def related_command(
    nct_id: str = typer.Argument(..., help="The trial's NCT id."),
    top: int = typer.Option(10, "--top", help="How many related trials (1-100)."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Trials related to NCT_ID by similarity analysis, with a score and a reason each."""
    with _session(db) as session:
        related = service.related_trials(session=session, nct_id=nct_id, top=top)
    if as_json:
        _echo_json(related.model_dump(mode="json"))
        return
    typer.echo(f"trials related to {related.nct_id}:")
    for rank, trial in enumerate(related.related, start=1):
        typer.echo(f"{rank:3d}. {trial.score:.3f}  {trial.nct_id}  {trial.title}")
        typer.echo(f"              {trial.reason}")


@registry_app.command("show")
def show_command(
    nct_id: str = typer.Argument(..., help="The trial's NCT id."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A trial's page: every section of its registry record, and related trials."""
    with _session(db) as session:
        page = service.trial_page(session=session, nct_id=nct_id)
    if as_json:
        _echo_json(page.model_dump(mode="json"))
        return
    for line in render_text(page):
        typer.echo(line)


def render_text(page: TrialPage) -> Iterator[str]:
    """The trial page as plain text, section by section."""
    yield page.title
    yield f"NCT ID: {page.nct_id}    Last Updated: {page.last_updated}"
    for section in page.sections:
        yield ""
        yield section.heading.upper()
        if section.explanation:
            yield f"  {section.explanation}"
        for fact in section.facts:
            yield f"  {fact.label}: {fact.value}"
        for paragraph in section.paragraphs:
            yield f"  {paragraph}"
        for entry in section.entries:
            yield f"  - {entry.title}"
            for fact in entry.facts:
                yield f"      {fact.label}: {fact.value}"
            if entry.description:
                yield f"      {entry.description}"
            for item in entry.items:
                yield f"      * {item}"
        for criteria in section.criteria:
            if criteria.heading:
                yield f"  {criteria.heading}"
            for paragraph in criteria.preamble:
                yield f"    {paragraph}"
            yield from _items(criteria.items, depth=2)
        for trial in section.related:
            yield f"  {trial.nct_id}  {trial.overall_status or '-'}  {trial.title}"
            yield f"      score {trial.score:.3f}: {trial.reason}"
        if section.missing:
            yield f"  {section.missing}"


def _items(items: list[Any], depth: int) -> Iterator[str]:
    for item in items:
        yield f"{'  ' * depth}{item.marker} {item.text}"
        yield from _items(item.children, depth + 1)


@registry_app.command("export-embeddings")
def export_embeddings_command(
    file: Path = typer.Argument(..., help="The .npz cache file to write."),
    db: str | None = DB_OPTION,
) -> None:
    """Write the stored embeddings to FILE, a cache that seeds later imports of the same texts."""
    with _session(db) as session:
        count = service.export_embeddings(session=session, path=file)
    typer.echo(f"wrote {count} embeddings to {file}")
