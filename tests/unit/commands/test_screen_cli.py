"""``celltrial screen FILE [--date] [--json] [--protocol]``: the issue's CLI contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from celltrial.cli import main
from celltrial.eligibility.examples import example_path

CRITERIA = ["I1", "I1a", "I1b", "I1b.i", "I1b.ii", "I2", "I3", "I4", "I5", "I6", "I7", "I8"]
CRITERIA += ["I8a", "I8b", "I8c", "I8d", "I9", *(f"E{n}" for n in range(1, 13))]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["screen", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_json_output_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(example_path("eligible")), "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["decision"] == "eligible"
    assert document["screening_date"] == "2025-07-01"
    assert [c["id"] for c in document["criteria"]] == CRITERIA
    hemoglobin = next(c for c in document["criteria"] if c["id"] == "I7")
    assert set(hemoglobin) >= {"id", "kind", "text", "verdict", "reason", "evidence"}
    assert hemoglobin["kind"] == "inclusion"
    assert hemoglobin["evidence"][0] == {
        "fact": "hemoglobin",
        "value": 86.0,
        "unit": "g/L",
        "date": "2025-06-28",
        "source": "form: facts.hemoglobin[0]",
        "used": True,
    }


def test_an_ineligible_patient_still_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(example_path("ineligible")), "--json")
    assert code == 0
    assert json.loads(out)["decision"] == "ineligible"


def test_the_date_option_overrides_the_forms_screening_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(example_path("eligible")), "--json", "--date", "2025-08-01")
    document = json.loads(out)
    assert (code, document["screening_date"], document["decision"]) == (0, "2025-08-01", "incomplete")
    assert "I7" in document["missing"]


def test_human_output_is_a_table_with_one_row_per_criterion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(example_path("ineligible")))
    assert code == 0
    assert "DEMO-002 on 2025-07-01 (NCT07008872): ineligible" in out
    for criterion in ("I1b.ii", "I8d", "E12"):
        assert f" {criterion} " in out
    assert "is below" in out


def test_a_fhir_bundle_is_detected(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "2000-01-01", "gender": "male"}}
        ],
    }
    code, out, _ = run(capsys, str(write(tmp_path, "b.json", bundle)), "--date", "2025-07-01", "--json")
    document = json.loads(out)
    assert (code, document["decision"]) == (0, "incomplete")
    assert next(c for c in document["criteria"] if c["id"] == "I6")["verdict"] == "met"


def test_problems_with_single_values_are_warnings_and_evaluation_goes_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    form = json.loads(example_path("eligible").read_text(encoding="utf-8"))
    form["facts"]["alt"] = {"value": -5, "unit": "U/L", "date": "2025-06-28"}
    code, out, err = run(capsys, str(write(tmp_path, "form.json", form)), "--json")
    assert code == 0
    assert err.strip() == "warning: form: facts.alt.value: a negative value (-5.0) is not a valid alt"
    assert json.loads(out)["decision"] == "incomplete"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "form.json: not JSON: Expecting property name", id="not JSON"),
        pytest.param([1, 2], "neither a FHIR Bundle", id="a JSON list"),
        pytest.param(
            {"resourceType": "Patient"}, "expected a FHIR Bundle, found 'Patient'", id="not a Bundle"
        ),
        pytest.param({"patient": {"sex": "f"}}, "form.json: patient.sex:", id="a bad form field"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: Any, message: str
) -> None:
    code, out, err = run(capsys, str(write(tmp_path, "form.json", content)))
    assert (code, out) == (2, "")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_and_a_bad_date_are_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, str(tmp_path / "none.json"))
    assert code == 2
    assert "no such file" in err
    code, _, err = run(capsys, str(example_path("eligible")), "--date", "01/07/2025")
    assert code == 2
    assert "--date: '01/07/2025' is not a date" in err


def test_an_unknown_protocol_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(example_path("eligible")), "--protocol", "NCT00000000")
    assert code == 2
    assert "NCT00000000" in err
