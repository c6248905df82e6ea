"""Alembic environment: migrates the engine celltrial hands over (see celltrial.database.upgrade)."""

from __future__ import annotations

from alembic import context

import celltrial.models  # noqa: F401  (imports every domain's ORM classes)
from celltrial.database import Base

config = context.config
engine = config.attributes.get("connection_engine")
if engine is None:
    from celltrial.database import make_engine

    engine = make_engine()

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
