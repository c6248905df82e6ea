"""``celltrial user``: add, list, disable users, change their role and reset their passwords."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from celltrial.errors import InvalidInput
from celltrial.study.console import DB_OPTION, command_session
from celltrial.study.sites import service as sites
from celltrial.study.users import service as users
from celltrial.study.users.models import UserRead
from celltrial.textfile import read_text

user_app = typer.Typer(help="Study users and their passwords.", no_args_is_help=True)

PASSWORD_FILE = typer.Option(
    None, "--password-file", help="Read the password from the first line of this file (else it is asked)."
)


def _password(path: Path | None) -> str:
    if path is None:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        lines = read_text(path).splitlines()
    except InvalidInput as error:
        raise InvalidInput(f"{path}: {error.message}", field="--password-file") from None
    if not lines:
        raise InvalidInput(f"{path} is empty", field="--password-file")
    return lines[0]


@user_app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (lower case)."),
    full_name: str = typer.Option(..., "--name", help="Full name, printed on signatures."),
    role: str = typer.Option(
        ...,
        "--role",
        help="investigator, coordinator, cell_lab, data_manager, monitor, sponsor, dsmb or admin.",
    ),
    site: str | None = typer.Option(None, "--site", help="Site code (site roles only), e.g. S01."),
    password_file: Path | None = PASSWORD_FILE,
    db: str | None = DB_OPTION,
) -> None:
    """Add a user."""
    password = _password(password_file)
    with command_session(db) as session:
        site_id = sites.get_by_code_or_raise(session, code=site).id if site else None
        user = users.create(
            session,
            username=username,
            full_name=full_name,
            role=role,
            site_id=site_id,
            password=password,
            by=users.operator(),
        )
    typer.echo(f"added user {user.username} ({user.role}{', site ' + site.upper() if site else ''})")


@user_app.command("list")
def list_users(
    site: str | None = typer.Option(None, "--site", help="Only this site's users."),
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the users (never their passwords)."""
    with command_session(db) as session:
        codes = {s.id: s.code for s in sites.get_all(session)}
        site_id = sites.get_by_code_or_raise(session, code=site).id if site else None
        rows = [UserRead.model_validate(user) for user in users.get_all(session, site_id=site_id)]
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in rows]))
        return
    for row in rows:
        state = "disabled" if row.disabled else "locked" if row.locked else "active"
        where = codes.get(row.site_id, "-") if row.site_id else "-"
        typer.echo(f"{row.username}\t{row.full_name}\t{row.role}\t{where}\t{state}")


@user_app.command("disable")
def disable(
    username: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why the account is disabled (audited)."),
    db: str | None = DB_OPTION,
) -> None:
    """Disable a user: no more logins or signatures; their records keep their name."""
    with command_session(db) as session:
        user = users.disable(session, username=username, reason=reason, by=users.operator())
    typer.echo(f"disabled user {user.username}")


@user_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(...),
    password_file: Path | None = PASSWORD_FILE,
    db: str | None = DB_OPTION,
) -> None:
    """Set a new password (this also lifts a lockout)."""
    password = _password(password_file)
    with command_session(db) as session:
        user = users.reset_password(session, username=username, password=password, by=users.operator())
    typer.echo(f"reset the password of {user.username}")


@user_app.command("role")
def change_role(
    username: str = typer.Argument(...),
    role: str = typer.Argument(
        ..., help="investigator, coordinator, cell_lab, data_manager, monitor, sponsor, dsmb or admin."
    ),
    site: str | None = typer.Option(None, "--site", help="Site code (site roles only), e.g. S01."),
    reason: str = typer.Option(..., "--reason", help="Why the role changes (audited)."),
    db: str | None = DB_OPTION,
) -> None:
    """Give a user another role (and site); applies from the user's next request."""
    with command_session(db) as session:
        site_id = sites.get_by_code_or_raise(session, code=site).id if site else None
        user = users.change_role(
            session, username=username, role=role, site_id=site_id, reason=reason, by=users.operator()
        )
    typer.echo(f"{user.username} is now {user.role}{', site ' + site.upper() if site else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
