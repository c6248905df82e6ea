"""celltrial's own conformance check of SDTM XPT files against SDTMIG 3.4 (``sdtmig.yaml``).

The CDISC CORE rules engine needs the CDISC Library (online) for its rules and standards; this
check runs offline on the files as written. It reads every XPT file back and checks:

- file: XPT v5 dataset name = domain (≤ 8 characters), label ≤ 40;
- variables: every SDTMIG variable of the domain present, no other; names ≤ 8 characters, upper
  case letters, digits and underscores, starting with a letter; labels ≤ 40 and the SDTMIG's;
  SAS type Char/Num as the SDTMIG says; character values ≤ 200 and ASCII;
- values: Required variables never empty; DOMAIN (RDOMAIN for SUPPAE) the dataset's; ``--SEQ``
  unique per USUBJID; every USUBJID in DM; ``--DTC`` ISO 8601; ``--TESTCD`` ≤ 8 and a valid
  name, ``--TEST`` ≤ 40; Y/N flags only Y or N; SEX in the SEX codelist; start not after end;
- tumours: TU and TR test codes those of :mod:`.tumours`, and every TR link ID (``TRLNKID``)
  identified in TU for the same subject.

Each finding names the dataset, variable and row (1-based) so it can be fixed at the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from celltrial.reporting.sdtm.metadata import DomainSpec, standard
from celltrial.reporting.sdtm.tumours import SPD_TEST, TR_TESTS, TU_TESTS
from celltrial.reporting.sdtm.xpt import read_xpt

__all__ = ["Finding", "check_file", "check_folder"]

NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
ISO_8601 = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?$")
_FLAGS = {
    "DTHFL",
    "AESER",
    "AESCONG",
    "AESDISAB",
    "AESDTH",
    "AESHOSP",
    "AESLIFE",
    "AESMIE",
    "LBLOBXFL",
    "VSLOBXFL",
    "IEORRES",
    "IESTRESC",
}
_SEX = {"F", "M", "U", "UNDIFFERENTIATED"}


@dataclass(frozen=True)
class Finding:
    """One problem: where (dataset, variable, row) and what."""

    dataset: str
    variable: str | None
    row: int | None
    message: str

    def __str__(self) -> str:
        where = (
            self.dataset
            + (f".{self.variable}" if self.variable else "")
            + (f" row {self.row}" if self.row else "")
        )
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "variable": self.variable, "row": self.row, "message": self.message}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value == ""


def _structure(spec: DomainSpec, meta: Any, frame: pd.DataFrame) -> list[Finding]:
    name = spec.name
    found: list[Finding] = []
    if meta.table_name != name:
        found.append(Finding(name, None, None, f"the XPT dataset is named {meta.table_name!r}, not {name!r}"))
    if len(meta.file_label or "") > 40:
        found.append(Finding(name, None, None, "the dataset label is longer than 40 characters"))
    columns = list(frame.columns)
    for missing in [v for v in spec.names if v not in columns]:
        found.append(Finding(name, missing, None, "SDTMIG variable missing from the dataset"))
    for extra in [c for c in columns if c not in spec.names]:
        found.append(Finding(name, extra, None, "not an SDTMIG variable of this domain"))
    labels = dict(zip(columns, meta.column_labels, strict=True))
    for column in columns:
        if not NAME.match(column):
            found.append(Finding(name, column, None, "invalid variable name (≤ 8, A-Z 0-9 _)"))
        if column not in spec.names:
            continue
        variable = spec.variable(column)
        if labels[column] != variable.label:
            found.append(
                Finding(name, column, None, f"label {labels[column]!r}, SDTMIG says {variable.label!r}")
            )
        sas_type = "Num" if meta.readstat_variable_types[column] == "double" else "Char"
        if sas_type != variable.type:
            found.append(Finding(name, column, None, f"type {sas_type}, SDTMIG says {variable.type}"))
        if sas_type == "Char" and meta.variable_storage_width[column] > 200:
            found.append(Finding(name, column, None, "character length above 200"))
    return found


def _values(spec: DomainSpec, frame: pd.DataFrame, dm_subjects: set[str] | None) -> list[Finding]:
    name = spec.name
    found: list[Finding] = []
    records = frame.to_dict("records")
    required = [v.name for v in spec.variables if v.core == "Req" and v.name in frame.columns]
    seq = f"{name}SEQ"
    seen: set[tuple[str, Any]] = set()
    for number, row in enumerate(records, start=1):
        for column in required:
            if _empty(row[column]):
                found.append(Finding(name, column, number, "required variable is empty"))
        domain_column = "RDOMAIN" if name.startswith("SUPP") else "DOMAIN"
        expected_domain = name.removeprefix("SUPP") if name.startswith("SUPP") else name
        if domain_column in row and row[domain_column] != expected_domain:
            found.append(
                Finding(name, domain_column, number, f"is {row[domain_column]!r}, not {expected_domain!r}")
            )
        if seq in row:
            key = (row.get("USUBJID", row.get("TSPARMCD")), row[seq])
            if key in seen:
                found.append(Finding(name, seq, number, f"{seq} {row[seq]:g} repeats for {key[0]}"))
            seen.add(key)
        if dm_subjects is not None and "USUBJID" in row and row["USUBJID"] not in dm_subjects:
            found.append(Finding(name, "USUBJID", number, f"{row['USUBJID']} is not in DM"))
        found += _row_values(name, number, row)
    return found


def _row_values(name: str, number: int, row: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for column, value in row.items():
        if not isinstance(value, str) or value == "":
            continue
        if not value.isascii():
            found.append(Finding(name, column, number, "value is not ASCII"))
        if column.endswith("DTC") and not ISO_8601.match(value):
            found.append(Finding(name, column, number, f"{value!r} is not an ISO 8601 date/time"))
        if column.endswith("TESTCD") and not NAME.match(value):
            found.append(
                Finding(name, column, number, f"{value!r} is not a valid short name (≤ 8, A-Z 0-9 _)")
            )
        if column.endswith("TEST") and column != "IETEST" and len(value) > 40:
            found.append(Finding(name, column, number, "test name longer than 40 characters"))
        if column in _FLAGS and value not in {"Y", "N"}:
            found.append(Finding(name, column, number, f"{value!r} is not Y or N"))
        if column == "SEX" and value not in _SEX:
            found.append(Finding(name, column, number, f"{value!r} is not in the SEX codelist"))
    for start in [c for c in row if c.endswith("STDTC")]:
        end = start.replace("STDTC", "ENDTC")
        if row.get(end) and row[start] and str(row[end])[:10] < str(row[start])[:10]:
            found.append(Finding(name, end, number, f"ends ({row[end]}) before it starts ({row[start]})"))
    return found


def check_file(path: Path, dm_subjects: set[str] | None = None) -> list[Finding]:
    """Check one XPT file against its domain's SDTMIG metadata."""
    domain = path.stem.upper()
    spec = standard().domains.get(domain)
    if spec is None:
        return [Finding(domain, None, None, "not a domain celltrial knows")]
    frame, meta = read_xpt(path)
    return _structure(spec, meta, frame) + _values(spec, frame, dm_subjects)


def _tumour_links(folder: Path) -> list[Finding]:
    tu_file, tr_file = folder / "tu.xpt", folder / "tr.xpt"
    if not (tu_file.is_file() and tr_file.is_file()):
        return []
    tu, tr = read_xpt(tu_file)[0], read_xpt(tr_file)[0]
    found: list[Finding] = []
    for number, code in enumerate(tu["TUTESTCD"], start=1):
        if code not in TU_TESTS:
            found.append(Finding("TU", "TUTESTCD", number, f"{code!r} is not a tumour identification test"))
    known = set(zip(tu["USUBJID"], tu["TULNKID"], strict=True))
    for number, row in enumerate(tr.to_dict("records"), start=1):
        if row["TRTESTCD"] not in TR_TESTS and row["TRTESTCD"] != SPD_TEST[0]:
            found.append(
                Finding("TR", "TRTESTCD", number, f"{row['TRTESTCD']!r} is not a tumour result test")
            )
        if not _empty(row["TRLNKID"]) and (row["USUBJID"], row["TRLNKID"]) not in known:
            found.append(Finding("TR", "TRLNKID", number, f"{row['TRLNKID']} is not identified in TU"))
    return found


def check_folder(folder: Path) -> list[Finding]:
    """Check every XPT file of an SDTM export folder (DM first, for the USUBJID cross-check)."""
    files = sorted(folder.glob("*.xpt"))
    dm = folder / "dm.xpt"
    subjects: set[str] | None = None
    if dm.is_file():
        subjects = set(read_xpt(dm)[0]["USUBJID"])
    else:
        return [Finding("DM", None, None, "dm.xpt is missing")]
    found: list[Finding] = []
    for path in files:
        domain = path.stem.upper()
        found += check_file(path, None if domain in {"DM", "TS", "TA", "TE", "TV", "TI"} else subjects)
    return found + _tumour_links(folder)
