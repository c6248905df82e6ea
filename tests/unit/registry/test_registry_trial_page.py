"""The trial page: the seed record's sections, in its order, with its explanations and every fact.

The seed is the registry portal's page of NCT07008872 (``shared/seeds/NCT07008872.txt``); the page
is built from the record shipped with celltrial.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from celltrial.protocol.library import parse_study
from celltrial.registry.record import TrialRecord
from celltrial.registry.sources.ctgov import record_from_study
from celltrial.registry.trial_page import NOT_PROVIDED, RESULTS_PENDING, build_trial_page

SEED = Path(__file__).resolve().parents[4] / "shared" / "seeds" / "NCT07008872.txt"
SHIPPED = resources.files("celltrial.protocol") / "data" / "NCT07008872.json"
SEED_HEADINGS = [
    "Study Results",
    "Basic Information",
    "Brief Summary",
    "Detailed Description",
    "Conditions",
    "Study Design",
    "Study Groups",
    "Interventions",
    "Eligibility Criteria",
    "Sponsors",
    "Responsible Party",
    "Other Identifiers",
    "More Related Trials",
]
LABELS = re.compile(
    r"^(Intervention Type|Group Type|Sponsor Role|Responsibility Role|Identifier Type:|Identifier Source:)\s*"
)
MARKER = re.compile(r"^(\d+\.|[ivx]+\))\s+")


def _seed_lines() -> list[str]:
    return [line.strip() for line in SEED.read_text("utf-8").splitlines() if line.strip()]


def _page() -> Any:
    record = record_from_study(parse_study(json.loads(SHIPPED.read_text("utf-8"))))
    return build_trial_page(
        record, provenance={"nct_id": "ctgov_json:NCT07008872.json"}, related=[], operations_available=True
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _normal(text: str) -> str:
    return " ".join(text.replace("\\", "").split())


def test_the_sections_follow_the_seed_order() -> None:
    headings = [section.heading for section in _page().sections]
    positions = [headings.index(heading) for heading in SEED_HEADINGS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("heading", SEED_HEADINGS[1:])
def test_each_heading_carries_the_seeds_explanation(heading: str) -> None:
    lines = _seed_lines()
    explanation = lines[lines.index(heading) + 1]
    section = next(s for s in _page().sections if s.heading == heading)
    assert section.explanation == explanation


def test_no_results_says_results_pending_in_the_records_wording() -> None:
    results = _page().sections[0]
    lines = _seed_lines()
    assert results.facts[0].value == RESULTS_PENDING
    assert results.paragraphs == [lines[lines.index("Results pending") + 1]]


def test_the_page_shows_every_fact_the_seed_gives() -> None:
    lines = _seed_lines()
    body = lines[lines.index("Study Results") : lines.index("More Related Trials")]
    explanations = {lines[lines.index(h) + 1] for h in SEED_HEADINGS[1:]}
    shown = _normal(" ".join(_strings(_page().model_dump(mode="json"))))
    missing = []
    for line in body:
        if line in SEED_HEADINGS or line in explanations:
            continue
        fact = MARKER.sub("", LABELS.sub("", line))
        # the portal prints the two conditions on one line
        facts = (
            ["CD7+ Lymphoma", "CD7+ Acute Leukemia"]
            if line == "CD7+ Lymphoma CD7+ Acute Leukemia"
            else [fact]
        )
        missing += [f for f in facts if _normal(f) not in shown]
    assert len(body) > 60
    assert missing == []


def test_a_field_the_source_lacks_says_so() -> None:
    page = build_trial_page(
        TrialRecord(nct_id="NCT05716113", brief_title="CD7 CAR-T for Patients With r/r CD7+ T-ALL/T-LBL"),
        provenance={},
        related=[],
        operations_available=False,
    )
    description = next(s for s in page.sections if s.heading == "Detailed Description")
    assert description.missing == NOT_PROVIDED
    basic = next(s for s in page.sections if s.heading == "Basic Information")
    assert {fact.value for fact in basic.facts} == {NOT_PROVIDED}
    eligibility = next(s for s in page.sections if s.heading == "Eligibility Criteria")
    assert eligibility.missing is not None
    assert "not provided" in eligibility.missing.lower()
    assert all(section.missing or section.facts or section.paragraphs for section in page.sections)


def test_third_party_labels_are_shown_as_such_after_the_registrys_sections() -> None:
    headings = [section.heading for section in _page().sections]
    assert headings[-1] == "Third-Party Classification"
    assert "do not use them" in _page().sections[-1].explanation
