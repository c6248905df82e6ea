"""``celltrial safety oc``: the stopping rule's exact operating characteristics from the protocol settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.image import imread

from celltrial.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["safety", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_oc_json_uses_the_protocol_rule_with_the_enrolment_cap_as_the_last_look(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "oc", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["rule"] == {
        "rate_threshold": 0.3,
        "posterior_cutoff": 0.8,
        "prior_alpha": 1.0,
        "prior_beta": 1.0,
        "max_subjects": 40,
        "first_look_after": 3,
    }
    assert [row["true_rate"] for row in data["characteristics"]] == [
        0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    ]  # fmt: skip


def test_oc_stops_more_often_and_sooner_as_the_true_rate_rises(capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(run(capsys, "oc", "--json")[1])["characteristics"]
    stops = [row["probability_of_stopping"] for row in rows]
    sizes = [row["expected_sample_size"] for row in rows]
    assert stops == sorted(stops)
    assert sizes == sorted(sizes, reverse=True)
    assert all(0 < size <= 40 for size in sizes)


def test_oc_for_a_true_rate_of_50_percent_stops_almost_surely(capsys: pytest.CaptureFixture[str]) -> None:
    # With 3 events in the first 3 subjects the posterior Beta(4, 1) gives P(p > 0.3) = 1 - 0.3^4 = 0.9919:
    # the rule can stop at the first look, and at p = 0.5 it nearly always stops.
    rows = json.loads(run(capsys, "oc", "--json")[1])["characteristics"]
    assert rows[-1]["probability_of_stopping"] > 0.95


def test_oc_plot_writes_a_two_panel_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "oc.png"
    code, out, _ = run(capsys, "oc", "--json", "--plot", str(target))
    assert code == 0
    assert json.loads(out)["plot"] == str(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(target).shape[:2]
    assert width > height


def test_oc_table_without_json_lists_every_rate(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "oc")
    assert code == 0
    assert "10%" in out
    assert "50%" in out


def test_oc_refuses_a_plot_file_it_cannot_write(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "oc", "--plot", str(tmp_path / "oc.gif"))
    assert code == 2
    assert "--plot" in err
    assert ".gif" in err


def test_oc_of_an_unknown_protocol_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "oc", "--protocol", "NCT00000000")
    assert code == 2
    assert "NCT00000000" in err
