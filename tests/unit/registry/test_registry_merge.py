"""Merging the records of one trial from several sources, field by field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.errors import InvalidInput
from celltrial.registry.merge import merge
from celltrial.registry.record import InterventionInfo, SourcedRecord, ThirdPartyLabels, TrialRecord


def _source(kind: str, origin: str, **fields: object) -> SourcedRecord:
    values: dict[str, object] = {"nct_id": "NCT07008872", "brief_title": "CD7 CAR-T"}
    values.update(fields)
    return SourcedRecord.model_validate({"kind": kind, "origin": origin, "record": values})


CSV = _source(
    "corpus_csv",
    "trials.csv",
    overall_status="RECRUITING",
    last_update_date="2025-09-01",
    brief_summary="Short.",
    interventions=[InterventionInfo(name="CD7 CART")],
    third_party_labels=[
        ThirdPartyLabels(source="monitor", origin="trials.csv", labels={"TargetCategory": "CD7"})
    ],
)
JSON = _source(
    "ctgov_json",
    "NCT07008872.json",
    overall_status="NOT_YET_RECRUITING",
    last_update_date="2025-06-06",
    brief_summary="A much longer summary from the full record.",
    interventions=[
        InterventionInfo(name="CD7 CART", type="BIOLOGICAL", description="For intravenous infusion")
    ],
    eligibility_criteria="Inclusion Criteria:\n\n1. Age 14 to 75",
)


def test_the_richest_text_wins_and_the_newest_single_value_wins() -> None:
    record, provenance = merge([CSV, JSON])
    assert record.brief_summary == "A much longer summary from the full record."
    assert record.interventions[0].description == "For intravenous infusion"
    assert record.overall_status == "RECRUITING"
    assert provenance["brief_summary"] == "ctgov_json:NCT07008872.json"
    assert provenance["overall_status"] == "corpus_csv:trials.csv"


def test_a_field_only_one_source_gives_is_kept_with_its_source() -> None:
    record, provenance = merge([CSV, JSON])
    assert record.eligibility_criteria == "Inclusion Criteria:\n\n1. Age 14 to 75"
    assert provenance["eligibility_criteria"] == "ctgov_json:NCT07008872.json"
    assert "detailed_description" not in provenance


def test_on_a_tie_the_richer_kind_of_source_wins() -> None:
    same_day = [
        _source("corpus_csv", "trials.csv", overall_status="RECRUITING", last_update_date="2025-06-06"),
        _source("ctgov_json", "a.json", overall_status="COMPLETED", last_update_date="2025-06-06"),
    ]
    record, provenance = merge(same_day)
    assert record.overall_status == "COMPLETED"
    assert provenance["overall_status"] == "ctgov_json:a.json"


def test_third_party_labels_are_kept_from_every_source() -> None:
    record, _ = merge([CSV, JSON])
    assert [labels.labels for labels in record.third_party_labels] == [{"TargetCategory": "CD7"}]


def test_records_of_different_trials_do_not_merge() -> None:
    other = _source("corpus_csv", "trials.csv").model_copy(
        update={"record": TrialRecord(nct_id="NCT05716113", brief_title="Other")}
    )
    with pytest.raises(InvalidInput, match="different trials"):
        merge([CSV, other])


def test_nothing_to_merge_is_refused() -> None:
    with pytest.raises(InvalidInput):
        merge([])


@given(
    st.permutations(
        [CSV, JSON, _source("corpus_sample", "sample_v1.json", detailed_description="Long text.")]
    )
)
def test_the_merged_record_does_not_depend_on_the_order_of_the_sources(order: list[SourcedRecord]) -> None:
    reference = merge(sorted(order, key=lambda s: s.kind))
    assert merge(order) == reference
