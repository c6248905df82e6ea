"""``celltrial isbt``: ISBT 128 Donation Identification Numbers and their check characters."""

from __future__ import annotations

import json

import typer

from celltrial.clinical.isbt128 import check_character, make_din

isbt_app = typer.Typer(help="ISBT 128 Donation Identification Numbers (DIN).", no_args_is_help=True)


@isbt_app.command("check-char")
def check_char(din13: str = typer.Argument(..., help="The 13 DIN characters, e.g. G123498654321.")) -> None:
    """Print the keyboard check character (ISO/IEC 7064 MOD 37-2) of a DIN."""
    typer.echo(check_character(din13))


@isbt_app.command("din")
def din(
    facility: str = typer.Option(..., help="Facility identification number, e.g. G1234."),
    year: str = typer.Option(..., help="Two-digit year, e.g. 26."),
    sequence: int = typer.Option(..., help="Sequence number (up to 6 digits)."),
    flags: str = typer.Option("00", help="Two flag digits."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print a full DIN: its eye-readable form, keyboard entry and bar code content."""
    number = make_din(facility, year, sequence, flags)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "facility": number.facility,
                    "year": number.year,
                    "sequence": number.sequence,
                    "flags": number.flags,
                    "din13": number.din13,
                    "check_character": number.check_character,
                    "keyboard_entry": number.keyboard_entry,
                    "data_content": number.data_content,
                    "eye_readable": number.eye_readable,
                }
            )
        )
        return
    typer.echo(number.eye_readable)


def register(app: typer.Typer) -> None:
    app.add_typer(isbt_app, name="isbt")
