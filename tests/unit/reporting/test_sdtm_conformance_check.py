"""The own SDTMIG conformance check finds each kind of problem, naming dataset, variable and row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from celltrial.reporting.sdtm.common import Dataset
from celltrial.reporting.sdtm.conformance import check_file, check_folder
from celltrial.reporting.sdtm.xpt import ascii_text, read_xpt, write_xpt


def dm(folder: Path) -> None:
    data = Dataset("DM")
    data.add(STUDYID="S", USUBJID="S-01-1", SUBJID="1", SITEID="01", SEX="F", COUNTRY="CHN")
    write_xpt(data.number(), folder)


def test_a_clean_dataset_reads_back_with_sdtmig_labels_types_and_no_findings(tmp_path: Path) -> None:
    dm(tmp_path)
    _frame, meta = read_xpt(tmp_path / "dm.xpt")
    assert meta.table_name == "DM"
    assert (
        dict(zip(meta.column_names, meta.column_labels, strict=True))["RFICDTC"]
        == "Date/Time of Informed Consent"
    )
    assert meta.readstat_variable_types["AGE"] == "double"
    assert check_folder(tmp_path) == []


def test_missing_required_values_repeated_sequence_bad_dates_and_flags_are_each_reported(
    tmp_path: Path,
) -> None:
    dm(tmp_path)
    ae = Dataset("AE")
    ae.add(
        STUDYID="S",
        USUBJID="S-01-1",
        AESEQ=1,
        AETERM="Fever",
        AEDECOD="Fever",
        AESER="Y",
        AESTDTC="2026-03-10",
    )
    ae.add(
        STUDYID="S",
        USUBJID="S-01-1",
        AESEQ=1,
        AETERM="Rash",
        AEDECOD=None,
        AESER="maybe",
        AESTDTC="10/03/2026",
    )
    ae.add(
        STUDYID="S",
        USUBJID="S-99-9",
        AESEQ=1,
        AETERM="Cough",
        AEDECOD="Cough",
        AESTDTC="2026-03-12",
        AEENDTC="2026-03-11",
    )
    write_xpt(ae, tmp_path)
    found = {(f.variable, f.row): f.message for f in check_folder(tmp_path)}
    assert found[("AEDECOD", 2)] == "required variable is empty"
    assert "repeats" in found[("AESEQ", 2)]
    assert "ISO 8601" in found[("AESTDTC", 2)]
    assert "Y or N" in found[("AESER", 2)]
    assert "not in DM" in found[("USUBJID", 3)]
    assert "before it starts" in found[("AEENDTC", 3)]


def test_a_wrong_label_type_or_a_variable_outside_the_sdtmig_is_reported(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "STUDYID": ["S"],
            "DOMAIN": ["TE"],
            "ETCD": ["SCRN"],
            "ELEMENT": ["Screening"],
            "TESTRL": [1.0],
            "TEENRL": [""],
            "TEDUR": [""],
            "EXTRA": ["x"],
        }
    )
    labels = [
        "Study Identifier",
        "Domain Abbreviation",
        "Element Code",
        "Element",
        "Rule for Start of Element",
        "Rule for End of Element",
        "Planned Duration of Element",
        "Extra",
    ]
    pyreadstat.write_xport(
        frame, str(tmp_path / "te.xpt"), table_name="TE", column_labels=labels, file_format_version=5
    )
    messages = {(f.variable, f.message) for f in check_file(tmp_path / "te.xpt")}
    assert ("EXTRA", "not an SDTMIG variable of this domain") in messages
    assert ("TESTRL", "type Num, SDTMIG says Char") in messages
    assert ("ELEMENT", "label 'Element', SDTMIG says 'Description of Element'") in messages


def test_text_is_written_in_ascii_with_the_trials_symbols_spelled_out() -> None:
    assert ascii_text("HGB ≥70 g/L, creatinine ≤1.5×ULN, 5 µg") == "HGB >=70 g/L, creatinine <=1.5xULN, 5 ug"
    assert ascii_text("naïve") == "na?ve"
