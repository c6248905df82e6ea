"""The migration 'product' creates exactly the tables the models describe, and can be undone."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import celltrial.models  # noqa: F401  (every domain's tables)
from celltrial.database import Base, _alembic_config, make_engine, upgrade

PRODUCT_TABLES = {
    "chain_of_identity",
    "apheresis_collection",
    "manufacturing_lot",
    "product_bag",
    "release_test",
    "custody_event",
    "temperature_reading",
    "bedside_verification",
}


def _table_of(difference: Any) -> str | None:
    item = difference[0] if isinstance(difference, list) else difference
    for part in item[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if name in PRODUCT_TABLES:
            return str(name)
    if len(item) > 2 and isinstance(item[2], str):
        return item[2]
    return None


def test_the_migrated_product_tables_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d for d in compare_metadata(context, Base.metadata) if _table_of(d) in PRODUCT_TABLES
            ]
            present = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert present >= PRODUCT_TABLES
    assert differences == []


def test_the_product_branch_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.downgrade(_alembic_config(engine), "product@base")
        with engine.connect() as connection:
            assert not PRODUCT_TABLES & set(inspect(connection).get_table_names())
            assert "subject" in inspect(connection).get_table_names()
        upgrade(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= PRODUCT_TABLES
    finally:
        engine.dispose()
