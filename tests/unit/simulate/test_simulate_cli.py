"""``celltrial simulate design`` and the simulate command's bad input, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celltrial.cli import main


def test_design_prints_a_json_table_over_the_scenarios_grid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "design", "--reps", "300", "--seed", "1", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["reps"] == 300
    assert document["reference_cr_rate"] == 0.5
    assert document["rule"]["rate_threshold"] == 0.3
    assert len(document["points"]) == 36
    assert {"probability_of_stopping", "expected_enrolled", "probability_of_success"} <= set(
        document["points"][0]
    )


def test_design_writes_the_figure_as_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    figure = tmp_path / "design.png"
    assert main(["simulate", "design", "--reps", "100", "--plot", str(figure)]) == 0
    assert figure.read_bytes().startswith(b"\x89PNG")
    out = capsys.readouterr().out
    assert "P(stop)" in out
    assert "E[enrolled]" in out  # not eaten as rich markup
    assert "E[infused]" in out
    assert f"figure written to {figure}" in out


def test_a_figure_that_is_not_png_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "design", "--reps", "10", "--plot", str(tmp_path / "x.svg")]) == 2
    assert "--plot" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--until", "2025-13-01"], "--until: '2025-13-01' is not a date"),
        (["--until", "2099-01-01"], "until: the data cut 2099-01-01 must be before today"),
        (["--until", "2025-01-01"], "before the study start 2025-06-01"),
        (["--patients", "0", "--until", "2025-07-01"], "patients: the number of patients must be 1 to"),
    ],
)
def test_bad_simulation_options_are_refused_in_one_line(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'trial.db'}"
    assert main(["simulate", "--db", database, *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
