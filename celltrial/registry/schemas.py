"""What the registry's services return: pydantic models ready for JSON (API, CLI ``--json``, pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from celltrial.protocol import enums
from celltrial.registry.record import TrialRecord

SortOrder = Literal["relevance", "start_date", "last_update", "enrollment", "nct_id"]


class ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class SearchQuery(ReadModel):
    """A search of the registry: free text and filters (every filter optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = Field(default=None, max_length=500)
    status: list[str] = Field(default_factory=list)
    phase: list[str] = Field(default_factory=list)
    study_type: str | None = None
    condition: str | None = Field(default=None, max_length=200)
    intervention: str | None = Field(default=None, max_length=200)
    age: float | None = Field(default=None, ge=0, le=130, description="a patient's age in years")
    sex: Literal["FEMALE", "MALE"] | None = Field(default=None, description="a patient's sex")
    healthy_volunteers: bool | None = None
    country: str | None = Field(default=None, max_length=120)
    start_year_from: int | None = Field(default=None, ge=1900, le=2200)
    start_year_to: int | None = Field(default=None, ge=1900, le=2200)
    sort: SortOrder = "relevance"
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)

    @field_validator("status")
    @classmethod
    def _known_status(cls, values: list[str]) -> list[str]:
        allowed = get_args(enums.OverallStatus)
        for value in values:
            if value not in allowed:
                raise ValueError(f"unknown status '{value}' (one of {', '.join(allowed)})")
        return values

    @field_validator("phase")
    @classmethod
    def _known_phase(cls, values: list[str]) -> list[str]:
        allowed = get_args(enums.Phase)
        for value in values:
            if value not in allowed:
                raise ValueError(f"unknown phase '{value}' (one of {', '.join(allowed)})")
        return values

    @field_validator("study_type")
    @classmethod
    def _known_study_type(cls, value: str | None) -> str | None:
        allowed = get_args(enums.StudyType)
        if value is not None and value not in allowed:
            raise ValueError(f"unknown study type '{value}' (one of {', '.join(allowed)})")
        return value


class TrialSummary(ReadModel):
    """A trial in a list: enough to recognise it and decide to open its page."""

    nct_id: str
    title: str
    overall_status: str | None
    phases: list[str]
    study_type: str | None
    conditions: list[str]
    start_date: str | None
    enrollment_count: int | None
    lead_sponsor: str | None
    countries: list[str]


class SearchHit(TrialSummary):
    score: float | None = Field(description="text relevance (higher is better); None without search text")


class SearchPage(ReadModel):
    """One page of search results with the total and counts by status and phase."""

    query: SearchQuery
    total: int
    page: int
    page_size: int
    pages: int
    results: list[SearchHit]
    counts: dict[str, dict[str, int]]


class RelatedTrial(ReadModel):
    """A trial related to another by similarity, with why."""

    nct_id: str
    title: str
    overall_status: str | None
    phases: list[str]
    score: float = Field(description="0..1, see docs/registry.md")
    reason: str
    components: dict[str, float] = Field(description="each part of the score before weighting")


class RelatedTrials(ReadModel):
    nct_id: str
    related: list[RelatedTrial]


class TrialDetail(ReadModel):
    """A stored trial: the merged record, where each field came from, the facts read from its text."""

    nct_id: str
    record: TrialRecord
    provenance: dict[str, str]
    features: dict[str, Any]
    updated_at: dt.datetime
