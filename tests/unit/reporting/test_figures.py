"""The figures render to PNG and SVG files that open and have a sensible size."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.text import Text
from PIL import Image

from celltrial.analysis.survival import kaplan_meier_by_group
from celltrial.errors import InvalidInput
from celltrial.reporting.figures import (
    ConsortCounts,
    FigureFiles,
    SwimmerEvent,
    SwimmerLane,
    consort_figure,
    draw_consort,
    draw_swimmer,
    expansion_figure,
    kaplan_meier_figure,
    render,
    swimmer_figure,
)

TIMES = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 60, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
EVENTS = [True, True, False, True, True, False, True, True, False, True, False]
EVENTS += [True, True, True, True, True, False, True, True, True, True, True, True]
GROUPS = ["lymphoma"] * 11 + ["leukemia"] * 12


def _assert_opens(files: FigureFiles, min_width: int = 500, min_height: int = 400) -> None:
    with Image.open(files.png) as image:
        image.verify()
    with Image.open(files.png) as image:
        width, height = image.size
        assert width >= min_width
        assert height >= min_height
        colors = image.convert("L").getcolors(maxcolors=1 << 16)
        assert colors is not None
        assert len(colors) > 10, "the picture is blank"
    root = ET.parse(files.svg).getroot()
    assert root.tag.endswith("svg")


def test_kaplan_meier_figure_writes_png_and_svg(tmp_path: Path) -> None:
    summaries = kaplan_meier_by_group(TIMES, EVENTS, GROUPS)
    files = kaplan_meier_figure(summaries, tmp_path / "km" / "os", title="Overall survival")
    assert (files.png.name, files.svg.name) == ("os.png", "os.svg")
    _assert_opens(files)


def test_expansion_figure_draws_subjects_on_a_log_scale(tmp_path: Path) -> None:
    series = {
        "S01": ([0, 4, 7, 10, 14, 21, 28, 56], [0, 100, 1000, 10000, 5000, 1250, 10, 50]),
        "S02": ([0, 7, 14, 28], [0, 3000, 800, 100]),
        "S03": ([0, 7, 14, 28], [0, 5, 40, 0]),
    }
    _assert_opens(expansion_figure(series, tmp_path / "expansion", lloq=20))


def test_swimmer_figure_draws_one_lane_per_subject(tmp_path: Path) -> None:
    relapsed = (SwimmerEvent(28, "PR"), SwimmerEvent(120, "relapse"), SwimmerEvent(180, "death"))
    lanes = [
        SwimmerLane("S01", 400, True, (SwimmerEvent(28, "CR"), SwimmerEvent(90, "allo-HSCT")), "leukemia"),
        SwimmerLane("S02", 180, False, relapsed, "lymphoma"),
        SwimmerLane("S03", 60, True, (SwimmerEvent(28, "CMR"),), "lymphoma"),
    ]
    _assert_opens(swimmer_figure(lanes, tmp_path / "swimmer"), min_height=200)


def test_consort_figure_draws_every_step(tmp_path: Path) -> None:
    counts = ConsortCounts(
        screened=52,
        screen_failures={"CD7 negative": 5, "organ function": 4, "active infection": 3},
        enrolled=40,
        apheresed=40,
        manufactured=38,
        infused=36,
        evaluable=35,
    )
    _assert_opens(consort_figure(counts, tmp_path / "consort"))


def _counts(**changes: int) -> ConsortCounts:
    fields = {"screened": 10, "enrolled": 8, "apheresed": 8, "manufactured": 8, "infused": 8, "evaluable": 8}
    fields.update(changes)
    return ConsortCounts(screen_failures={"CD7 negative": 2}, **fields)


def test_consort_counts_that_grow_along_the_flow_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        _counts(apheresed=9)
    assert raised.value.field == "apheresed"


def test_consort_screen_failures_must_add_up() -> None:
    with pytest.raises(InvalidInput) as raised:
        _counts(screened=11)
    assert raised.value.field == "screen_failures"


def test_a_figure_without_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        kaplan_meier_figure({}, tmp_path / "empty", title="nothing")


def test_consort_counts_patients_not_enrolled_for_other_reasons_than_screen_failure(tmp_path: Path) -> None:
    counts = ConsortCounts(
        screened=12,
        screen_failures={"I1": 2},
        enrolled=8,
        apheresed=8,
        manufactured=8,
        infused=8,
        evaluable=8,
        not_enrolled_other={"in screening": 1, "withdrew before enrolment": 1},
    )
    text = "\n".join(item.get_text() for item in draw_consort(counts).findobj(Text))
    assert "Not enrolled n = 4" in text
    assert "Screen failures n = 2" in text
    assert "withdrew before enrolment: 1" in text


def test_a_figure_renders_to_svg_bytes_without_a_date_and_to_png_bytes() -> None:
    figure = draw_swimmer([SwimmerLane("S01", 30, True, (SwimmerEvent(28, "CR"),))])
    svg = render(figure, "svg")
    assert svg.lstrip().startswith(b"<?xml")
    assert b"<dc:date>" not in svg
    assert render(figure, "png").startswith(b"\x89PNG")
    with pytest.raises(InvalidInput):
        render(figure, "gif")  # type: ignore[arg-type]
