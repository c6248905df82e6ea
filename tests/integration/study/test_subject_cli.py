"""The EDC command line end to end: study, consent, screening record, enrolment, lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from edc_world import ICF_APPROVED, days_ago, eligibility_result
from study_world import World

from celltrial.cli import main

SYNTHEA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "fhir" / "synthea_r4_pathling"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def recruiting(world: World, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """NCT07008872 registered and RECRUITING with ICF 1.0, through the CLI."""
    db = ["--db", database_url]
    assert run(capsys, "study", "register", "NCT07008872", "--user", "sponsor", *db)[0] == 0
    assert (
        run(capsys, "study", "status", "RECRUITING", "--reason", "first site open", "--user", "sponsor", *db)[
            0
        ]
        == 0
    )
    code, out, _ = run(
        capsys, "consent", "approve-icf", "1.0", "--approved-on", str(ICF_APPROVED), "--user", "sponsor", *db
    )
    assert (code, out.strip()) == (0, "ICF 1.0 is current; to re-consent: nobody")
    return database_url


def test_a_patient_goes_from_eligibility_result_to_enrolment_on_the_command_line(
    recruiting: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", recruiting]
    result = tmp_path / "result.json"
    result.write_text(json.dumps(eligibility_result(screening_date=days_ago(2))))
    new_patient = ["--site", "S01", "--dob", "1979-04-02", "--sex", "female", "--initials", "MRK"]
    code, out, err = run(
        capsys, "screening", "record", str(result), *new_patient, "--user", "investigator", *db
    )
    assert (code, err) == (0, "")
    assert out.strip() == (
        f"S01-S001 screening attempt 1 on {days_ago(2)}: eligible (screen-fail reasons: none); "
        "subject is screening"
    )
    signed = f"{days_ago(3)}T09:30:00+08:00"
    code, out, _ = run(
        capsys,
        "consent",
        "record",
        "S01-S001",
        "--icf",
        "1.0",
        "--signed-at",
        signed,
        "--user",
        "coordinator",
        *db,
    )
    assert code == 0
    code, out, _ = run(capsys, "subject", "enrol", "S01-S001", "--user", "investigator", *db)
    assert (code, out.strip()) == (0, "enrolled S01-S001 as S01-001")
    code, out, _ = run(capsys, "study", "show", "--json", "--user", "dsmb", *db)
    assert json.loads(out)["enrolled_count"] == 1
    code, out, _ = run(capsys, "subject", "list", "--json", "--user", "sponsor", *db)
    [listed] = json.loads(out)
    assert listed["subject_number"] == "S01-001"
    assert "initials" not in listed
    assert "date_of_birth" not in listed
    code, out, _ = run(capsys, "subject", "show", "S01-001", "--user", "coordinator", *db)
    assert code == 0
    assert "initials MRK, born 1979-04-02" in out
    assert "APH" in out


def test_the_eligibility_engines_own_output_is_recorded_as_a_screening(
    recruiting: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = sorted(SYNTHEA.glob("*.json"))[0]
    code, out, _ = run(capsys, "screen", str(bundle), "--json", "--date", "2022-01-01")
    assert code == 0
    result = tmp_path / "engine.json"
    result.write_text(out)
    new_patient = ["--site", "S01", "--dob", "1950-01-01", "--sex", "male", "--initials", "JS"]
    code, out, err = run(
        capsys,
        "screening",
        "record",
        str(result),
        *new_patient,
        "--json",
        "--user",
        "investigator",
        "--db",
        recruiting,
    )
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["decision"] == json.loads(result.read_text())["decision"]
    assert shown["rule_set_version"] == json.loads(result.read_text())["rules_version"]
    code, out, _ = run(capsys, "screening", "log", "--json", "--user", "monitor", "--db", recruiting)
    assert json.loads(out)["consort"]["assessed"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["subject", "list"], "error: --user: name the study user acting"),
        (
            ["subject", "show", "S09-999", "--user", "monitor"],
            "error: subject: no subject numbered 'S09-999'",
        ),
        (
            [
                "subject",
                "register",
                "--site",
                "S01",
                "--dob",
                "02/04/1979",
                "--sex",
                "f",
                "--initials",
                "AB",
                "--user",
                "coordinator",
            ],
            "error: --dob: expected a date YYYY-MM-DD, got '02/04/1979'",
        ),
        (
            [
                "subject",
                "register",
                "--site",
                "S01",
                "--dob",
                "1979-04-02",
                "--sex",
                "f",
                "--initials",
                "AB",
                "--user",
                "dsmb",
            ],
            "error: role: the role dsmb may not screening.create",
        ),
        (
            [
                "consent",
                "record",
                "S01-S001",
                "--icf",
                "1.0",
                "--signed-at",
                "2026-01-01T09:00",
                "--user",
                "coordinator",
            ],
            "error: subject: no subject numbered 'S01-S001'",
        ),
    ],
)
def test_bad_commands_end_with_one_line_naming_the_problem_and_exit_code_2(
    recruiting: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv, "--db", recruiting)
    assert code == 2
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1


def test_a_new_patient_needs_site_birth_date_sex_and_initials(
    recruiting: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(eligibility_result()))
    code, _, err = run(
        capsys,
        "screening",
        "record",
        str(result),
        "--site",
        "S01",
        "--user",
        "investigator",
        "--db",
        recruiting,
    )
    assert code == 2
    assert err.strip() == "error: --dob: a new patient needs --dob, --sex, --initials (or give --subject)"
