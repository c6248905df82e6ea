"""The CAR-T trial corpus: the flat ``trials.csv`` with its ``sites.csv``, and the richer sample JSON.

Source: ONC CAR-T Trials Monitor (P. Jeong, Universitätsklinikum Köln; MIT licence; Zenodo
10.5281/zenodo.19738097), snapshots of ClinicalTrials.gov API v2 data. Its own classification
columns are kept as third-party labels (:data:`LABEL_COLUMNS`), never as registry content.
Every problem names the file, the row (1 = header) and the column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from celltrial.errors import InvalidInput
from celltrial.jsoninput import read_json_file
from celltrial.protocol import enums
from celltrial.registry.record import (
    ArmGroupInfo,
    InterventionInfo,
    OutcomeInfo,
    ResponsiblePartyInfo,
    SiteInfo,
    SourcedRecord,
    SponsorInfo,
    ThirdPartyLabels,
    TrialRecord,
)
from celltrial.registry.sources.text import clean, split_list, unique

LABEL_SOURCE = "ONC CAR-T Trials Monitor (Jeong 2026)"
TRIAL_COLUMNS = (
    "NCTId",
    "BriefTitle",
    "OverallStatus",
    "Phase",
    "Conditions",
    "Interventions",
    "StartDate",
    "LastUpdatePostDate",
    "EnrollmentCount",
    "Countries",
    "BriefSummary",
    "LeadSponsor",
    "LeadSponsorClass",
    "MinAge",
    "MaxAge",
    "StdAges",
    "PrimaryEndpoints",
)
LABEL_COLUMNS = (
    "Branch",
    "DiseaseCategory",
    "DiseaseEntity",
    "DiseaseEntities",
    "TrialDesign",
    "TargetCategory",
    "TargetSource",
    "ProductType",
    "ProductTypeSource",
    "ProductName",
    "AgeGroup",
    "SponsorType",
    "ClassificationConfidence",
    "LLMOverride",
)
SITE_COLUMNS = ("NCTId", "Facility", "City", "State", "Zip", "Country", "SiteStatus", "Latitude", "Longitude")
_NCT = re.compile(r"^NCT\d{8}$")
_AGE = re.compile(r"^\d+ (Years?|Months?|Weeks?|Days?|Hours?|Minutes?)$")
_ARM_HEAD = re.compile(r"^(?P<label>.+?) · (?P<type>[A-Z_]+)(?: · (?P<description>.*))?$", re.DOTALL)


def is_corpus_trials_csv(path: Path) -> bool:
    """Whether ``path`` is a corpus ``trials.csv`` (judged by its header)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline()
    return header.startswith("NCTId,BriefTitle,") and "LeadSponsor" in header


def is_corpus_sample(data: Any) -> bool:
    """Whether parsed JSON is the corpus's richer sample (``{"trials": [{"NCTId": ...}]}``)."""
    return isinstance(data, dict) and isinstance(data.get("trials"), list) and "studies" not in data


class _Row:
    """One CSV row (or JSON record) with errors that name the file, row and column (or JSON path)."""

    def __init__(self, values: dict[str, Any], *, origin: str, row: int | None) -> None:
        self.values = values
        self.origin = origin
        self.row = row

    def where(self, column: str) -> str:
        if self.row is None:
            return f"{self.origin}.{column}"
        return f"{self.origin} row {self.row}, column {column}"

    def text(self, column: str) -> str | None:
        return clean(self.values.get(column))

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise InvalidInput("is empty", field=self.where(column))
        return value

    def nct_id(self) -> str:
        value = self.required("NCTId")
        if not _NCT.match(value):
            raise InvalidInput(f"'{value}' is not an NCT id (NCT and 8 digits)", field=self.where("NCTId"))
        return value

    def choice(self, column: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(column)
        if value is not None and value not in allowed:
            raise InvalidInput(
                f"unknown value '{value}' (expected one of {', '.join(allowed)})", field=self.where(column)
            )
        return value

    def count(self, column: str) -> int | None:
        value = self.values.get(column)
        if value is None or clean(value) is None:
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"'{value}' is not a number", field=self.where(column)) from None
        if number < 0 or number != int(number):
            raise InvalidInput(f"'{value}' is not a whole number of participants", field=self.where(column))
        return int(number)

    def date(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        value = value.removesuffix("T00:00:00")
        if not re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", value):
            raise InvalidInput(
                f"'{value}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", field=self.where(column)
            )
        return value

    def age(self, column: str) -> str | None:
        value = self.text(column)
        if value is not None and not _AGE.match(value):
            raise InvalidInput(f"'{value}' is not an age such as '14 Years'", field=self.where(column))
        return value

    def phases(self) -> list[str]:
        allowed = get_args(enums.Phase)
        phases = [p for p in split_list(self.values.get("Phase")) if p != "Unknown"]
        for phase in phases:
            if phase not in allowed:
                raise InvalidInput(f"unknown phase '{phase}'", field=self.where("Phase"))
        return phases

    def number(self, column: str) -> float | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise InvalidInput(f"'{value}' is not a number", field=self.where(column)) from None


def _labels(values: dict[str, Any], origin: str) -> list[ThirdPartyLabels]:
    labels = {column: text for column in LABEL_COLUMNS if (text := clean(values.get(column))) is not None}
    return [ThirdPartyLabels(source=LABEL_SOURCE, origin=origin, labels=labels)] if labels else []


def _common(row: _Row) -> dict[str, Any]:
    lead = row.text("LeadSponsor")
    return {
        "nct_id": row.nct_id(),
        "brief_title": row.required("BriefTitle"),
        "overall_status": row.choice("OverallStatus", get_args(enums.OverallStatus)),
        "phases": row.phases(),
        "enrollment_count": row.count("EnrollmentCount"),
        "start_date": row.date("StartDate"),
        "brief_summary": row.text("BriefSummary"),
        "conditions": split_list(row.values.get("Conditions")),
        "countries": split_list(row.values.get("Countries")),
        "sponsors": (
            [
                SponsorInfo(
                    name=lead,
                    agency_class=row.choice("LeadSponsorClass", get_args(enums.AgencyClass)),
                    role="lead",
                )
            ]
            if lead
            else []
        ),
        "primary_outcomes": [OutcomeInfo(measure=m) for m in split_list(row.values.get("PrimaryEndpoints"))],
    }


def read_corpus_csv(trials_path: Path) -> tuple[list[SourcedRecord], dict[str, list[SiteInfo]], int]:
    """The trials of ``trials.csv``, the sites of the ``sites.csv`` beside it (by NCT id), its row count."""
    records: list[SourcedRecord] = []
    for row in _csv_rows(trials_path, TRIAL_COLUMNS):
        fields = _common(row)
        fields.update(
            last_update_date=row.date("LastUpdatePostDate"),
            interventions=[InterventionInfo(name=n) for n in split_list(row.values.get("Interventions"))],
            minimum_age=row.age("MinAge"),
            maximum_age=row.age("MaxAge"),
            std_ages=split_list(row.values.get("StdAges")),
            third_party_labels=_labels(
                row.values, f"{trials_path.name} {clean(row.values.get('SnapshotDate')) or ''}".strip()
            ),
        )
        records.append(
            SourcedRecord(
                kind="corpus_csv",
                origin=trials_path.name,
                snapshot_date=row.date("SnapshotDate"),
                record=TrialRecord(**fields),
            )
        )
    sites_path = trials_path.with_name("sites.csv")
    sites: dict[str, list[SiteInfo]] = {}
    site_rows = 0
    if sites_path.is_file():
        allowed = get_args(enums.RecruitmentStatus)
        for row in _csv_rows(sites_path, SITE_COLUMNS):
            site_rows += 1
            sites.setdefault(row.nct_id(), []).append(
                SiteInfo(
                    facility=row.text("Facility"),
                    city=row.text("City"),
                    state=row.text("State"),
                    zip=row.text("Zip"),
                    country=row.text("Country"),
                    status=row.choice("SiteStatus", allowed),
                    latitude=row.number("Latitude"),
                    longitude=row.number("Longitude"),
                )
            )
    return records, sites, site_rows


def _csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[_Row]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInput(f"missing column(s) {', '.join(missing)}", field=f"{path.name} row 1")
            for number, values in enumerate(reader, start=2):
                yield _Row(values, origin=path.name, row=number)
    except UnicodeDecodeError as error:
        raise InvalidInput(f"is not UTF-8 text ({error.reason})", field=path.name) from None


def read_corpus_sample(path: Path, data: dict[str, Any]) -> list[SourcedRecord]:
    """The records of the corpus's richer sample (``validation_study/sample_v1.json``)."""
    snapshot = clean(data.get("snapshot_date"))
    records = []
    for index, values in enumerate(data["trials"]):
        if not isinstance(values, dict):
            raise InvalidInput("a trial must be a JSON object", field=f"{path.name}: trials[{index}]")
        row = _Row(values, origin=f"{path.name}: trials[{index}]", row=None)
        records.append(
            SourcedRecord(kind="corpus_sample", origin=path.name, snapshot_date=snapshot, record=_sample(row))
        )
    return records


def _sample(row: _Row) -> TrialRecord:
    fields = _common(row)
    descriptions = _named_paragraphs(row.text("InterventionDescription"))
    collaborators = [
        SponsorInfo(name=name, role="collaborator")
        for name in split_list(row.values.get("CollaboratorNames"), ";")
    ]
    party_type = row.choice("ResponsiblePartyType", get_args(enums.ResponsiblePartyType))
    party_name = row.text("ResponsiblePartyName")
    fields.update(
        detailed_description=row.text("DetailedDescription"),
        eligibility_criteria=row.text("EligibilityCriteria"),
        study_type=row.choice("StudyType", get_args(enums.StudyType)),
        allocation=row.choice("Allocation", get_args(enums.DesignAllocation)),
        intervention_model=row.choice("InterventionModel", get_args(enums.InterventionalAssignment)),
        masking=row.choice("Masking", get_args(enums.DesignMasking)),
        primary_completion_date=row.date("PrimaryCompletionDate"),
        completion_date=row.date("CompletionDate"),
        keywords=split_list(row.values.get("ConditionKeywords"), ";"),
        interventions=[
            InterventionInfo(name=name, description=descriptions.get(name))
            for name in split_list(row.values.get("Interventions"))
        ],
        arm_groups=_arm_groups(row.text("ArmGroupDescriptions")),
        responsible_party=(
            ResponsiblePartyInfo(type=party_type, name=party_name or None)
            if party_type or party_name
            else None
        ),
        third_party_labels=_labels(row.values.get("_pipeline") or {}, row.origin.split(":")[0]),
    )
    fields["sponsors"] = [*fields["sponsors"], *collaborators]
    return TrialRecord(**fields)


def _named_paragraphs(text: str | None) -> dict[str, str]:
    """``name: description`` paragraphs; a paragraph without a name continues the one before."""
    result: dict[str, str] = {}
    last: str | None = None
    for paragraph in (text or "").split("\n\n"):
        name, separator, rest = paragraph.partition(": ")
        if separator and "\n" not in name and len(name) < 200:
            last = name.strip()
            result[last] = rest.strip()
        elif last is not None and paragraph.strip():
            result[last] = f"{result[last]}\n\n{paragraph.strip()}"
    return result


def _arm_groups(text: str | None) -> list[ArmGroupInfo]:
    """``label · TYPE · description`` paragraphs; a paragraph without that head continues the arm before."""
    allowed = get_args(enums.ArmGroupType)
    arms: list[dict[str, Any]] = []
    for paragraph in (text or "").split("\n\n"):
        match = _ARM_HEAD.match(paragraph.strip())
        if match and match["type"] in allowed:
            arms.append(
                {
                    "label": match["label"].strip(),
                    "type": match["type"],
                    "description": clean(match["description"]),
                }
            )
        elif arms and paragraph.strip():
            before = arms[-1]["description"]
            arms[-1]["description"] = f"{before}\n\n{paragraph.strip()}" if before else paragraph.strip()
    return [ArmGroupInfo(**arm) for arm in arms]


def read_sample_file(path: Path) -> list[SourcedRecord]:
    """Parse and read a corpus sample JSON file."""
    data = read_json_file(path)
    if not is_corpus_sample(data):
        raise InvalidInput("not a corpus sample (expected a 'trials' list)", field=path.name)
    return read_corpus_sample(path, data)


__all__ = [
    "LABEL_COLUMNS",
    "is_corpus_sample",
    "is_corpus_trials_csv",
    "read_corpus_csv",
    "read_corpus_sample",
    "read_sample_file",
    "unique",
]
