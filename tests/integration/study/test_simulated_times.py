"""A simulated trial stores simulated times (audit, status changes, consents), never the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from celltrial.database import make_engine, session_factory
from celltrial.simulate.trial import ENTRY_DELAY, simulate_trial
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntry
from celltrial.study.consent.models import Consent
from celltrial.study.subjects.models import Subject

START = datetime(2025, 6, 1, tzinfo=UTC)
CUT = date(2025, 7, 20)


def test_a_simulated_trial_records_times_within_its_calendar_and_its_chain_verifies(
    database_url: str,
) -> None:
    summary = simulate_trial(database_url, patients=4, seed=21, until=CUT)
    last = datetime(CUT.year, CUT.month, CUT.day, tzinfo=UTC) + timedelta(days=1) + ENTRY_DELAY
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            earliest, latest = session.execute(select(func.min(AuditEntry.at), func.max(AuditEntry.at))).one()
            stored = [
                *session.execute(select(func.min(Consent.recorded_at), func.max(Consent.recorded_at))).one(),
                *session.execute(
                    select(func.min(Subject.status_changed_at), func.max(Subject.status_changed_at))
                ).one(),
            ]
            report = audit.verify(session)
    finally:
        engine.dispose()
    assert summary.audit_verified
    assert report.ok, str(report)
    assert report.count == summary.audit_entries > 100
    assert START <= earliest <= latest < last
    assert all(START <= moment < last for moment in stored)
