"""A child's daily ICANS assessment is graded with CAPD (ASTCT grading for children <= 12, the age
limit from the protocol settings), stored with its CAPD score; the column comes from its migration."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from safety_world import Safety, assessment, days_ago
from sqlalchemy import inspect, update

import celltrial.models  # noqa: F401  (every domain's tables)
from celltrial.database import Base, _alembic_config, make_engine, upgrade
from celltrial.errors import InvalidInput
from celltrial.study.safety import service as safety_service
from celltrial.study.subjects.models import Subject


def _child(safety: Safety) -> int:
    subject_id = safety.infused_subject(infused_days_ago=10)
    born = date(days_ago(5).year - 10, 1, 1)
    safety.run(
        lambda s: s.execute(update(Subject).where(Subject.id == subject_id).values(date_of_birth=born))
    )
    return subject_id


def test_a_childs_icans_is_graded_with_capd_and_stored_and_bad_inputs_are_refused(safety: Safety) -> None:
    subject_id = _child(safety)
    day = assessment(days_ago(5), ice_score=None, capd_score=12, consciousness="awakens_to_voice")
    row = safety.run(
        lambda s: safety_service.record_assessment(
            s, by=safety["coordinator"], subject_id=subject_id, assessment=day
        )
    )
    assert (row.capd_score, row.icans_grade, row.icans_drivers) == (12, 3, ["CAPD score 12 (>= 9)"])
    # a child needs a CAPD score (and no ICE), an adult no CAPD score
    child = subject_id
    adult = safety.infused_subject(infused_days_ago=10)
    before = safety.footprint()
    for who, day, field in (
        (child, assessment(days_ago(4), ice_score=None), "capd_score"),
        (child, assessment(days_ago(4), ice_score=9, capd_score=3), "ice_score"),
        (adult, assessment(days_ago(4), capd_score=3), "capd_score"),
    ):
        with pytest.raises(InvalidInput) as refused:
            safety.run(
                lambda s, i=who, d=day: safety_service.record_assessment(
                    s, by=safety["coordinator"], subject_id=i, assessment=d
                )
            )
        assert refused.value.field == field
    assert safety.footprint() == before


def test_the_capd_column_matches_the_model_and_its_migration_can_be_undone(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d for d in compare_metadata(context, Base.metadata) if "crs_icans_assessment" in str(d)
            ]
        assert differences == []
        command.downgrade(_alembic_config(engine), "safety_0001")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("crs_icans_assessment")}
        assert "capd_score" not in columns
        assert "ice_score" in columns
        upgrade(engine)
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("crs_icans_assessment")}
        assert "capd_score" in columns
    finally:
        engine.dispose()
