"""ISBT 128 DIN check character (ISO/IEC 7064 MOD 37-2) against published examples.

Published DIN / check character pairs:

* UK Blood Transfusion and Tissue Transplantation Services "Red Book", Annex 2, Table A2.2:
  G123498654321 -> weighted sum 148354, mod 37 = 21, 38 - 21 = 17 -> ``H``; bar code flags 77.
* ICCBBA documents on isbt128.org (the DIN implementation guide and labelling examples) show
  A999914123456 N, C000307001466 6, A999922123459 H, A999922654321 S, A999922123458 J,
  A999922012346 * and A999522123456 *.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.isbt128 import (
    MOD37_2_ALPHABET,
    PRODUCT_DESCRIPTIONS,
    _load_product_descriptions,
    barcode_check_flags,
    check_character,
    check_value,
    make_din,
    mod37_2_check_character,
    parse_din,
    product_description,
)
from celltrial.errors import InvalidInput, NotFound

PUBLISHED = [
    pytest.param("G123498654321", "H", id="red-book-annex-2"),
    pytest.param("A999914123456", "N", id="iccbba-A999914123456"),
    pytest.param("C000307001466", "6", id="iccbba-C000307001466"),
    pytest.param("A999922123459", "H", id="iccbba-A999922123459"),
    pytest.param("A999922654321", "S", id="iccbba-A999922654321"),
    pytest.param("A999922123458", "J", id="iccbba-A999922123458"),
    pytest.param("A999922012346", "*", id="iccbba-A999922012346-star"),
    pytest.param("A999522123456", "*", id="iccbba-A999522123456-star"),
]


@pytest.mark.parametrize(("din13", "expected"), PUBLISHED)
def test_check_character_matches_the_published_example(din13: str, expected: str) -> None:
    assert check_character(din13) == expected


def test_red_book_worked_example_gives_checksum_17_and_bar_code_flags_77() -> None:
    assert check_value("G123498654321") == 17
    assert barcode_check_flags("G123498654321") == "77"


def test_a_din_built_from_its_parts_has_all_its_forms() -> None:
    din = make_din("A9999", 14, 123456)
    assert din.din13 == "A999914123456"
    assert din.check_character == "N"
    assert din.keyboard_entry == "A999914123456N"
    assert din.data_content == "=A99991412345600"
    assert din.eye_readable == "A9999 14 123456 00 [N]"


def test_sequence_and_year_are_zero_padded() -> None:
    din = make_din("G1234", "26", 123)
    assert (din.year, din.sequence) == ("26", "000123")


def test_flags_in_the_check_range_must_carry_this_dins_check() -> None:
    assert make_din("G1234", 98, 654321, flags="77").flags == "77"
    with pytest.raises(InvalidInput, match="check flags are '77'"):
        make_din("G1234", 98, 654321, flags="78")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("G12349865432", "has 12 characters", id="too-short"),
        pytest.param("G1234986543210X", "has 15 characters", id="too-long"),
        pytest.param("g123498654321", "lowercase 'g' at position 1", id="lowercase"),
        pytest.param("O123498654321", "must start with A-N, P-Z or 1-9", id="letter-O-as-facility"),
        pytest.param("0123498654321", "must start with A-N, P-Z or 1-9", id="zero-as-facility"),
        pytest.param("G12A498654321", "position 4 \\(facility", id="letter-in-facility"),
        pytest.param("G1234986543-1", "position 12 \\(sequence", id="dash-in-sequence"),
        pytest.param("G123498654321X", "does not match 'H'", id="wrong-check-character"),
        pytest.param("G123498654321h", "lowercase check character", id="lowercase-check-character"),
        pytest.param("=G1234986543210", "'=' \\+ 13 \\+ 2 flag digits", id="short-scan"),
    ],
)
def test_a_bad_din_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as raised:
        parse_din(text)
    assert raised.value.field == "din"


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        pytest.param("G123498654321", "00", id="thirteen"),
        pytest.param(" G123498654321H ", "00", id="typed-with-check-character"),
        pytest.param("=G12349865432177", "77", id="scanned-with-check-flags"),
    ],
)
def test_a_din_is_read_as_typed_or_scanned(text: str, flags: str) -> None:
    din = parse_din(text)
    assert (din.din13, din.flags, din.check_character) == ("G123498654321", flags, "H")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"facility": "G123", "year": 26, "sequence": 1}, "facility", id="short-facility"),
        pytest.param({"facility": "G1234", "year": 126, "sequence": 1}, "year", id="three-digit-year"),
        pytest.param({"facility": "G1234", "year": 26, "sequence": 1_000_000}, "sequence", id="big-sequence"),
        pytest.param({"facility": "G1234", "year": 26, "sequence": "12a456"}, "sequence", id="letter-seq"),
        pytest.param({"facility": "G1234", "year": 26, "sequence": 1, "flags": "0"}, "flags", id="one-flag"),
    ],
)
def test_make_din_names_the_bad_part(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        make_din(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field


din_characters = st.text(alphabet=MOD37_2_ALPHABET, min_size=13, max_size=13)


@given(text=din_characters, position=st.integers(0, 12), replacement=st.sampled_from(MOD37_2_ALPHABET))
def test_any_single_character_substitution_changes_the_check_character(
    text: str, position: int, replacement: str
) -> None:
    changed = text[:position] + replacement + text[position + 1 :]
    if changed != text:
        assert mod37_2_check_character(changed) != mod37_2_check_character(text)


@given(text=din_characters, position=st.integers(0, 11))
def test_any_transposition_of_adjacent_different_characters_changes_the_check_character(
    text: str, position: int
) -> None:
    swapped = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    if swapped != text:
        assert mod37_2_check_character(swapped) != mod37_2_check_character(text)


@given(
    facility=st.tuples(st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"), st.integers(0, 9999)),
    year=st.integers(0, 99),
    sequence=st.integers(0, 999_999),
)
def test_the_keyboard_form_of_any_din_reads_back_to_the_same_din(
    facility: tuple[str, int], year: int, sequence: int
) -> None:
    din = make_din(f"{facility[0]}{facility[1]:04d}", year, sequence)
    assert parse_din(din.keyboard_entry) == din
    assert parse_din(din.data_content) == din


def test_every_product_description_says_it_has_no_verified_iccbba_code_or_gives_one() -> None:
    assert {"apheresis", "final_product"} <= set(PRODUCT_DESCRIPTIONS)
    for product in PRODUCT_DESCRIPTIONS.values():
        assert product.code == (product.iccbba_code or product.local_code)
        assert product.storage


def test_an_unknown_product_description_is_not_found() -> None:
    with pytest.raises(NotFound, match="known: apheresis, final_product"):
        product_description("plasma")


def test_no_shipped_product_claims_an_iccbba_code_no_public_source_states() -> None:
    for product in PRODUCT_DESCRIPTIONS.values():
        assert (product.iccbba_code, product.source) == (None, "assumption"), product.key
        assert product.checked


_ENTRY = """
products:
  bag:
    local_code: LOCAL
    iccbba_code: {code}
    source: {source}
    description: d
    storage: s
{extra}
"""


@pytest.mark.parametrize(
    ("code", "source", "extra", "problem"),
    [
        pytest.param("null", "assumption", "", "checked", id="assumption-without-what-was-checked"),
        pytest.param("null", "verified", "    checked: x", "assumption", id="no-code-but-verified"),
        pytest.param("S1128", "assumption", "    checked: x", "verified", id="code-marked-assumption"),
        pytest.param("S1128", "verified", "", "reference", id="code-without-reference"),
        pytest.param("s11", "verified", "    reference: x", "product description code", id="malformed-code"),
    ],
)
def test_a_product_code_without_its_provenance_is_refused(
    code: str, source: str, extra: str, problem: str
) -> None:
    text = _ENTRY.format(code=code, source=source, extra=extra)
    with pytest.raises(InvalidInput, match=problem) as refused:
        _load_product_descriptions(text)
    assert refused.value.field is not None
    assert refused.value.field.endswith("products.bag")


def test_a_verified_code_with_its_reference_is_printed_on_the_label() -> None:
    text = _ENTRY.format(
        code="S1128", source="verified", extra="    reference: HL7 FHIR biologicallyderived-productcodes"
    )
    assert _load_product_descriptions(text)["bag"].code == "S1128"
