"""A trial's page as data: the registry portal's sections, in its order, with its explanations.

The headings and the plain explanation under each are the registry portal's own (as in the
record of NCT07008872, ``shared/seeds/NCT07008872.txt``); "Sites by Country" and "Third-Party
Classification" are celltrial's additions. The web template renders this structure as it is;
a value the imported sources do not give is :data:`NOT_PROVIDED`, never an empty box.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field

from celltrial.registry.eligibility_text import CriteriaSection, parse_eligibility, unescape
from celltrial.registry.record import TrialRecord
from celltrial.registry.schemas import RelatedTrial

NOT_PROVIDED = "Not provided by the imported registry record"
RESULTS_PENDING = "Results pending"
RESULTS_PENDING_TEXT = (
    "The study team has not published outcome measurements, participant flow, or safety data "
    "for this trial yet. Check back later for updates."
)
EXPLANATIONS: dict[str, tuple[str, str]] = {
    "results": ("Study Results", ""),
    "basic": (
        "Basic Information",
        "Get a concise snapshot of the trial, including recruitment status, study phase, enrollment "
        "targets, and key timeline milestones.",
    ),
    "summary": (
        "Brief Summary",
        "Review the sponsor-provided synopsis that highlights what the study is about and why it is "
        "being conducted.",
    ),
    "description": (
        "Detailed Description",
        "Dive into the extended narrative that explains the scientific background, objectives, and "
        "procedures in greater depth.",
    ),
    "conditions": (
        "Conditions",
        "See the medical conditions and disease areas that this research is targeting or investigating.",
    ),
    "design": (
        "Study Design",
        "Understand how the trial is structured, including allocation methods, masking strategies, "
        "primary purpose, and other design elements.",
    ),
    "groups": (
        "Study Groups",
        "Review each arm or cohort in the study, along with the interventions and objectives "
        "associated with them.",
    ),
    "interventions": (
        "Interventions",
        "Learn about the drugs, procedures, or behavioral strategies being tested and how they are "
        "applied within this trial.",
    ),
    "eligibility": (
        "Eligibility Criteria",
        "Check the participation requirements, including inclusion and exclusion rules, age limits, "
        "and whether healthy volunteers are accepted.",
    ),
    "sponsors": (
        "Sponsors",
        "Meet the organizations funding or collaborating on the study and learn about their roles.",
    ),
    "responsible": (
        "Responsible Party",
        "Identify the individual or organization who holds primary responsibility for the study "
        "information submitted to regulators.",
    ),
    "identifiers": (
        "Other Identifiers",
        "Review additional registry numbers or institutional identifiers associated with this trial.",
    ),
    "sites": ("Sites by Country", "See where the trial enrolls participants, grouped by country."),
    "related": (
        "More Related Trials",
        "Additional clinical trials that may be relevant based on similarity analysis.",
    ),
    "labels": (
        "Third-Party Classification",
        "Labels another project assigned to this trial, shown for reference; celltrial's search and "
        "related trials do not use them.",
    ),
}
SECTION_ORDER = tuple(EXPLANATIONS)


class Fact(BaseModel):
    label: str
    value: str


class Entry(BaseModel):
    """One arm, intervention, sponsor, identifier or country: a title, its facts, a description."""

    title: str
    facts: list[Fact] = Field(default_factory=list)
    description: str | None = None
    items: list[str] = Field(default_factory=list)


class Section(BaseModel):
    key: str
    heading: str
    explanation: str
    facts: list[Fact] = Field(default_factory=list)
    paragraphs: list[str] = Field(default_factory=list)
    entries: list[Entry] = Field(default_factory=list)
    criteria: list[CriteriaSection] = Field(default_factory=list)
    related: list[RelatedTrial] = Field(default_factory=list)
    missing: str | None = Field(default=None, description="why the section has nothing to show")


class TrialPage(BaseModel):
    nct_id: str
    title: str
    last_updated: str
    sources: list[str]
    operations_available: bool = Field(description="celltrial runs this trial: link to its operations")
    sections: list[Section]


def _value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return NOT_PROVIDED
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _section(key: str, **content: Any) -> Section:
    heading, explanation = EXPLANATIONS[key]
    return Section(key=key, heading=heading, explanation=explanation, **content)


def _paragraphs(text: str | None) -> list[str]:
    return [unescape(p.strip()) for p in (text or "").split("\n\n") if p.strip()]


def build_trial_page(
    record: TrialRecord,
    *,
    provenance: dict[str, str],
    related: list[RelatedTrial],
    operations_available: bool,
) -> TrialPage:
    """Every section of the trial's page, in the portal's order."""
    sections = [
        _results(record),
        _section(
            "basic",
            facts=[
                Fact(label="Recruitment Status", value=_value(record.overall_status)),
                Fact(label="Clinical Phase", value=_value(", ".join(record.phases))),
                Fact(
                    label="Total Enrollment",
                    value=_value(
                        None if record.enrollment_count is None else f"{record.enrollment_count} participants"
                    ),
                ),
                Fact(label="Study Classification", value=_value(record.study_type)),
                Fact(label="Study Start Date", value=_value(record.start_date)),
                Fact(label="Study Completion Date", value=_value(record.completion_date)),
            ],
        ),
        _text_section("summary", record.brief_summary),
        _text_section("description", record.detailed_description),
        _section(
            "conditions",
            entries=[Entry(title=c) for c in record.conditions],
            missing=_missing(record.conditions),
        ),
        _section(
            "design",
            facts=[
                Fact(label="Allocation Method", value=_value(record.allocation)),
                Fact(label="Intervention Model", value=_value(record.intervention_model)),
                Fact(label="Primary Study Purpose", value=_value(record.primary_purpose)),
                Fact(label="Blinding Strategy", value=_value(record.masking)),
            ],
        ),
        _groups(record),
        _section(
            "interventions",
            entries=[
                Entry(
                    title=i.name,
                    description=i.description,
                    facts=[Fact(label="Intervention Type", value=_value(i.type))],
                    items=i.other_names,
                )
                for i in record.interventions
            ],
            missing=_missing(record.interventions),
        ),
        _eligibility(record),
        _section(
            "sponsors",
            entries=[
                Entry(
                    title=s.name,
                    facts=[
                        Fact(label="Sponsor Class", value=_value(s.agency_class)),
                        Fact(label="Sponsor Role", value=s.role),
                    ],
                )
                for s in sorted(record.sponsors, key=lambda s: (s.role != "collaborator", s.name))
            ],
            missing=_missing(record.sponsors),
        ),
        _responsible(record),
        _section(
            "identifiers",
            entries=[
                Entry(
                    title=i.id,
                    facts=[
                        Fact(label="Identifier Type", value=i.type or "-"),
                        Fact(label="Identifier Source", value=i.source),
                    ],
                )
                for i in record.identifiers
            ],
            missing=_missing(record.identifiers),
        ),
        _sites(record),
        _section(
            "related", related=related, missing=None if related else "No related trial in the registry yet."
        ),
        _section(
            "labels",
            entries=[
                Entry(
                    title=f"{labels.source}" + (f" ({labels.origin})" if labels.origin else ""),
                    facts=[Fact(label=name, value=value) for name, value in labels.labels.items()],
                )
                for labels in record.third_party_labels
            ],
            missing=None if record.third_party_labels else "No third-party classification was imported.",
        ),
    ]
    return TrialPage(
        nct_id=record.nct_id,
        title=record.brief_title,
        last_updated=_value(record.last_update_date),
        sources=sorted(set(provenance.values())),
        operations_available=operations_available,
        sections=sections,
    )


def _missing(values: Any) -> str | None:
    return None if values else NOT_PROVIDED


def _results(record: TrialRecord) -> Section:
    if record.has_results:
        return _section(
            "results",
            facts=[Fact(label="Results", value="Posted on ClinicalTrials.gov")],
            paragraphs=["The registry holds posted results for this trial; celltrial does not import them."],
        )
    return _section(
        "results", facts=[Fact(label="Results", value=RESULTS_PENDING)], paragraphs=[RESULTS_PENDING_TEXT]
    )


def _text_section(key: str, text: str | None) -> Section:
    paragraphs = _paragraphs(text)
    return _section(key, paragraphs=paragraphs, missing=_missing(paragraphs))


def _groups(record: TrialRecord) -> Section:
    by_name = {i.name: i for i in record.interventions}
    entries = []
    for arm in record.arm_groups:
        items = []
        for name in arm.intervention_names:
            kind, _, bare = name.partition(": ")
            intervention = by_name.get(bare or kind)
            label = bare or kind
            if intervention is not None:
                label = f"{label} — Intervention Type {_value(intervention.type)}"
                if intervention.description:
                    label = f"{label} — {intervention.description}"
            items.append(label)
        entries.append(
            Entry(
                title=arm.label,
                description=arm.description,
                facts=[Fact(label="Group Type", value=_value(arm.type))],
                items=items,
            )
        )
    return _section("groups", entries=entries, missing=_missing(entries))


def _eligibility(record: TrialRecord) -> Section:
    criteria = parse_eligibility(record.eligibility_criteria) if record.eligibility_criteria else []
    return _section(
        "eligibility",
        criteria=criteria,
        facts=[
            Fact(label="Minimum Eligible Age", value=_value(record.minimum_age)),
            Fact(label="Maximum Eligible Age", value=_value(record.maximum_age)),
            Fact(label="Eligible Sex", value=_value(record.sex)),
            Fact(label="Accepts Healthy Volunteers", value=_value(record.healthy_volunteers)),
        ],
        missing=None if criteria else f"Inclusion and exclusion criteria: {NOT_PROVIDED.lower()}",
    )


def _responsible(record: TrialRecord) -> Section:
    party = record.responsible_party
    if party is None:
        return _section("responsible", missing=NOT_PROVIDED)
    facts = [Fact(label="Responsibility Role", value=_value(party.type))]
    if party.affiliation:
        facts.append(Fact(label="Affiliation", value=party.affiliation))
    entry = Entry(title=_value(party.name), description=party.title, facts=facts)
    return _section("responsible", entries=[entry])


def _sites(record: TrialRecord) -> Section:
    by_country: dict[str, list[str]] = defaultdict(list)
    for site in record.sites:
        place = ", ".join(filter(None, [site.facility, site.city, site.state]))
        status = f" ({site.status})" if site.status else ""
        by_country[site.country or "Country not stated"].append(f"{place or 'Site name not stated'}{status}")
    for country in record.countries:
        by_country.setdefault(country, [])
    entries = [
        Entry(
            title=country,
            facts=[Fact(label="Sites", value=str(len(sites)) if sites else "No site listed")],
            items=sites,
        )
        for country, sites in sorted(by_country.items())
    ]
    return _section(
        "sites", entries=entries, missing=None if entries else "No site or country is listed yet."
    )
