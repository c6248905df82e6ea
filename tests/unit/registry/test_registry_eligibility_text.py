"""The eligibility text laid out as sections and nested items, with the record's own markers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from celltrial.registry.eligibility_text import CriterionItem, parse_eligibility, unescape

SEED_LIKE = """Inclusion Criteria:

Subjects must meet all of the following criteria to be enrolled:

1. Subjects diagnosed with relapsed/refractory lymphoma/leukemia:

   1. Relapsed/refractory T-cell malignant lymphoma.
   2. Relapsed/refractory T-cell acute leukemia meeting any of the following criteria:

      i) Relapse: blasts in bone marrow (proportion\\>5%); ii) Refractory: no remission.
2. Performance status of 0\\~2.

Exclusion Criteria:

* Active GVHD;
* Active hepatitis (\\[HBV-DNA ≥ 500 IU/ml\\])
  with abnormal liver function."""


def test_inclusion_and_exclusion_become_two_sections_with_the_lead_in_kept() -> None:
    inclusion, exclusion = parse_eligibility(SEED_LIKE)
    assert inclusion.heading == "Inclusion Criteria"
    assert inclusion.preamble == ["Subjects must meet all of the following criteria to be enrolled:"]
    assert exclusion.heading == "Exclusion Criteria"


def test_nested_numbering_is_kept_as_the_record_indents_it() -> None:
    inclusion, _ = parse_eligibility(SEED_LIKE)
    first, second = inclusion.items
    assert (first.marker, second.marker) == ("1.", "2.")
    assert [child.marker for child in first.children] == ["1.", "2."]
    grandchild = first.children[1].children[0]
    assert grandchild.marker == "i)"
    assert grandchild.text.startswith("Relapse: blasts in bone marrow (proportion>5%)")


def test_markdown_escapes_are_undone() -> None:
    inclusion, exclusion = parse_eligibility(SEED_LIKE)
    assert inclusion.items[1].text == "Performance status of 0~2."
    assert "[HBV-DNA ≥ 500 IU/ml]" in exclusion.items[1].text


def test_a_wrapped_line_continues_its_item() -> None:
    _, exclusion = parse_eligibility(SEED_LIKE)
    assert exclusion.items[1].text.endswith("with abnormal liver function.")


def test_text_without_headings_is_one_untitled_section() -> None:
    (section,) = parse_eligibility("Adults with myeloma.\n\n- ECOG 0-1\n- Measurable disease")
    assert section.heading is None
    assert section.preamble == ["Adults with myeloma."]
    assert [item.text for item in section.items] == ["ECOG 0-1", "Measurable disease"]


def test_unescape_leaves_plain_text_alone() -> None:
    assert unescape("age ≥ 18 years") == "age ≥ 18 years"


@given(st.text(alphabet=st.sampled_from(list("ab1.)*- \n\\>:")), max_size=300))
def test_any_text_lays_out_into_non_blank_items_whose_markers_it_contains(text: str) -> None:
    def check(items: list[CriterionItem]) -> None:
        for item in items:
            assert item.text.strip()
            assert item.marker in text
            check(item.children)

    for section in parse_eligibility(text):
        check(section.items)
