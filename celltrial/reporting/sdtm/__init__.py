"""CDISC SDTM (SDTMIG 3.4) export: XPT v5 datasets, define.xml 2.1 and a conformance report.

:func:`build_datasets` turns a :class:`~celltrial.reporting.trialdata.TrialData` snapshot into
the datasets (trial design TS TA TE TV TI; DM DS IE SV; AE SUPPAE MH CM EX; LB VS RS TU TR and
the custom CAR-T kinetics domain XK). :func:`write_sdtm` writes them as ``<domain>.xpt``, writes
``define.xml`` and checks the files read back (:mod:`.conformance`), saving the findings in
``conformance.json``. A draft export also writes ``DRAFT.txt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from celltrial.errors import InvalidInput
from celltrial.reporting.sdtm.common import Dataset, VisitNumbers
from celltrial.reporting.sdtm.conformance import Finding, check_folder
from celltrial.reporting.sdtm.define_xml import write_define
from celltrial.reporting.sdtm.design import design_domains
from celltrial.reporting.sdtm.events import event_domains
from celltrial.reporting.sdtm.findings import finding_domains
from celltrial.reporting.sdtm.subjects import subject_domains
from celltrial.reporting.sdtm.xpt import write_xpt
from celltrial.reporting.trialdata import TrialData

__all__ = ["SdtmExport", "build_datasets", "write_sdtm"]


@dataclass(frozen=True)
class SdtmExport:
    """What an SDTM export wrote: the files, the record count per dataset, the conformance findings."""

    folder: Path
    files: tuple[Path, ...]
    records: dict[str, int]
    findings: tuple[Finding, ...]
    draft: bool


def build_datasets(data: TrialData) -> list[Dataset]:
    """Every SDTM dataset of the trial, in define.xml order."""
    numbers = VisitNumbers(data)
    return (
        design_domains(data, numbers)
        + subject_domains(data, numbers)
        + event_domains(data, numbers)
        + finding_domains(data, numbers)
    )


def write_sdtm(data: TrialData, folder: Path) -> SdtmExport:
    """Write the XPT files, define.xml and conformance.json of ``data`` into ``folder``."""
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} exists and is not a folder", field="--out")
    folder.mkdir(parents=True, exist_ok=True)
    datasets = build_datasets(data)
    files = [write_xpt(dataset, folder) for dataset in datasets]
    files.append(write_define(data, datasets, folder))
    findings = check_folder(folder)
    report = folder / "conformance.json"
    report.write_text(
        json.dumps(
            {
                "standard": "SDTMIG 3.4",
                "checker": "celltrial.reporting.sdtm.conformance",
                "findings": [finding.as_dict() for finding in findings],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    files.append(report)
    draft_marker = folder / "DRAFT.txt"
    if data.draft:
        draft_marker.write_text(
            f"DRAFT: SDTM extract of unlocked data of {data.nct_id}, {data.extracted_at:%Y-%m-%d %H:%M} UTC. "
            "Not for submission.\n",
            encoding="utf-8",
        )
        files.append(draft_marker)
    elif draft_marker.exists():
        draft_marker.unlink()
    records = {dataset.domain: len(dataset.rows) for dataset in datasets}
    return SdtmExport(folder, tuple(files), records, tuple(findings), data.draft)
