"""The operating-characteristics figure: written in the format its suffix names, refused when empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from celltrial.analysis.stopping import SafetyStoppingRule, operating_characteristics
from celltrial.errors import InvalidInput
from celltrial.reporting.safety_figures import operating_characteristics_figure

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
