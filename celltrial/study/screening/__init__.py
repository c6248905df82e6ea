"""Screening attempts: frozen eligibility snapshots, investigator judgments, the screening log."""
