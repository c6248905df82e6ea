"""The shipped NCT07008872 record says exactly what the registry seed says, field by field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from celltrial.protocol.ctgov import Study
from celltrial.protocol.library import load_study

SYNOPSIS_NOTE = (
    "Review the sponsor-provided synopsis that highlights what the study is about "
    "and why it is being conducted."
)
CONDITIONS_NOTE = (
    "See the medical conditions and disease areas that this research is targeting or investigating."
)
IDENTIFIERS_NOTE = (
    "Review additional registry numbers or institutional identifiers associated with this trial."
)
SEED = Path(__file__).resolve().parents[4] / "shared" / "seeds" / "NCT07008872.txt"


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def record() -> Study:
    return load_study("NCT07008872")


def value_after(lines: list[str], heading: str) -> str:
    """The first non-empty line after a heading of the seed."""
    index = lines.index(heading)
    return next(line for line in lines[index + 1 :] if line)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize(
    ("heading", "read"),
    [
        ("NCT ID: NCT07008872", lambda s: "NCT ID: " + s.nct_id),
        ("Recruitment Status", lambda s: s.overall_status),
        ("Clinical Phase", lambda s: s.protocol_section.design_module.phases[0]),
        ("Total Enrollment", lambda s: f"{s.enrollment_target} participants"),
        ("Study Classification", lambda s: s.protocol_section.design_module.study_type),
        ("Study Start Date", lambda s: s.protocol_section.status_module.start_date_struct.date),
        ("Study Completion Date", lambda s: s.protocol_section.status_module.completion_date_struct.date),
        ("Allocation Method", lambda s: s.protocol_section.design_module.design_info.allocation),
        ("Intervention Model", lambda s: s.protocol_section.design_module.design_info.intervention_model),
        ("Primary Study Purpose", lambda s: s.protocol_section.design_module.design_info.primary_purpose),
        ("Blinding Strategy", lambda s: s.protocol_section.design_module.design_info.masking_info.masking),
        ("Minimum Eligible Age", lambda s: s.protocol_section.eligibility_module.minimum_age),
        ("Maximum Eligible Age", lambda s: s.protocol_section.eligibility_module.maximum_age),
        ("Eligible Sex", lambda s: s.protocol_section.eligibility_module.sex),
        (
            "Accepts Healthy Volunteers",
            lambda s: "Yes" if s.protocol_section.eligibility_module.healthy_volunteers else "No",
        ),
        ("Brief Summary", lambda s: s.protocol_section.description_module.brief_summary),
    ],
)
def test_a_basic_fact_of_the_record_matches_the_seed(seed_lines, record, heading, read):
    if heading.startswith("NCT ID"):
        assert heading in seed_lines
        assert read(record) == heading
        return
    expected = value_after(seed_lines, heading)
    if heading == "Brief Summary":
        expected = value_after(seed_lines, SYNOPSIS_NOTE)
    assert str(read(record)) == expected


def test_the_last_update_date_matches_the_seed(seed_lines, record):
    assert "Last Updated: 2025-06-06" in seed_lines
    assert record.protocol_section.status_module.last_update_post_date_struct.date == "2025-06-06"


def test_the_conditions_are_the_two_the_seed_lists(seed_lines, record):
    conditions = record.protocol_section.conditions_module.conditions
    assert " ".join(conditions) == value_after(
        seed_lines,
        "See the medical conditions and disease areas that this research is targeting or investigating.",
    )
    assert conditions == ["CD7+ Lymphoma", "CD7+ Acute Leukemia"]


def test_the_arm_and_the_intervention_match_the_seed(seed_lines, record):
    arms = record.protocol_section.arms_interventions_module
    assert arms.arm_groups[0].label == "CD7 CAR-T"
    assert "CD7 CAR-T" in seed_lines
    assert "Group Type EXPERIMENTAL" in seed_lines
    assert arms.arm_groups[0].type == "EXPERIMENTAL"
    assert arms.interventions[0].name == "CD7 CART"
    assert "Intervention Type BIOLOGICAL" in seed_lines
    assert arms.interventions[0].type == "BIOLOGICAL"
    assert arms.interventions[0].description == arms.arm_groups[0].description == "For intravenous infusion"


def test_the_sponsors_and_responsible_party_match_the_seed(seed_lines, record):
    sponsors = record.protocol_section.sponsor_collaborators_module
    assert sponsors.lead_sponsor.name == "Qi deng"
    assert sponsors.lead_sponsor.class_ == "OTHER"
    assert sponsors.collaborators[0].name == "Hebei Taihe Chunyu Biotechnology Co., Ltd"
    assert sponsors.collaborators[0].class_ == "INDUSTRY"
    party = sponsors.responsible_party
    assert (party.investigator_full_name, party.investigator_title) == ("Qi deng", "Chief Physician")
    assert f"Responsibility Role {party.type}" in seed_lines
    assert "Sponsor Role lead" in seed_lines
    assert "Sponsor Role collaborator" in seed_lines


def test_the_org_study_id_matches_the_seed(seed_lines, record):
    assert (
        value_after(
            seed_lines,
            "Review additional registry numbers or institutional identifiers associated with this trial.",
        )
        == record.protocol_section.identification_module.org_study_id_info.id
    )


def test_the_eligibility_criteria_are_the_seed_text_word_for_word(seed_lines, record):
    seed = "\n".join(seed_lines)
    start = seed.index("Inclusion Criteria\n")
    end = seed.index("Minimum Eligible Age")
    expected = squash(seed[start:end])
    shipped = record.protocol_section.eligibility_module.eligibility_criteria
    shipped = shipped.replace("Inclusion Criteria:", "Inclusion Criteria").replace(
        "Exclusion Criteria:", "Exclusion Criteria"
    )
    assert squash(shipped) == expected


def test_the_related_trial_and_pending_results_are_recorded(seed_lines, record):
    assert "NCT05716113 COMPLETED EARLY_PHASE1" in seed_lines
    links = record.protocol_section.references_module.see_also_links
    assert any("NCT05716113" in link.url for link in links)
    assert "Results pending" in seed_lines
    assert record.has_results is False


def test_the_record_invents_no_detailed_description_the_seed_lacks(record):
    assert record.protocol_section.description_module.detailed_description is None
    assert record.protocol_section.outcomes_module is None
