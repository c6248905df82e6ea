"""``celltrial export ...`` and ``celltrial import odm`` end to end on a trial built through the services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reporting_world import Trial
from sqlalchemy import select

from celltrial.cli import main
from celltrial.study.audit.models import AuditEntry
from celltrial.study.forms.dictionary import form_definitions


def run(
    capsys: pytest.CaptureFixture[str], trial: Trial, *args: str, user: str = "data-manager"
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*args, "--db", trial.url, "--user", user])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def exports(trial: Trial, since: int) -> list[dict[str, object]]:
    with trial.edc.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.id > since)
        rows = session.scalars(query.order_by(AuditEntry.id))
        return [
            {"kind": row.entity_id, "actor": row.actor, **json.loads(row.new_value or "{}")} for row in rows
        ]


def test_exports_refuse_unlocked_data_unless_draft_and_every_run_is_audited(
    trial: Trial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trial.unlocked()
    mark = trial.audit_mark()
    code, _, err = run(capsys, trial, "export", "sdtm", "--out", str(tmp_path / "sdtm"))
    assert code == 2
    assert "is not locked" in err
    assert "S01-" in err
    assert exports(trial, mark) == []
    code, out, _ = run(
        capsys, trial, "export", "fhir", "--out", str(tmp_path / "b.json"), "--draft", "--json"
    )
    assert code == 0
    assert json.loads(out)["draft"] is True
    assert json.loads((tmp_path / "b.json").read_text())["meta"]["tag"][0]["code"] == "draft"
    trial.locked()
    for kind, target in (
        ("sdtm", "sdtm"),
        ("odm", "study.xml"),
        ("fhir", "bundle.json"),
        ("ctgov-results", "r.json"),
    ):
        code, out, err = run(capsys, trial, "export", kind, "--out", str(tmp_path / target), "--json")
        assert code == 0, err
        assert json.loads(out)["draft"] is False
    code, out, _ = run(capsys, trial, "export", "ctgov-record", user="sponsor")
    assert code == 0
    record = json.loads(out)["protocolSection"]
    assert record["statusModule"]["overallStatus"] == "RECRUITING"
    assert record["designModule"]["enrollmentInfo"] == {"count": 40, "type": "ESTIMATED"}
    audited = exports(trial, mark)
    assert [(row["kind"], row["draft"]) for row in audited] == [
        ("fhir", True), ("sdtm", False), ("odm", False), ("fhir", False), ("ctgov-results", False),
        ("ctgov-record", False),
    ]  # fmt: skip
    assert {row["actor"] for row in audited} == {"data-manager", "sponsor"}


def test_a_role_that_may_not_export_is_refused(
    trial: Trial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, trial, "export", "odm", "--out", str(tmp_path / "x.xml"), "--draft",
                       user="coordinator")  # fmt: skip
    assert code == 2
    assert "may not export.run" in err
    assert not (tmp_path / "x.xml").exists()


def test_import_odm_writes_the_forms_of_an_exported_file_and_refuses_a_file_that_is_not_odm(
    trial: Trial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys, trial, "export", "odm", "--out", str(tmp_path / "study.xml"), "--draft", user="sponsor"
    )
    assert code == 0
    capsys.readouterr()
    assert (
        main(["import", "odm", str(tmp_path / "study.xml"), "--out", str(tmp_path / "forms"), "--json"]) == 0
    )
    assert len(json.loads(capsys.readouterr().out)["forms"]) == len(form_definitions())
    (tmp_path / "bad.xml").write_text("<ODM xmlns='http://www.cdisc.org/ns/odm/v1.3'/>")
    assert main(["import", "odm", str(tmp_path / "bad.xml"), "--out", str(tmp_path / "none")]) == 2
    assert "not valid ODM 1.3.2" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
