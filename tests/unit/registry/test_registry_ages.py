"""Registry age limits ("14 Years", "6 Months") as years, for the patient-age search filter."""

from __future__ import annotations

import pytest

from celltrial.registry.importer import age_in_years


@pytest.mark.parametrize(
    ("age", "years"),
    [
        pytest.param("14 Years", 14.0, id="years"),
        pytest.param("1 Year", 1.0, id="one-year"),
        pytest.param("6 Months", 0.5, id="months"),
        pytest.param("26 Weeks", 26 * 7 / 365.25, id="weeks"),
        pytest.param("30 Days", 30 / 365.25, id="days"),
        pytest.param(None, None, id="no-limit"),
    ],
)
def test_an_age_limit_reads_as_years(age: str | None, years: float | None) -> None:
    assert age_in_years(age) == (pytest.approx(years) if years is not None else None)
