"""``celltrial site``: add and list trial sites."""

from __future__ import annotations

import json

import typer

from celltrial.study.console import DB_OPTION, command_session
from celltrial.study.sites import service as sites
from celltrial.study.sites.models import SiteRead
from celltrial.study.users import service as users

site_app = typer.Typer(help="Trial sites.", no_args_is_help=True)


@site_app.command("add")
def add(
    code: str = typer.Argument(..., help="Site code, e.g. S01 (prefixes subject numbers)."),
    name: str = typer.Option(..., "--name", help="Hospital name."),
    country: str = typer.Option(..., "--country", help="Country."),
    db: str | None = DB_OPTION,
) -> None:
    """Add a site."""
    with command_session(db) as session:
        site = sites.create(session, code=code, name=name, country=country, by=users.operator())
    typer.echo(f"added site {site.code} ({site.name}, {site.country})")


@site_app.command("list")
def list_sites(db: str | None = DB_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """List the sites."""
    with command_session(db) as session:
        rows = [SiteRead.model_validate(site) for site in sites.get_all(session)]
    if as_json:
        typer.echo(json.dumps([row.model_dump() for row in rows]))
        return
    for row in rows:
        typer.echo(f"{row.code}\t{row.name}\t{row.country}")


def register(app: typer.Typer) -> None:
    app.add_typer(site_app, name="site")
