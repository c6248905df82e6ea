"""``celltrial import odm FILE``: CRF definitions from the metadata of a CDISC ODM 1.3.2 file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

__all__ = ["register"]

import_app = typer.Typer(help="Import study definitions from other systems.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")


@import_app.command("odm")
def odm(
    file: Path = typer.Argument(..., help="An ODM 1.3.2 XML file with a MetaDataVersion."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the form definitions (default: $CELLTRIAL_HOME/forms)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Turn each FormDef into a celltrial data dictionary (<code>.yaml); all forms or none."""
    from celltrial.reporting.odm_import import import_odm_forms
    from celltrial.study.forms.dictionary import imported_forms_dir

    written = import_odm_forms(file, out or imported_forms_dir())
    if as_json:
        typer.echo(json.dumps({"forms": [path.stem for path in written], "folder": str(written[0].parent)}))
        return
    for path in written:
        typer.echo(f"imported form {path.stem} -> {path}")
