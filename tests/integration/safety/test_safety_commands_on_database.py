"""``celltrial safety stopping-rule|tables|sae-clocks`` read the study database as a stored user."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from safety_world import Safety, adverse_event, assessment, days_ago

from celltrial.cli import main
from celltrial.study.safety import service as safety_service
from celltrial.study.types import utcnow


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["safety", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_safety_commands_report_from_the_database(
    safety: Safety, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    subject_id = safety.infused_subject(infused_days_ago=40)
    by = safety["investigator"]
    grade_4 = assessment(days_ago(39), temperature_c=39.2, hypoxia="positive_pressure")
    safety.run(
        lambda s: safety_service.record_assessment(s, by=by, subject_id=subject_id, assessment=grade_4)
    )
    serious = adverse_event(
        days_ago(3),
        term="Pneumonia",
        soc="Infections and infestations",
        grade=3,
        serious=True,
        seriousness=["hospitalisation"],
        resolution_date=None,
        outcome="not_recovered",
        aesi=["infection"],
        site_awareness_at=utcnow() - timedelta(hours=26),
    )
    safety.run(lambda s: safety_service.record_adverse_event(s, by=by, subject_id=subject_id, event=serious))
    monkeypatch.setenv("CELLTRIAL_USER", "dsmb")

    code, out, err = run(capsys, "stopping-rule", "--json", "--db", database_url)
    assert code == 0, err
    status = json.loads(out)
    assert (status["infused"], status["evaluable"], status["events"]) == (1, 1, 1)
    assert status["decision"]["rule_applies"] is False

    code, out, err = run(capsys, "tables", "--json", "--db", database_url)
    assert code == 0, err
    tables = json.loads(out)
    assert tables["crs"]["by_max_grade"]["4"] == 1
    assert [row["soc"] for row in tables["adverse_events"]] == ["Infections and infestations"]

    code, out, err = run(capsys, "sae-clocks", "--json", "--overdue", "--db", database_url, "--as", "sponsor")
    assert code == 0, err
    saes = json.loads(out)["saes"]
    assert [(row["term"], row["overdue"]) for row in saes] == [("Pneumonia", True)]
    assert saes[0]["clocks"][0]["status"] == "overdue"

    code, _, err = run(capsys, "sae-clocks", "--json", "--db", database_url, "--as", "admin")
    assert code == 2
    assert "may not" in err

    monkeypatch.delenv("CELLTRIAL_USER")
    code, _, err = run(capsys, "tables", "--db", database_url)
    assert code == 2
    assert "--as" in err
