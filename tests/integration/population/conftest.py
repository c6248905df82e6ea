"""Fixtures for population prescreening end to end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from celltrial.population.synth import synthesise

SYNTHEA_ZIP = "omop/Synthea27NjParquet_5.4.zip"
SYNTH_AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="session")
def synthea_omop(shared_data: Path) -> Path:
    """The OHDSI Eunomia Synthea sample (28 persons) as shipped: a zip of Parquet files."""
    path = shared_data / SYNTHEA_ZIP
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def synthetic_omop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthetic patients (seed 11), data cut 2025-06-01."""
    out = tmp_path_factory.mktemp("omop") / "synth"
    synthesise(patients=600, seed=11, out=out, as_of=SYNTH_AS_OF)
    return out
