"""Safety figures: the operating characteristics in the format its suffix names; the CRS/ICANS timeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.colors import to_hex

from celltrial.analysis.stopping import SafetyStoppingRule, operating_characteristics
from celltrial.errors import InvalidInput
from celltrial.reporting.safety_figures import (
    GRADE_COLOURS,
    SafetyDay,
    SafetyTimelineLane,
    crs_icans_timeline_figure,
    draw_crs_icans_timeline,
    operating_characteristics_figure,
)

RULE = SafetyStoppingRule()


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_the_figure_is_written_in_the_format_of_its_suffix(tmp_path: Path, suffix: str, magic: bytes) -> None:
    path = operating_characteristics_figure(
        operating_characteristics(RULE, (0.1, 0.3)), RULE, tmp_path / f"oc{suffix}"
    )
    assert path.read_bytes().startswith(magic)


def test_an_empty_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no operating characteristics"):
        operating_characteristics_figure((), RULE, tmp_path / "oc.png")


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"not '\.jpg'"):
        operating_characteristics_figure(operating_characteristics(RULE, (0.1,)), RULE, tmp_path / "oc.jpg")


def _lane(subject: str, *grades: tuple[int, int]) -> SafetyTimelineLane:
    days = tuple(
        SafetyDay(day, crs, icans, tocilizumab=crs >= 2, corticosteroids=icans >= 2)
        for day, (crs, icans) in enumerate(grades)
    )
    return SafetyTimelineLane(subject, days)


def test_the_crs_icans_timeline_colours_each_day_by_grade_and_marks_the_drugs(tmp_path: Path) -> None:
    lanes = [_lane("S01-001", (0, 0), (1, 0), (2, 0), (3, 2), (1, 1)), _lane("S01-002", (0, 0), (1, 0))]
    figure = draw_crs_icans_timeline(lanes)
    axes = figure.axes[0]
    rows = axes.collections
    assert len(rows) == 2 * 2
    assert sum(len(row.get_paths()) for row in rows) == 2 * (5 + 2)
    top_crs = rows[2]  # S01-001, drawn second: CRS 0, 1, 2, 3, 1
    assert [to_hex(colour) for colour in top_crs.get_facecolors()] == [
        GRADE_COLOURS[g] for g in (0, 1, 2, 3, 1)
    ]
    colours = {to_hex(colour) for row in rows for colour in row.get_facecolors()}
    assert GRADE_COLOURS[4] not in colours
    assert [label.get_text() for label in axes.get_yticklabels()] == ["S01-002", "S01-001"]
    markers = {line.get_marker(): list(line.get_xdata()) for line in axes.get_lines()}
    assert markers == {"v": [2, 3], "D": [3]}
    files = crs_icans_timeline_figure(lanes, tmp_path / "timeline")
    assert files.png.read_bytes().startswith(b"\x89PNG")
    assert files.svg.read_bytes().lstrip().startswith(b"<?xml")


def test_a_timeline_with_a_grade_out_of_range_or_no_subject_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        draw_crs_icans_timeline([_lane("S01-001", (6, 0))])
    assert raised.value.field == "crs_grade"
    with pytest.raises(InvalidInput):
        draw_crs_icans_timeline([])
