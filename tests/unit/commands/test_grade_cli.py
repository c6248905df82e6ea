"""``celltrial grade crs|icans|ctcae``: the CLI contract of the safety calculators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from celltrial.cli import main

CRS_INPUT = {
    "temperature_c": 38.6,
    "fever_masked": False,
    "hypotension": "one_vasopressor",
    "hypoxia": "low_flow",
    "death_due_to_crs": False,
}
ICANS_INPUT = {
    "age_years": 30,
    "ice_score": 8,
    "consciousness": "normal",
    "seizure": "none",
    "motor_weakness": False,
    "cerebral_edema": "none",
    "death_due_to_icans": False,
}


def write(tmp_path: Path, data: Any, name: str = "assessment.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_grade_crs_prints_the_grade_drivers_and_source_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "crs", write(tmp_path, CRS_INPUT), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["grade"] == 3
    assert result["drivers"] == ["hypotension requiring one vasopressor"]
    assert "Lee" in result["source"]


def test_grade_icans_prints_the_grade_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "icans", write(tmp_path, ICANS_INPUT), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["grade"], result["drivers"]) == (1, ["ICE score 8 (7-9)"])


def test_grade_icans_grades_a_child_of_12_by_capd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = {**{k: v for k, v in ICANS_INPUT.items() if k != "ice_score"}, "age_years": 7, "capd_score": 10}
    assert main(["grade", "icans", write(tmp_path, data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["grade"], result["drivers"]) == (3, ["CAPD score 10 (>= 9)"])
    assert "CAPD" in result["source"]


def test_grade_icans_refuses_ice_for_a_child_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "icans", write(tmp_path, {**ICANS_INPUT, "age_years": 7}), "--json"]) == 2
    assert "ice_score" in capsys.readouterr().err


def test_grade_icans_accepts_a_null_ice_score_for_an_unarousable_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {**ICANS_INPUT, "ice_score": None, "consciousness": "unarousable"}
    assert main(["grade", "icans", write(tmp_path, data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["grade"] == 4


def test_human_output_names_the_grade_and_its_drivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "crs", write(tmp_path, CRS_INPUT)]) == 0
    out = capsys.readouterr().out
    assert "CRS grade 3" in out
    assert "one vasopressor" in out


@pytest.mark.parametrize(
    ("command", "data", "message"),
    [
        pytest.param("icans", {**ICANS_INPUT, "ice_score": 11}, "ice_score", id="ICE score 11"),
        pytest.param(
            "icans", {k: v for k, v in ICANS_INPUT.items() if k != "seizure"}, "seizure", id="missing field"
        ),
        pytest.param("crs", {**CRS_INPUT, "hypoxia": "oxygen"}, "hypoxia", id="unknown value"),
        pytest.param("crs", {**CRS_INPUT, "shock": True}, "shock", id="unknown field"),
        pytest.param("crs", "{not json", "not JSON: Expecting property name", id="bad JSON"),
        pytest.param("crs", "[1, 2]", "JSON object", id="JSON that is not an object"),
    ],
)
def test_bad_input_gives_a_one_line_error_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, data: Any, message: str
) -> None:
    assert main(["grade", command, write(tmp_path, data), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_a_missing_file_gives_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "crs", str(tmp_path / "absent.json"), "--json"]) == 2
    assert "absent.json: no such file" in capsys.readouterr().err


def test_grade_ctcae_prints_the_grade_with_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "grade",
        "ctcae",
        "Neutrophil count decreased",
        "--value",
        "0.4",
        "--unit",
        "10^9/L",
        "--lln",
        "1.8",
    ]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["term"], result["grade"], result["ctcae_version"]) == (
        "Neutrophil count decreased",
        4,
        "5.0",
    )


def test_grade_ctcae_uses_the_baseline_for_liver_terms(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["grade", "ctcae", "alanine_aminotransferase_increased", "--value", "241", "--unit", "U/L"]
    assert main([*argv, "--uln", "40", "--baseline", "80", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["grade"] == 2


def test_grade_ctcae_human_output_quotes_the_ctcae_text(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["grade", "ctcae", "Platelet count decreased", "--value", "30", "--unit", "10^9/L", "--lln", "150"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "grade 3" in out
    assert "<50,000 - 25,000/mm3" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--unit", "furlongs", "--lln", "150"], "furlongs", id="unknown unit"),
        pytest.param(["--unit", "10^9/L"], "LLN", id="missing LLN"),
    ],
)
def test_grade_ctcae_bad_input_gives_exit_code_2(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["grade", "ctcae", "Platelet count decreased", "--value", "30", *extra, "--json"]) == 2
    assert message in capsys.readouterr().err
