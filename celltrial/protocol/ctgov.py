"""A registry record in the ClinicalTrials.gov API v2 shape, as pydantic models.

The models cover the ``protocolSection`` modules a CAR-T trial's record uses (identification,
status, sponsors, oversight, description, conditions, design, arms and interventions, outcomes,
eligibility, contacts and locations, references, IPD sharing). Field names are the API's own
(camelCase aliases), controlled values are checked against :mod:`celltrial.protocol.enums`, dates
are the API's partial (``2025``, ``2025-06``) or full ISO dates, and fields celltrial does not
model are kept as they came (``extra="allow"``), so import then export gives the same JSON.

Reference: ClinicalTrials.gov Data API v2, study data structure
(``GET /api/v2/studies/metadata``; a copy is in ``shared/data/ctgov/ctgov_v2_studies_metadata.json``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from celltrial.protocol import enums

_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_AGE = re.compile(r"^(\d+) (Years?|Months?|Weeks?|Days?|Hours?|Minutes?)$")


def _check_partial_date(value: str) -> str:
    if not _PARTIAL_DATE.match(value):
        raise ValueError(f"'{value}' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError as error:
        raise ValueError(f"'{value}' is not a calendar date ({error})") from None
    return value


def _check_full_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date of the form YYYY-MM-DD") from None
    if len(value) != 10:
        raise ValueError(f"'{value}' is not a date of the form YYYY-MM-DD")
    return value


def _check_age(value: str) -> str:
    if not _AGE.match(value):
        raise ValueError(f"'{value}' is not an age such as '14 Years' or '6 Months'")
    return value


PartialDate = Annotated[str, AfterValidator(_check_partial_date)]
NormalizedDate = Annotated[str, AfterValidator(_check_full_date)]
NormalizedTime = Annotated[str, AfterValidator(_check_age)]


class CtgovModel(BaseModel):
    """Base of every registry model: API field names, unknown fields kept."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


# identification -------------------------------------------------------------------------------
class OrgStudyIdInfo(CtgovModel):
    id: str
    type: enums.OrgStudyIdType | None = None
    link: str | None = None


class SecondaryIdInfo(CtgovModel):
    id: str
    type: enums.SecondaryIdType | None = None
    domain: str | None = None
    link: str | None = None


class Organization(CtgovModel):
    full_name: str | None = None
    class_: enums.AgencyClass | None = Field(default=None, alias="class")


class IdentificationModule(CtgovModel):
    nct_id: Annotated[str, Field(pattern=r"^NCT\d{8}$")]
    nct_id_aliases: list[str] | None = None
    org_study_id_info: OrgStudyIdInfo | None = None
    secondary_id_infos: list[SecondaryIdInfo] | None = None
    brief_title: str
    official_title: str | None = None
    acronym: str | None = None
    organization: Organization | None = None


# status ---------------------------------------------------------------------------------------
class PartialDateStruct(CtgovModel):
    date: PartialDate
    type: enums.DateType | None = None


class DateStruct(CtgovModel):
    date: NormalizedDate
    type: enums.DateType | None = None


class StatusModule(CtgovModel):
    status_verified_date: PartialDate | None = None
    overall_status: enums.OverallStatus
    last_known_status: enums.OverallStatus | None = None
    delayed_posting: bool | None = None
    why_stopped: str | None = None
    start_date_struct: PartialDateStruct | None = None
    primary_completion_date_struct: PartialDateStruct | None = None
    completion_date_struct: PartialDateStruct | None = None
    study_first_submit_date: NormalizedDate | None = None
    study_first_submit_qc_date: NormalizedDate | None = None
    study_first_post_date_struct: DateStruct | None = None
    results_first_submit_date: NormalizedDate | None = None
    results_first_submit_qc_date: NormalizedDate | None = None
    results_first_post_date_struct: DateStruct | None = None
    last_update_submit_date: NormalizedDate | None = None
    last_update_post_date_struct: DateStruct | None = None


# sponsors -------------------------------------------------------------------------------------
class ResponsibleParty(CtgovModel):
    type: enums.ResponsiblePartyType | None = None
    investigator_full_name: str | None = None
    investigator_title: str | None = None
    investigator_affiliation: str | None = None
    old_name_title: str | None = None
    old_organization: str | None = None


class Sponsor(CtgovModel):
    name: str
    class_: enums.AgencyClass | None = Field(default=None, alias="class")


class SponsorCollaboratorsModule(CtgovModel):
    responsible_party: ResponsibleParty | None = None
    lead_sponsor: Sponsor
    collaborators: list[Sponsor] | None = None


class OversightModule(CtgovModel):
    oversight_has_dmc: bool | None = None
    is_fda_regulated_drug: bool | None = None
    is_fda_regulated_device: bool | None = None
    is_unapproved_device: bool | None = None
    is_ppsd: bool | None = None
    is_us_export: bool | None = None
    fdaaa801_violation: bool | None = None


class DescriptionModule(CtgovModel):
    brief_summary: str | None = None
    detailed_description: str | None = None


class ConditionsModule(CtgovModel):
    conditions: list[str] | None = None
    keywords: list[str] | None = None


# design ---------------------------------------------------------------------------------------
class MaskingInfo(CtgovModel):
    masking: enums.DesignMasking | None = None
    masking_description: str | None = None
    who_masked: list[enums.WhoMasked] | None = None


class DesignInfo(CtgovModel):
    allocation: enums.DesignAllocation | None = None
    intervention_model: enums.InterventionalAssignment | None = None
    intervention_model_description: str | None = None
    primary_purpose: enums.PrimaryPurpose | None = None
    observational_model: enums.ObservationalModel | None = None
    time_perspective: enums.DesignTimePerspective | None = None
    masking_info: MaskingInfo | None = None


class EnrollmentInfo(CtgovModel):
    count: Annotated[int, Field(ge=0)] | None = None
    type: enums.EnrollmentType | None = None


class DesignModule(CtgovModel):
    study_type: enums.StudyType
    phases: list[enums.Phase] | None = None
    design_info: DesignInfo | None = None
    enrollment_info: EnrollmentInfo | None = None


class ArmGroup(CtgovModel):
    label: str
    type: enums.ArmGroupType | None = None
    description: str | None = None
    intervention_names: list[str] | None = None


class Intervention(CtgovModel):
    type: enums.InterventionType
    name: str
    description: str | None = None
    arm_group_labels: list[str] | None = None
    other_names: list[str] | None = None


class ArmsInterventionsModule(CtgovModel):
    arm_groups: list[ArmGroup] | None = None
    interventions: list[Intervention] | None = None


class Outcome(CtgovModel):
    measure: str
    description: str | None = None
    time_frame: str | None = None


class OutcomesModule(CtgovModel):
    primary_outcomes: list[Outcome] | None = None
    secondary_outcomes: list[Outcome] | None = None
    other_outcomes: list[Outcome] | None = None


class EligibilityModule(CtgovModel):
    eligibility_criteria: str | None = None
    healthy_volunteers: bool | None = None
    sex: enums.Sex | None = None
    gender_based: bool | None = None
    gender_description: str | None = None
    minimum_age: NormalizedTime | None = None
    maximum_age: NormalizedTime | None = None
    std_ages: list[enums.StandardAge] | None = None
    study_population: str | None = None
    sampling_method: enums.SamplingMethod | None = None


# contacts, references -------------------------------------------------------------------------
class Contact(CtgovModel):
    name: str | None = None
    role: enums.ContactRole | None = None
    phone: str | None = None
    email: str | None = None


class Official(CtgovModel):
    name: str | None = None
    affiliation: str | None = None
    role: enums.OfficialRole | None = None


class Location(CtgovModel):
    facility: str | None = None
    status: enums.RecruitmentStatus | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    contacts: list[Contact] | None = None


class ContactsLocationsModule(CtgovModel):
    central_contacts: list[Contact] | None = None
    overall_officials: list[Official] | None = None
    locations: list[Location] | None = None


class Reference(CtgovModel):
    pmid: str | None = None
    type: enums.ReferenceType | None = None
    citation: str | None = None


class SeeAlsoLink(CtgovModel):
    label: str | None = None
    url: str


class ReferencesModule(CtgovModel):
    references: list[Reference] | None = None
    see_also_links: list[SeeAlsoLink] | None = None


class IpdSharingStatementModule(CtgovModel):
    ipd_sharing: enums.IpdSharing | None = None
    description: str | None = None


class ProtocolSection(CtgovModel):
    identification_module: IdentificationModule
    status_module: StatusModule
    sponsor_collaborators_module: SponsorCollaboratorsModule | None = None
    oversight_module: OversightModule | None = None
    description_module: DescriptionModule | None = None
    conditions_module: ConditionsModule | None = None
    design_module: DesignModule | None = None
    arms_interventions_module: ArmsInterventionsModule | None = None
    outcomes_module: OutcomesModule | None = None
    eligibility_module: EligibilityModule | None = None
    contacts_locations_module: ContactsLocationsModule | None = None
    references_module: ReferencesModule | None = None
    ipd_sharing_statement_module: IpdSharingStatementModule | None = None


class Study(CtgovModel):
    """One study as the API v2 returns it (``GET /api/v2/studies/{nctId}``)."""

    protocol_section: ProtocolSection
    results_section: dict[str, Any] | None = None
    annotation_section: dict[str, Any] | None = None
    document_section: dict[str, Any] | None = None
    derived_section: dict[str, Any] | None = None
    has_results: bool | None = None

    @property
    def nct_id(self) -> str:
        return self.protocol_section.identification_module.nct_id

    @property
    def brief_title(self) -> str:
        return self.protocol_section.identification_module.brief_title

    @property
    def overall_status(self) -> str:
        return self.protocol_section.status_module.overall_status

    @property
    def enrollment_target(self) -> int | None:
        design = self.protocol_section.design_module
        info = design.enrollment_info if design else None
        return info.count if info else None

    def to_ctgov_json(self) -> dict[str, Any]:
        """The record in the API's own JSON shape, exactly the fields that were set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
