"""A writer killed with SIGKILL in the middle of a batch leaves an audit chain that verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.study.audit import service as audit

WRITER = textwrap.dedent(
    """
    import sys
    from celltrial.database import make_engine, session_factory, unit_of_work
    from celltrial.study.audit import service as audit

    sessions = session_factory(make_engine(sys.argv[1]))
    batch = 0
    while True:
        batch += 1
        with unit_of_work(sessions) as session:
            for field in range(20):
                audit.record(session, actor="crf-writer", action="create", entity="lab", entity_id=batch,
                             field=f"analyte_{field}", new=field * 1.5)
    """
)


def test_a_writer_killed_mid_batch_leaves_a_chain_that_verifies(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, database_url], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        written = 0
        while written < 200 and time.monotonic() < deadline:
            assert writer.poll() is None, writer.stderr.read().decode() if writer.stderr else "writer stopped"
            time.sleep(0.05)
            with unit_of_work(sessions) as session:
                written = audit.count(session)
        assert written >= 200, "the writer did not write in time"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
        if writer.stderr:
            writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL
    with unit_of_work(sessions) as session:
        report = audit.verify(session)
    assert report.ok, str(report)
    assert report.count % 20 == 0, "a batch was half written"
    assert report.count >= written
