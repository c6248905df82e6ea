"""``celltrial analyze ci|km|nca``: the issue's CLI contract, output and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celltrial.cli import main

# R survival's ``aml`` data (Miller 1981), time in weeks read as months; see test_survival.py
# for the R output: pooled median 27 (95% CI 13–34, log-log), Maintained 31 (13–NA).
AML_CSV = """subject,weeks,status,arm
1,9,1,Maintained
2,13,1,Maintained
3,13,0,Maintained
4,18,1,Maintained
5,23,1,Maintained
6,28,0,Maintained
7,31,1,Maintained
8,34,1,Maintained
9,45,0,Maintained
10,48,1,Maintained
11,161,0,Maintained
12,5,1,Nonmaintained
13,5,1,Nonmaintained
14,8,1,Nonmaintained
15,8,1,Nonmaintained
16,12,1,Nonmaintained
17,16,0,Nonmaintained
18,23,1,Nonmaintained
19,27,1,Nonmaintained
20,30,1,Nonmaintained
21,33,1,Nonmaintained
22,43,1,Nonmaintained
23,45,1,Nonmaintained
"""

# The hand-computed series of test_nca.py (AUC0-28 72591.1 by linear-up/log-down), plus a
# subject whose values never reach the LLOQ.
NCA_CSV = """subject,day,copies
S01,0,BLQ
S01,4,100
S01,7,1000
S01,10,10000
S01,14,5000
S01,21,1250
S01,28,10
S01,56,50
S02,0,0
S02,7,5
"""


def _write(tmp_path: Path, text: str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ci_prints_the_clopper_pearson_interval_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "analyze", "ci", "--successes", "18", "--n", "20", "--json")
    result = json.loads(out)
    assert code == 0
    assert result["estimate"] == 0.9
    assert result["lower"] == pytest.approx(0.6830, abs=5e-5)
    assert result["upper"] == pytest.approx(0.9877, abs=5e-5)
    assert result["method"] == "clopper-pearson"


def test_ci_prints_a_sentence_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "analyze", "ci", "--successes", "0", "--n", "10", "--level", "0.95")
    assert code == 0
    assert "0/10 = 0.0% (95% CI 0.0%–30.8%, Clopper–Pearson)" in out


def test_ci_refuses_more_successes_than_subjects(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "analyze", "ci", "--successes", "21", "--n", "20", "--json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "successes" in err


def test_km_by_group_matches_r_survfit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, AML_CSV)
    code, out, _ = _run(
        capsys, "analyze", "km", str(path), "--time", "weeks", "--event", "status", "--group", "arm",
        "--time-unit", "months", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0
    assert result["time_unit"] == "months"
    maintained = result["groups"]["Maintained"]
    assert (maintained["n"], maintained["events"]) == (11, 7)
    assert maintained["median"] == {"median": 31.0, "lower": 13.0, "upper": None}
    assert [landmark["month"] for landmark in maintained["landmarks"]] == [6.0, 12.0, 24.0]
    assert maintained["curve"][0]["survival"] == 1.0
    assert result["groups"]["Nonmaintained"]["median"] == {"median": 23.0, "lower": 5.0, "upper": 33.0}


def test_km_without_group_pools_every_subject_and_converts_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = AML_CSV.splitlines()
    in_days = [lines[0]] + [
        ",".join([s, str(float(w) * 30.4375), e, a]) for s, w, e, a in (line.split(",") for line in lines[1:])
    ]
    path = _write(tmp_path, "\n".join(in_days) + "\n")
    code, out, _ = _run(capsys, "analyze", "km", str(path), "--time", "weeks", "--event", "status", "--json")
    pooled = json.loads(out)["groups"]["all"]
    assert code == 0
    assert pooled["median"]["median"] == pytest.approx(27)
    assert pooled["landmarks"][1]["survival"] == pytest.approx(0.739, abs=1e-3)


def test_km_prints_a_summary_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, AML_CSV)
    code, out, _ = _run(
        capsys, "analyze", "km", str(path), "--time", "weeks", "--event", "status", "--time-unit", "months"
    )
    assert code == 0
    assert "all: n=23, events=18, median 27.0 months (95% CI 13.0–34.0)" in out


def test_nca_reports_each_subject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, NCA_CSV)
    code, out, _ = _run(
        capsys, "analyze", "nca", str(path), "--subject", "subject", "--time", "day", "--value", "copies",
        "--lloq", "20", "--json",
    )  # fmt: skip
    subjects = {row["subject"]: row for row in json.loads(out)["subjects"]}
    assert code == 0
    first = subjects["S01"]
    assert (first["cmax"], first["tmax"], first["clast"], first["tlast"]) == (10000, 10, 50, 56)
    assert first["auc_0_28"] == pytest.approx(72591.1, abs=0.1)
    assert subjects["S02"]["cmax"] is None
    assert subjects["S02"]["auc_0_28"] == 0.0


KM_ARGS = ["km", "--time", "weeks", "--event", "status"]
NCA_ARGS = ["nca", "--subject", "id", "--time", "day", "--value", "copies"]


@pytest.mark.parametrize(
    ("csv_text", "argv", "where"),
    [
        pytest.param(
            "subject,weeks\n1,9\n", KM_ARGS, "column 'status'",
            id="km-missing-column",
        ),
        pytest.param(
            "weeks,status\n9,1\n-3,0\n", KM_ARGS, "row 3, column 'weeks'",
            id="km-negative-time",
        ),
        pytest.param(
            "weeks,status\n9,1\nten,0\n", KM_ARGS, "row 3, column 'weeks'",
            id="km-non-numeric-time",
        ),
        pytest.param(
            "weeks,status\n9,1\n10,dead\n", KM_ARGS,
            "row 3, column 'status'", id="km-event-not-a-flag",
        ),
        pytest.param(
            "id,day,copies\nS1,0,5\nS1,7,lots\n", NCA_ARGS,
            "row 3, column 'copies'", id="nca-non-numeric-value",
        ),
        pytest.param(
            "id,day,copies\nS1,-1,5\n", NCA_ARGS,
            "row 2, column 'day'", id="nca-negative-day",
        ),
        pytest.param(
            "id,day,copies\nS1,7,5\nS1,7,6\n", NCA_ARGS,
            "row 3, column 'day'", id="nca-two-samples-on-one-day",
        ),
        pytest.param(
            "id,day,copies\n", NCA_ARGS, "input.csv",
            id="nca-no-data-rows",
        ),
    ],
)  # fmt: skip
def test_bad_csv_gives_one_line_naming_row_and_column_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], csv_text: str, argv: list[str], where: str
) -> None:
    path = _write(tmp_path, csv_text)
    code, out, err = _run(capsys, "analyze", argv[0], str(path), *argv[1:], "--json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: input.csv")
    assert where in err


def test_a_missing_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "analyze", "km", str(tmp_path / "absent.csv"), "--time", "t", "--event", "e")
    assert code == 2
    assert "absent.csv" in err
    assert "cannot read the file" in err
