"""Fixtures for population prescreening: a small synthetic OMOP source written once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from celltrial.population.synth import synthesise

SYNTH_AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="session")
def small_omop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthetic patients (seed 5), data cut 2025-06-01."""
    out = tmp_path_factory.mktemp("omop") / "synth"
    synthesise(patients=300, seed=5, out=out, as_of=SYNTH_AS_OF)
    return out
