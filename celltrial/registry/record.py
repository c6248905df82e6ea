"""A trial of the registry landscape, the same shape whatever source it came from.

Each source (a CT.gov API v2 record, a row of the corpus CSV with its sites, a record of the
corpus's richer sample) is read into a :class:`TrialRecord`; records of the same NCT id are
then merged field by field (:mod:`celltrial.registry.merge`). A field a source does not give
is ``None`` (or an empty list), never an empty string, so "the record does not say" stays
distinguishable from "the record says nothing".

Third-party classification labels (the corpus's Branch, DiseaseCategory, TargetCategory, ...)
travel in :attr:`TrialRecord.third_party_labels` and are shown as such; celltrial's search and
similarity never read them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SourceKind = Literal["ctgov_json", "corpus_sample", "corpus_csv"]
"""Where a record came from, richest first: a full API v2 record, the corpus's 200 richer
records (with eligibility text), a flat corpus row."""

SOURCE_RICHNESS: dict[str, int] = {"ctgov_json": 3, "corpus_sample": 2, "corpus_csv": 1}


class RegistryModel(BaseModel):
    """Base of the registry's value objects: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ArmGroupInfo(RegistryModel):
    label: str
    type: str | None = None
    description: str | None = None
    intervention_names: list[str] = Field(default_factory=list)


class InterventionInfo(RegistryModel):
    name: str
    type: str | None = None
    description: str | None = None
    other_names: list[str] = Field(default_factory=list)


class SponsorInfo(RegistryModel):
    name: str
    agency_class: str | None = None
    role: Literal["lead", "collaborator"]


class ResponsiblePartyInfo(RegistryModel):
    type: str | None = None
    name: str | None = None
    title: str | None = None
    affiliation: str | None = None


class IdentifierInfo(RegistryModel):
    id: str
    type: str | None = None
    source: Literal["org_study_id", "secondary_id"]
    domain: str | None = None


class SiteInfo(RegistryModel):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class OutcomeInfo(RegistryModel):
    measure: str
    time_frame: str | None = None
    description: str | None = None


class ThirdPartyLabels(RegistryModel):
    """Classification labels a third party assigned; shown, never used for search or similarity."""

    source: str
    origin: str | None = None
    labels: dict[str, str]


class TrialRecord(RegistryModel):
    """One trial as one source describes it (or, after merging, as the registry shows it)."""

    nct_id: str = Field(pattern=r"^NCT\d{8}$")
    brief_title: str
    official_title: str | None = None
    acronym: str | None = None
    overall_status: str | None = None
    why_stopped: str | None = None
    phases: list[str] = Field(default_factory=list)
    study_type: str | None = None
    enrollment_count: int | None = None
    enrollment_type: str | None = None
    start_date: str | None = None
    primary_completion_date: str | None = None
    completion_date: str | None = None
    first_posted_date: str | None = None
    last_update_date: str | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    conditions: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    allocation: str | None = None
    intervention_model: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    arm_groups: list[ArmGroupInfo] = Field(default_factory=list)
    interventions: list[InterventionInfo] = Field(default_factory=list)
    primary_outcomes: list[OutcomeInfo] = Field(default_factory=list)
    secondary_outcomes: list[OutcomeInfo] = Field(default_factory=list)
    eligibility_criteria: str | None = None
    minimum_age: str | None = None
    maximum_age: str | None = None
    sex: str | None = None
    healthy_volunteers: bool | None = None
    std_ages: list[str] = Field(default_factory=list)
    sponsors: list[SponsorInfo] = Field(default_factory=list)
    responsible_party: ResponsiblePartyInfo | None = None
    identifiers: list[IdentifierInfo] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    sites: list[SiteInfo] = Field(default_factory=list)
    has_results: bool | None = None
    third_party_labels: list[ThirdPartyLabels] = Field(default_factory=list)

    @property
    def lead_sponsor(self) -> str | None:
        return next((s.name for s in self.sponsors if s.role == "lead"), None)

    @property
    def intervention_names(self) -> list[str]:
        return [i.name for i in self.interventions]


MERGED_FIELDS: tuple[str, ...] = tuple(
    name for name in TrialRecord.model_fields if name not in ("nct_id", "third_party_labels")
)
"""The fields merging chooses one source for (labels are kept from every source)."""


class SourcedRecord(RegistryModel):
    """A record with where it came from: the kind of source, the file, the snapshot date."""

    kind: SourceKind
    origin: str
    snapshot_date: str | None = None
    record: TrialRecord
