"""SDTM export of a trial built through the services: XPT files read back, define.xml, counts, locks."""

from __future__ import annotations

from pathlib import Path

import pyreadstat
import pytest
from lxml import etree
from reporting_world import Trial
from sqlalchemy import func, select

from celltrial.errors import Conflict
from celltrial.reporting.schemas import define_schema
from celltrial.reporting.sdtm import write_sdtm
from celltrial.reporting.sdtm.conformance import check_folder
from celltrial.reporting.trialdata import load_trial_data
from celltrial.study.safety.models import AdverseEvent
from celltrial.study.subjects.models import Subject


def export(trial: Trial, folder: Path, *, draft: bool = False) -> object:
    return trial.edc.run(
        lambda s: write_sdtm(load_trial_data(s, by=trial.edc["data_manager"], draft=draft), folder)
    )


def read(folder: Path, domain: str) -> tuple[object, object]:
    return pyreadstat.read_xport(str(folder / f"{domain}.xpt"))


def test_an_unlocked_trial_is_refused_naming_a_subject_and_written_only_as_a_draft(
    trial: Trial, tmp_path: Path
) -> None:
    trial.unlocked()
    with pytest.raises(Conflict) as refused:
        export(trial, tmp_path / "final")
    assert refused.value.field is not None
    assert refused.value.field.startswith("subject S01-")
    assert not (tmp_path / "final").exists()
    result = export(trial, tmp_path / "draft", draft=True)
    assert result.draft
    assert (tmp_path / "draft" / "DRAFT.txt").is_file()
    assert "DRAFT" in (tmp_path / "draft" / "define.xml").read_text()


def test_every_dataset_reads_back_conformant_with_counts_matching_the_database(
    trial: Trial, tmp_path: Path
) -> None:
    trial.locked()
    result = export(trial, tmp_path)
    assert [str(finding) for finding in result.findings] == []  # type: ignore[attr-defined]
    assert check_folder(tmp_path) == []
    with trial.edc.sessions() as session:
        subjects = session.scalar(select(func.count()).select_from(Subject))
        events = session.scalar(select(func.count()).select_from(AdverseEvent))
    dm, meta = read(tmp_path, "dm")
    assert len(dm) == subjects
    assert meta.table_name == "DM"
    assert meta.file_label == "Demographics"
    assert all(usubjid.startswith("NCT07008872-S01-S01-") for usubjid in dm["USUBJID"])
    assert set(dm["ARMNRS"]) == {"", "SCREEN FAILURE", "ASSIGNED, NOT TREATED"}
    ae, _ = read(tmp_path, "ae")
    assert len(ae) == events
    assert sorted(ae["AETOXGR"]) == ["2", "3", "5"]
    supp, _ = read(tmp_path, "suppae")
    scales = dict(
        zip(
            supp[supp["QNAM"] == "AETOXGRS"]["IDVARVAL"],
            supp[supp["QNAM"] == "AETOXGRS"]["QVAL"],
            strict=True,
        )
    )
    assert sorted(scales.values()) == ["ASTCT 2019", "ASTCT 2019", "CTCAE v5.0"]
    ie, _ = read(tmp_path, "ie")
    assert list(ie["IETESTCD"]) == ["I7"]
    assert list(ie["IEORRES"]) == ["N"]
    ti, _ = read(tmp_path, "ti")
    assert len(ti) == 21
    ex, _ = read(tmp_path, "ex")
    assert sorted(ex["EXTRT"]) == ["CD7 CAR-T CELLS"] * 2 + ["CYCLOPHOSPHAMIDE"] * 2 + ["FLUDARABINE"] * 2
    xk, _ = read(tmp_path, "xk")
    assert sorted(xk["XKORRES"]) == ["120", "85000.5", "BLQ", "BLQ"]
    define = etree.parse(str(tmp_path / "define.xml"))
    assert define_schema().validate(define)
