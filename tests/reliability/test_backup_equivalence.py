"""Backup and restore: a database restored from ``celltrial db backup`` equals the original.

The original is a simulated trial (SQLite or PostgreSQL); it is backed up and restored into a
new database of the same kind with the CLI, and then compared three ways: the fingerprint of
every row of every table (:mod:`celltrial.simulate.fingerprint`, nothing left out as run-time), the
audit trail entry by entry with its hashes (the restored chain verifies), and the hash of the
SDTM export's datasets (``celltrial export sdtm``; the files' own creation times left out).
One simulated patient in ``make test``; 30 in ``make test-stress``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pyreadstat
import pytest
from reliability_world import scratch_database
from sqlalchemy import select
from stress_report import record_stress

from celltrial.cli import main
from celltrial.database import make_engine
from celltrial.simulate import simulate_trial
from celltrial.simulate.fingerprint import fingerprint
from celltrial.study.audit.models import AuditEntry

NOTHING_LEFT_OUT = datetime.max.replace(tzinfo=UTC)
"""``written_from`` of the fingerprint: no time is replaced by the run-time marker."""


def sdtm_hash(url: str, folder: Path) -> str:
    """SHA-256 of the SDTM datasets exported from ``url`` (values and labels, not the file headers' times)."""
    assert (
        main(["export", "sdtm", "--out", str(folder), "--draft", "--user", "datamanager", "--db", url]) == 0
    )
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.xpt")):
        frame, meta = pyreadstat.read_xport(str(path))
        digest.update(path.name.encode())
        digest.update(frame.to_csv(index=False).encode())
        digest.update(repr(meta.column_names_to_labels).encode())
    return digest.hexdigest()


def state_of(url: str) -> tuple[str, list[tuple[int, str, str]]]:
    """The fingerprint of every row, and the audit chain as (id, previous hash, hash)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            chain = [
                (entry_id, previous, hashed)
                for entry_id, previous, hashed in connection.execute(
                    select(AuditEntry.id, AuditEntry.previous_hash, AuditEntry.hash).order_by(AuditEntry.id)
                )
            ]
        return fingerprint(engine, written_from=NOTHING_LEFT_OUT), chain
    finally:
        engine.dispose()


def test_a_restored_database_has_the_same_rows_audit_chain_and_export_hash_as_the_original(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], full_scale: bool
) -> None:
    patients = 30 if full_scale else 1
    simulated = simulate_trial(database_url, patients=patients, seed=3)
    backup = tmp_path / "trial.jsonl"
    with scratch_database(database_url, tmp_path) as restored:
        assert main(["db", "backup", str(backup), "--db", database_url]) == 0
        assert main(["db", "restore", str(backup), "--db", restored]) == 0
        assert main(["audit", "verify", "--db", restored]) == 0
        original_state, restored_state = state_of(database_url), state_of(restored)
        original_export = sdtm_hash(database_url, tmp_path / "original")
        restored_export = sdtm_hash(restored, tmp_path / "restored")
    capsys.readouterr()
    same = (original_state, original_export) == (restored_state, restored_export)
    dialect = database_url.split(":", 1)[0].split("+")[0]
    record_stress(
        "faults",
        f"backup and restore ({dialect})",
        1,
        int(not same),
        f"{patients} patients, {len(original_state[1])} audit entries, "
        f"{backup.stat().st_size // 1024} KiB backup; rows, audit chain and SDTM hash "
        f"{original_export[:12]} {'equal' if same else 'DIFFER'}",
    )
    assert simulated.audit_verified
    assert restored_state[1] == original_state[1], "the audit chain differs"
    assert restored_state[0] == original_state[0], "the rows differ"
    assert restored_export == original_export, "the SDTM export differs"
    assert len(original_state[1]) == simulated.audit_entries
