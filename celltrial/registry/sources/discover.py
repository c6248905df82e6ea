"""Finding the registry sources under a path and reading them all (nothing is stored here).

A path is a file or a directory (searched recursively, in name order):

- ``*.json``: a CT.gov API v2 study, a ``/studies`` page, or the corpus sample (``{"trials": [...]}``);
- ``trials.csv`` (the corpus header): the corpus rows, with the ``sites.csv`` beside it.

A file named on the command line must be one of those; inside a directory, other JSON and CSV
files (API metadata, another corpus's format, ``sites.csv`` itself) are listed as skipped with the
reason. Any invalid record stops the whole import before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celltrial.errors import InvalidInput
from celltrial.jsoninput import read_json_file
from celltrial.protocol.ctgov import Study
from celltrial.protocol.library import parse_study
from celltrial.registry.record import SourcedRecord
from celltrial.registry.sources.corpus import (
    is_corpus_sample,
    is_corpus_trials_csv,
    read_corpus_csv,
    read_corpus_sample,
)
from celltrial.registry.sources.ctgov import record_from_study


@dataclass
class Collected:
    """Everything read from a path."""

    sources: list[SourcedRecord] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    site_rows_read: int = 0
    site_rows_attached: int = 0
    site_rows_without_trial: int = 0


def collect(path: Path) -> Collected:
    """Read every source under ``path``."""
    if not path.exists():
        raise InvalidInput("no such file or directory", field=str(path))
    collected = Collected()
    if path.is_file():
        if not _read(path, collected, explicit=True):
            raise InvalidInput(
                "not a registry source "
                "(expected CT.gov API v2 JSON, the corpus trials.csv or its sample JSON)",
                field=str(path),
            )
        return collected
    for candidate in sorted(p for p in path.rglob("*") if p.is_file()):
        if candidate.suffix.lower() in (".json", ".csv"):
            _read(candidate, collected, explicit=False)
    if not collected.files:
        raise InvalidInput("holds no registry source (CT.gov API v2 JSON, trials.csv)", field=str(path))
    return collected


def _studies(data: dict[str, Any]) -> list[Study]:
    """A single study or a ``/studies`` page; errors name the JSON path."""
    if "protocolSection" in data:
        return [parse_study(data)]
    studies = data["studies"]
    if not isinstance(studies, list) or not studies:
        raise InvalidInput("'studies' must be a non-empty list", field="studies")
    return [parse_study(item, where=f"studies[{index}]") for index, item in enumerate(studies)]


def _read(path: Path, collected: Collected, *, explicit: bool) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if not is_corpus_trials_csv(path):
            reason = (
                "read with the trials.csv beside it"
                if path.name == "sites.csv"
                else "not a corpus trials.csv"
            )
            collected.skipped_files.append((str(path), reason))
            return False
        records, sites, site_rows = read_corpus_csv(path)
        known = {s.record.nct_id for s in records}
        for index, source in enumerate(records):
            trial_sites = sites.get(source.record.nct_id)
            if trial_sites:
                record = source.record.model_copy(update={"sites": trial_sites})
                records[index] = source.model_copy(update={"record": record})
        attached = sum(len(v) for k, v in sites.items() if k in known)
        collected.sources.extend(records)
        collected.site_rows_read += site_rows
        collected.site_rows_attached += attached
        collected.site_rows_without_trial += site_rows - attached
        collected.files.append(str(path))
        return True
    if suffix != ".json":
        collected.skipped_files.append((str(path), "not JSON or CSV"))
        return False
    try:
        data = read_json_file(path)
    except InvalidInput as error:
        if explicit:
            raise
        collected.skipped_files.append((str(path), error.message))
        return False
    if is_corpus_sample(data):
        collected.sources.extend(read_corpus_sample(path, data))
    elif isinstance(data, dict) and ("protocolSection" in data or "studies" in data):
        try:
            studies = _studies(data)
        except InvalidInput as error:
            raise InvalidInput(error.message, field=f"{path.name}: {error.field}") from None
        collected.sources.extend(
            SourcedRecord(kind="ctgov_json", origin=path.name, record=record_from_study(study))
            for study in studies
        )
    else:
        collected.skipped_files.append(
            (str(path), "JSON that is neither a CT.gov study nor the corpus sample")
        )
        return False
    collected.files.append(str(path))
    return True
