"""Template filters: registry values shown in the registry's own words."""

from __future__ import annotations

import pytest

from celltrial.web.templating import templates


@pytest.mark.parametrize(
    ("phase", "shown"),
    [
        ("NA", "Not applicable"),
        ("EARLY_PHASE1", "Early phase 1"),
        ("PHASE1", "Phase 1"),
        ("PHASE4", "Phase 4"),
    ],
)
def test_a_phase_is_shown_as_the_registry_names_it(phase: str, shown: str) -> None:
    assert templates.env.filters["phase"](phase) == shown


def test_a_status_reads_as_words() -> None:
    assert templates.env.filters["words"]("NOT_YET_RECRUITING") == "Not yet recruiting"
