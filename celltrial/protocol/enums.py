"""Controlled values of the ClinicalTrials.gov API v2 data model.

The API's metadata (``GET /api/v2/studies/metadata``) marks these fields ``isEnum`` without
listing their values; the values below are the API v2 enumerations as the registry publishes
them (ClinicalTrials.gov Data API, "Enum types"). A value outside these lists is refused on
import, naming its JSON path.
"""

from __future__ import annotations

from typing import Literal

OverallStatus = Literal[
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
]
DateType = Literal["ACTUAL", "ESTIMATED"]
AgencyClass = Literal["NIH", "FED", "OTHER_GOV", "INDIV", "INDUSTRY", "NETWORK", "AMBIG", "OTHER", "UNKNOWN"]
ResponsiblePartyType = Literal["SPONSOR", "PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR"]
OrgStudyIdType = Literal["NIH", "FDA", "VA", "CDC", "AHRQ", "SAMHSA"]
SecondaryIdType = Literal[
    "NIH", "FDA", "VA", "CDC", "AHRQ", "SAMHSA", "OTHER_GRANT", "EUDRACT_NUMBER", "CTIS", "REGISTRY", "OTHER"
]
StudyType = Literal["EXPANDED_ACCESS", "INTERVENTIONAL", "OBSERVATIONAL"]
Phase = Literal["NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"]
DesignAllocation = Literal["RANDOMIZED", "NON_RANDOMIZED", "NA"]
InterventionalAssignment = Literal["SINGLE_GROUP", "PARALLEL", "CROSSOVER", "FACTORIAL", "SEQUENTIAL"]
PrimaryPurpose = Literal[
    "TREATMENT",
    "PREVENTION",
    "DIAGNOSTIC",
    "ECT",
    "SUPPORTIVE_CARE",
    "SCREENING",
    "HEALTH_SERVICES_RESEARCH",
    "BASIC_SCIENCE",
    "DEVICE_FEASIBILITY",
    "OTHER",
]
ObservationalModel = Literal[
    "COHORT",
    "CASE_CONTROL",
    "CASE_ONLY",
    "CASE_CROSSOVER",
    "ECOLOGIC_OR_COMMUNITY",
    "FAMILY_BASED",
    "DEFINED_POPULATION",
    "NATURAL_HISTORY",
    "OTHER",
]
DesignTimePerspective = Literal["RETROSPECTIVE", "PROSPECTIVE", "CROSS_SECTIONAL", "OTHER"]
DesignMasking = Literal["NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"]
WhoMasked = Literal["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"]
EnrollmentType = Literal["ACTUAL", "ESTIMATED"]
ArmGroupType = Literal[
    "EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION", "OTHER"
]
InterventionType = Literal[
    "BEHAVIORAL",
    "BIOLOGICAL",
    "COMBINATION_PRODUCT",
    "DEVICE",
    "DIAGNOSTIC_TEST",
    "DIETARY_SUPPLEMENT",
    "DRUG",
    "GENETIC",
    "PROCEDURE",
    "RADIATION",
    "OTHER",
]
Sex = Literal["FEMALE", "MALE", "ALL"]
StandardAge = Literal["CHILD", "ADULT", "OLDER_ADULT"]
SamplingMethod = Literal["PROBABILITY_SAMPLE", "NON_PROBABILITY_SAMPLE"]
ContactRole = Literal[
    "STUDY_CHAIR", "STUDY_DIRECTOR", "PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR", "CONTACT"
]
OfficialRole = Literal["STUDY_CHAIR", "STUDY_DIRECTOR", "PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR"]
RecruitmentStatus = Literal[
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
]
ReferenceType = Literal["BACKGROUND", "RESULT", "DERIVED"]
IpdSharing = Literal["YES", "NO", "UNDECIDED"]
