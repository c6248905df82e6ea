"""The funnel counts, on verdict tables small enough to count by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import pytest

from celltrial.population.funnel import Funnel, tally, verdict_combinations
from celltrial.population.source import arrow_columns

TOP = [("I1", "inclusion", "I1"), ("E1", "exclusion", "E1")]


def _funnel(rows: dict[str, list[bool | None]]) -> Funnel:
    table = ibis.memtable(rows, schema={"I1": "boolean", "E1": "boolean"})
    combinations = ibis.duckdb.connect().to_pyarrow(verdict_combinations(table, TOP))
    return tally(arrow_columns(combinations), TOP, TOP, date(2025, 6, 1), deceased=2)


# Patients:      a     b      c     d     e
# I1 (incl.):   met  unknown not   met   met
# E1 (excl.):   not   not    met   met  unknown
ROWS: dict[str, list[bool | None]] = {
    "I1": [True, None, False, True, True],
    "E1": [False, False, True, True, None],
}


def test_a_patient_leaves_the_funnel_at_the_first_criterion_that_excludes_them() -> None:
    funnel = _funnel(ROWS)
    first, second = funnel.steps
    assert (first.criterion, first.remaining, first.failed, first.unknown) == ("I1", 4, 1, 1)
    assert (second.criterion, second.remaining, second.failed, second.unknown) == ("E1", 3, 1, 1)


def test_confirmed_counts_only_patients_the_data_show_to_pass_every_step_so_far() -> None:
    funnel = _funnel(ROWS)
    assert [step.confirmed for step in funnel.steps] == [3, 1]


def test_failed_alone_counts_each_criterion_whatever_the_others_say() -> None:
    funnel = _funnel(ROWS)
    assert funnel.failed_alone == {"I1": 1, "E1": 2}
    assert funnel.failed_only == {"I1": 0, "E1": 1}


def test_per_criterion_counts_split_met_not_met_and_unknown() -> None:
    funnel = _funnel(ROWS)
    counts = {c.criterion: (c.met, c.not_met, c.unknown) for c in funnel.criteria}
    assert counts == {"I1": (3, 1, 1), "E1": (2, 2, 1)}


def test_json_follows_the_cli_contract() -> None:
    data = _funnel(ROWS).to_json()
    assert data["total"] == 5
    assert data["as_of"] == "2025-06-01"
    assert data["steps"][0] == {
        "criterion": "I1",
        "kind": "inclusion",
        "remaining": 4,
        "failed": 1,
        "unknown": 1,
        "confirmed": 3,
    }
    assert data["failed_alone"] == {"I1": 1, "E1": 2}
    assert data["deceased_before_as_of"] == 2


def test_csv_has_one_row_per_step() -> None:
    lines = _funnel(ROWS).to_csv().splitlines()
    assert lines[0].split(",") == [
        "criterion",
        "kind",
        "remaining",
        "failed",
        "unknown",
        "confirmed",
        "failed_alone",
        "failed_only",
    ]
    assert lines[1:] == ["I1,inclusion,4,1,1,3,1,0", "E1,exclusion,3,1,1,1,2,1"]


def test_the_figure_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "funnel.png"
    _funnel(ROWS).figure(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("value", [True, False, None])
def test_a_single_patient_is_counted_once_whatever_the_verdict(value: bool | None) -> None:
    funnel = _funnel({"I1": [value], "E1": [False]})
    assert funnel.total == 1
    assert funnel.steps[-1].remaining == (0 if value is False else 1)
