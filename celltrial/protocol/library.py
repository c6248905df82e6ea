"""Where protocols live: the records shipped with celltrial and the ones a user imported.

Shipped records are package data (``celltrial/protocol/data/<NCT id>.json`` with its
``<NCT id>.settings.yaml``). Imported records are stored as CT.gov API v2 JSON in the protocol
library directory, ``$CELLTRIAL_HOME/protocols`` (default ``~/.celltrial/protocols``). Parsing
turns every problem into an :class:`~celltrial.errors.InvalidInput` naming its JSON path, and
nothing is stored unless every study in a file is valid.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from celltrial.errors import InvalidInput, NotFound
from celltrial.jsoninput import parse_json
from celltrial.protocol.ctgov import Study
from celltrial.protocol.settings import ProtocolSettings, parse_settings
from celltrial.textfile import read_text

_SHIPPED = resources.files("celltrial.protocol") / "data"


def library_dir() -> Path:
    """The directory holding imported protocols."""
    home = Path(os.environ.get("CELLTRIAL_HOME") or Path.home() / ".celltrial")
    return home / "protocols"


def _json_path(location: tuple[int | str, ...], prefix: str) -> str:
    path = prefix
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "$"


def parse_study(data: Any, *, where: str = "") -> Study:
    """Validate one API v2 study object; the error names the JSON path of the first problem."""
    if not isinstance(data, dict):
        raise InvalidInput("a study must be a JSON object", field=where or "$")
    if "protocolSection" not in data:
        raise InvalidInput("missing 'protocolSection'", field=where or "$")
    try:
        return Study.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"]
        if first["type"] == "literal_error":
            message = f"unknown value {first['input']!r}; {message}"
        more = error.error_count() - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise InvalidInput(message, field=_json_path(tuple(first["loc"]), where)) from None


def parse_document(text: str) -> list[Study]:
    """Parse a single study or a ``/studies`` page (``{"studies": [...]}``)."""
    data = parse_json(text, field="$")
    if isinstance(data, dict) and "studies" in data and "protocolSection" not in data:
        studies = data["studies"]
        if not isinstance(studies, list) or not studies:
            raise InvalidInput("'studies' must be a non-empty list", field="studies")
        return [parse_study(item, where=f"studies[{index}]") for index, item in enumerate(studies)]
    return [parse_study(data)]


def read_file(path: Path) -> list[Study]:
    """Parse a CT.gov API v2 JSON file; errors start with the file name."""
    text = read_text(path)
    try:
        return parse_document(text)
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"{path.name}: {error.field}") from None


def import_file(path: Path) -> list[Study]:
    """Validate every study in ``path`` and store them all, or none."""
    studies = read_file(path)
    target = library_dir()
    target.mkdir(parents=True, exist_ok=True)
    for study in studies:
        destination = target / f"{study.nct_id}.json"
        temporary = destination.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(study.to_ctgov_json(), indent=2, ensure_ascii=False) + "\n")
        temporary.replace(destination)
    return studies


def _shipped_ids() -> list[str]:
    return sorted(
        entry.name.removesuffix(".json")
        for entry in _SHIPPED.iterdir()
        if entry.name.endswith(".json") and entry.name.startswith("NCT")
    )


def list_protocols() -> list[tuple[str, str]]:
    """Every known protocol as (NCT id, where it comes from: 'shipped' or 'imported')."""
    found = dict.fromkeys(_shipped_ids(), "shipped")
    directory = library_dir()
    if directory.is_dir():
        for entry in sorted(directory.glob("NCT*.json")):
            found.setdefault(entry.stem, "imported")
    return sorted(found.items())


def load_study(nct_id: str) -> Study:
    """The registry record of ``nct_id`` (an imported copy wins over the shipped one)."""
    imported = library_dir() / f"{nct_id}.json"
    if imported.is_file():
        return read_file(imported)[0]
    shipped = _SHIPPED / f"{nct_id}.json"
    if shipped.is_file():
        return parse_document(shipped.read_text(encoding="utf-8"))[0]
    known = ", ".join(nct_id for nct_id, _ in list_protocols()) or "none"
    raise NotFound(f"no protocol {nct_id!r} (known: {known})", field="nct_id")


def load_settings(nct_id: str) -> ProtocolSettings:
    """The protocol settings of ``nct_id``."""
    for candidate in (library_dir() / f"{nct_id}.settings.yaml", _SHIPPED / f"{nct_id}.settings.yaml"):
        if candidate.is_file():
            return parse_settings(candidate.read_text(encoding="utf-8"), origin=f"{nct_id}.settings.yaml")
    raise NotFound(f"protocol {nct_id!r} has no settings file ({nct_id}.settings.yaml)", field="nct_id")
