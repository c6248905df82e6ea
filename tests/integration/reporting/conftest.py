"""Fixtures of the export tests: one small trial per database, built once through the services.

``trial`` builds the four-patient trial of ``reporting_world`` on SQLite and on PostgreSQL, once
per backend for the whole package (each its own database, so other tests' resets never touch it),
on top of the EDC world of ``tests/integration/study``. Tests set the lock state they need with
``trial.locked()`` / ``trial.unlocked()`` and count audit entries from ``trial.audit_mark()``. The
tests run on one xdist worker (group ``reporting``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "study"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from edc_world import ICF_APPROVED, Edc
from reporting_world import Trial, build_trial
from scratch_databases import scratch_postgres
from study_world import build_world

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.study.consent import service as consents
from celltrial.study.trial import service as trials
from celltrial.study.users import passwords


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration/reporting" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.xdist_group("reporting"))


@pytest.fixture(scope="package")
def reporting_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of the export tests' own: a SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('reporting') / 'celltrial.db'}"
        return
    with scratch_postgres("celltrial_reporting") as url:
        yield url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "reporting_database" in metafunc.fixturenames or "trial" in metafunc.fixturenames:
        metafunc.parametrize(
            "reporting_database",
            ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
            indirect=True,
            scope="package",
        )


@pytest.fixture(scope="package")
def trial(reporting_database: str) -> Iterator[Trial]:
    """NCT07008872 RECRUITING with ICF 1.0 and the four patients of ``reporting_world``."""
    engine = make_engine(reporting_database)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        upgrade(engine)
        sessions = session_factory(engine)
        world = build_world(sessions)
        sponsor = world["sponsor"]
        with unit_of_work(sessions) as session:
            study = trials.register(session, nct_id="NCT07008872", by=sponsor)
            trials.change_status(
                session, study_id=study.id, status="RECRUITING", reason="site initiated", by=sponsor
            )
            consents.approve_icf_version(
                session, study_id=study.id, version="1.0", approved_on=ICF_APPROVED, by=sponsor
            )
            study_id = study.id
        built = build_trial(Edc(sessions=sessions, world=world, study_id=study_id), reporting_database)
    try:
        yield built
    finally:
        engine.dispose()
