"""``celltrial simulate`` end to end: a small trial into a SQLite file, its CONSORT flow as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celltrial.cli import main


def test_the_command_simulates_into_the_database_and_prints_the_consort_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'trial.db'}"
    arguments = ["simulate", "--patients", "3", "--seed", "5", "--db", url, "--until", "2025-08-15", "--json"]
    assert main(arguments) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["cut"] == "2025-08-15"
    assert summary["consort"]["referred"] == 3
    assert summary["audit_verified"] is True
    assert summary["activity"]["consented"] >= 1
    assert main(arguments) == 2
    assert "already holds the study NCT07008872" in capsys.readouterr().err


def test_the_command_prints_the_consort_flow_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'trial.db'}"
    assert main(["simulate", "--patients", "2", "--seed", "1", "--db", url, "--until", "2025-07-20"]) == 0
    out = capsys.readouterr().out
    assert "to the data cut 2025-07-20" in out
    assert "Assessed for eligibility" in out
    assert "chain verified" in out
