"""Scratch PostgreSQL databases for the tests: created for a fixture or a test, dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_ADMIN_URL = os.environ.get(
    "CELLTRIAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def scratch_postgres(
    prefix: str, *, template: str | None = None, admin_url: str = POSTGRES_ADMIN_URL
) -> Iterator[str]:
    """A new PostgreSQL database (empty, or a copy of ``template``) on the server of ``admin_url``,
    dropped with its connections. The server connection is checked before each use, so the drop
    works even after a test restarted the server."""
    from sqlalchemy import create_engine, text  # imported here: unit test runs need no database

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
