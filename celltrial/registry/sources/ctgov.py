"""CT.gov API v2 study records (single study or ``/studies`` page) as registry records."""

from __future__ import annotations

from celltrial.protocol.ctgov import Outcome, Study
from celltrial.registry.record import (
    ArmGroupInfo,
    IdentifierInfo,
    InterventionInfo,
    OutcomeInfo,
    ResponsiblePartyInfo,
    SiteInfo,
    SponsorInfo,
    TrialRecord,
)
from celltrial.registry.sources.text import clean, unique


def record_from_study(study: Study) -> TrialRecord:
    """The registry record of one API v2 study."""
    section = study.protocol_section
    identification = section.identification_module
    status = section.status_module
    description = section.description_module
    conditions = section.conditions_module
    design = section.design_module
    info = design.design_info if design else None
    arms = section.arms_interventions_module
    outcomes = section.outcomes_module
    eligibility = section.eligibility_module
    sponsors_module = section.sponsor_collaborators_module
    locations = section.contacts_locations_module.locations if section.contacts_locations_module else None

    sponsors: list[SponsorInfo] = []
    responsible: ResponsiblePartyInfo | None = None
    if sponsors_module is not None:
        lead = sponsors_module.lead_sponsor
        sponsors.append(SponsorInfo(name=lead.name, agency_class=lead.class_, role="lead"))
        sponsors.extend(
            SponsorInfo(name=c.name, agency_class=c.class_, role="collaborator")
            for c in sponsors_module.collaborators or []
        )
        party = sponsors_module.responsible_party
        if party is not None:
            responsible = ResponsiblePartyInfo(
                type=party.type,
                name=clean(party.investigator_full_name) or (lead.name if party.type == "SPONSOR" else None),
                title=clean(party.investigator_title),
                affiliation=clean(party.investigator_affiliation),
            )

    identifiers: list[IdentifierInfo] = []
    if identification.org_study_id_info is not None:
        org = identification.org_study_id_info
        identifiers.append(IdentifierInfo(id=org.id, type=org.type, source="org_study_id"))
    identifiers.extend(
        IdentifierInfo(id=s.id, type=s.type, source="secondary_id", domain=clean(s.domain))
        for s in identification.secondary_id_infos or []
    )

    sites = [
        SiteInfo(
            facility=clean(loc.facility),
            city=clean(loc.city),
            state=clean(loc.state),
            zip=clean(loc.zip),
            country=clean(loc.country),
            status=loc.status,
            latitude=_geo(loc, "lat"),
            longitude=_geo(loc, "lon"),
        )
        for loc in locations or []
    ]

    def date(struct: object) -> str | None:
        return getattr(struct, "date", None)

    enrollment = design.enrollment_info if design else None
    return TrialRecord(
        nct_id=identification.nct_id,
        brief_title=identification.brief_title.strip(),
        official_title=clean(identification.official_title),
        acronym=clean(identification.acronym),
        overall_status=status.overall_status,
        why_stopped=clean(status.why_stopped),
        phases=list(design.phases or []) if design else [],
        study_type=design.study_type if design else None,
        enrollment_count=enrollment.count if enrollment else None,
        enrollment_type=enrollment.type if enrollment else None,
        start_date=date(status.start_date_struct),
        primary_completion_date=date(status.primary_completion_date_struct),
        completion_date=date(status.completion_date_struct),
        first_posted_date=date(status.study_first_post_date_struct),
        last_update_date=date(status.last_update_post_date_struct),
        brief_summary=clean(description.brief_summary) if description else None,
        detailed_description=clean(description.detailed_description) if description else None,
        conditions=unique(conditions.conditions or []) if conditions else [],
        keywords=unique(conditions.keywords or []) if conditions else [],
        allocation=info.allocation if info else None,
        intervention_model=info.intervention_model if info else None,
        primary_purpose=info.primary_purpose if info else None,
        masking=info.masking_info.masking if info and info.masking_info else None,
        arm_groups=[
            ArmGroupInfo(
                label=arm.label,
                type=arm.type,
                description=clean(arm.description),
                intervention_names=list(arm.intervention_names or []),
            )
            for arm in (arms.arm_groups or [] if arms else [])
        ],
        interventions=[
            InterventionInfo(
                name=item.name,
                type=item.type,
                description=clean(item.description),
                other_names=list(item.other_names or []),
            )
            for item in (arms.interventions or [] if arms else [])
        ],
        primary_outcomes=_outcomes(outcomes.primary_outcomes if outcomes else None),
        secondary_outcomes=_outcomes(outcomes.secondary_outcomes if outcomes else None),
        eligibility_criteria=clean(eligibility.eligibility_criteria) if eligibility else None,
        minimum_age=eligibility.minimum_age if eligibility else None,
        maximum_age=eligibility.maximum_age if eligibility else None,
        sex=eligibility.sex if eligibility else None,
        healthy_volunteers=eligibility.healthy_volunteers if eligibility else None,
        std_ages=list(eligibility.std_ages or []) if eligibility else [],
        sponsors=sponsors,
        responsible_party=responsible,
        identifiers=identifiers,
        countries=unique(site.country for site in sites if site.country),
        sites=sites,
        has_results=study.has_results if study.has_results is not None else study.results_section is not None,
    )


def _outcomes(items: list[Outcome] | None) -> list[OutcomeInfo]:
    return [
        OutcomeInfo(measure=measure, time_frame=clean(item.time_frame), description=clean(item.description))
        for item in items or []
        if (measure := clean(item.measure))
    ]


def _geo(location: object, axis: str) -> float | None:
    point = getattr(location, "geo_point", None) or (location.model_extra or {}).get("geoPoint")  # type: ignore[attr-defined]
    if isinstance(point, dict) and isinstance(point.get(axis), int | float):
        return float(point[axis])
    return None
