"""What the benchmarks share: a scratch database created for a run and dropped after it, and timing a step."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

__all__ = ["scratch_database", "timed"]


@contextmanager
def scratch_database(admin_url: str | None) -> Iterator[str]:
    """A new database: on the PostgreSQL server of ``admin_url`` (dropped afterwards), else a SQLite file."""
    if admin_url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"celltrial_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(label: str, action: Callable[[], None]) -> None:
    """Run ``action`` and print how long it took."""
    began = time.perf_counter()
    action()
    print(f"  ({label} {time.perf_counter() - began:.1f} s)")
