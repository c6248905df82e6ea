"""celltrial prescreen and celltrial population: the command-line contract."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from celltrial.cli import main


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main(argv) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


@pytest.fixture(scope="module")
def funnel(small_omop: Path) -> dict[str, Any]:
    """The JSON of one prescreen run over the small synthetic source."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["prescreen", "--omop", str(small_omop), "--date", "2025-06-01", "--json"]) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_prescreen_json_follows_the_contract(funnel: dict[str, Any]) -> None:
    data = funnel
    assert set(data) >= {"total", "as_of", "steps", "failed_alone"}
    assert data["as_of"] == "2025-06-01"
    steps = data["steps"]
    assert isinstance(steps, list)
    assert [s["criterion"] for s in steps] == [f"I{i}" for i in range(1, 10)] + [
        f"E{i}" for i in range(1, 13)
    ]
    assert all(set(s) >= {"criterion", "remaining", "failed", "unknown"} for s in steps)


def test_each_step_removes_exactly_the_patients_it_fails(funnel: dict[str, Any]) -> None:
    data = funnel
    before = data["total"]
    for step in data["steps"]:  # type: ignore[attr-defined]
        assert step["remaining"] == before - step["failed"]
        assert step["failed"] <= data["failed_alone"][step["criterion"]]  # type: ignore[index]
        before = step["remaining"]


def test_investigator_criteria_are_unknown_for_everyone(funnel: dict[str, Any]) -> None:
    data = funnel
    counts = {c["criterion"]: c for c in data["criteria"]}  # type: ignore[attr-defined]
    for judged in ("I4", "E12"):
        assert counts[judged]["unknown"] == data["total"]


def test_files_are_written_on_request(
    small_omop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, png, verdicts = tmp_path / "f.csv", tmp_path / "f.png", tmp_path / "v.parquet"
    argv = [
        "prescreen",
        "--omop",
        str(small_omop),
        "--date",
        "2025-06-01",
        "--json",
        "--csv",
        str(csv),
        "--figure",
        str(png),
        "--verdicts",
        str(verdicts),
    ]
    data = _json(capsys, argv)
    assert csv.read_text().splitlines()[0].startswith("criterion,kind,remaining")
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = pq.read_table(verdicts)
    assert table.num_rows == data["total"]
    assert set(table.column("I1b_ii").to_pylist()) <= {"met", "not_met", "unknown"}


def test_human_output_is_a_table(small_omop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prescreen", "--omop", str(small_omop), "--date", "2025-06-01"]) == 0
    out = capsys.readouterr().out
    assert "Prescreening funnel on 2025-06-01" in out
    assert "E12" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prescreen", "--date", "2025-06-01"], "exactly one of --omop or --fhir"),
        (["prescreen", "--omop", "x", "--date", "1 June"], "--date"),
        (["prescreen", "--omop", "x", "--engine", "oracle"], "--engine"),
        (["prescreen", "--omop", "/no/such/dir"], "no such file"),
        (["prescreen", "--omop", "x", "--figure", "f.svg"], "PNG"),
    ],
)
def test_bad_options_give_one_line_and_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_synth_reports_its_row_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(
        capsys,
        ["population", "synth", "--patients", "20", "--seed", "9", "--out", str(tmp_path / "o"), "--json"],
    )
    rows = data["rows"]
    assert isinstance(rows, dict)
    assert rows["person"] == 20
    assert rows["measurement"] > 200


def test_load_omop_into_an_unreachable_server_is_a_clear_error(
    small_omop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["population", "load-omop", str(small_omop), "--into", "postgresql://postgres@127.0.0.1:1/x?schema=c"]
    )
    assert code == 3
    assert "cannot connect to PostgreSQL" in capsys.readouterr().err
