"""The registry's tables: trials (merged), their sources, sites, embeddings, imports.

- ``registry_trial``: one row per NCT id, the merged record as JSON with the columns that search
  filters and sorts on; its full-text index is dialect-specific and kept by the migration
  (SQLite: the FTS5 table ``registry_trial_fts`` filled by triggers; PostgreSQL: the generated
  ``search_vector`` tsvector column with a GIN index).
- ``registry_trial_source``: what each source said about a trial (provenance; re-merging reads it).
- ``registry_site``: the merged record's sites, one row each (sites by country, country filter).
- ``registry_embedding``: the trial's sentence embedding (float32 bytes) and the hash of the
  text it was computed from, so re-importing unchanged text computes nothing.
- ``registry_import``: one row per import, the counts it reported.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base


class RegistryTrial(Base):
    """A trial of the landscape, merged from every source that describes it."""

    __tablename__ = "registry_trial"

    nct_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    brief_title: Mapped[str] = mapped_column(Text)
    official_title: Mapped[str | None] = mapped_column(Text)
    overall_status: Mapped[str | None] = mapped_column(String(32), index=True)
    phases: Mapped[str] = mapped_column(String(120), default="")
    study_type: Mapped[str | None] = mapped_column(String(32))
    conditions_text: Mapped[str] = mapped_column(Text, default="")
    interventions_text: Mapped[str] = mapped_column(Text, default="")
    brief_summary: Mapped[str | None] = mapped_column(Text)
    eligibility_text: Mapped[str | None] = mapped_column(Text)
    sex: Mapped[str | None] = mapped_column(String(8))
    healthy_volunteers: Mapped[bool | None] = mapped_column(Boolean)
    min_age_years: Mapped[float | None] = mapped_column(Float)
    max_age_years: Mapped[float | None] = mapped_column(Float)
    countries: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[str | None] = mapped_column(String(10))
    start_year: Mapped[int | None] = mapped_column(Integer, index=True)
    last_update_date: Mapped[str | None] = mapped_column(String(10))
    enrollment_count: Mapped[int | None] = mapped_column(Integer)
    lead_sponsor: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RegistryTrialSource(Base):
    """What one source said about one trial."""

    __tablename__ = "registry_trial_source"
    __table_args__ = (UniqueConstraint("nct_id", "kind", "origin", name="uq_registry_trial_source_origin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("registry_trial.nct_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(255))
    snapshot_date: Mapped[str | None] = mapped_column(String(10))
    content_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RegistrySite(Base):
    """One site of a trial (from the merged record)."""

    __tablename__ = "registry_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("registry_trial.nct_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    facility: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    zip: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class RegistryEmbedding(Base):
    """A trial's sentence embedding and the hash of the text it was computed from."""

    __tablename__ = "registry_embedding"

    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("registry_trial.nct_id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(64))
    text_sha256: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class RegistryImport(Base):
    """One run of ``celltrial registry import``: what it read and what it changed."""

    __tablename__ = "registry_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    path: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
