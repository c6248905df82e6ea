"""ISBT 128 Donation Identification Number (DIN) and its keyboard check character.

Sources:

* ICCBBA, ISBT 128 Standard Technical Specification (ST-001), Data Structure 001 "Donation
  Identification Number": ``=αppppyynnnnnnff`` — ``=`` the data identifier; ``αpppp`` the
  Facility Identification Number (FIN), one character from A–N, P–Z or 1–9 followed by four
  digits; ``yy`` the year; ``nnnnnn`` the sequence number; ``ff`` two flag digits. The flags are
  not part of the number itself; when they are printed they are rotated 90°.
* ISO/IEC 7064 MOD 37-2 (pure system, modulus 37, radix 2) over the 13 characters
  ``αppppyynnnnnn`` with the character values 0–9 → 0–9, A–Z → 10–35, ``*`` → 36, as worked
  through in the UK Blood Transfusion and Tissue Transplantation Services "Red Book", Annex 2
  "ISBT 128 check character calculation", Tables A2.1–A2.2 (G123498654321 → checksum 17 → ``H``).
  The same annex: flag digits that carry the check in the bar code are ``60 + checksum``.

The eye-readable DIN prints the FIN, year and sequence in groups (``G1234 26 000123``), the flag
digits rotated and the keyboard check character in a box. A plain-text rendering cannot rotate
or box, so :attr:`DonationIdentificationNumber.eye_readable` writes the flags as they are and the
check character in square brackets: ``G1234 26 000123 00 [L]``. The PDF label draws the real thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from celltrial.errors import InvalidInput, NotFound

__all__ = [
    "CHECK_FLAG_OFFSET",
    "DIN_LENGTH",
    "MOD37_2_ALPHABET",
    "PRODUCT_DESCRIPTIONS",
    "DonationIdentificationNumber",
    "ProductDescription",
    "barcode_check_flags",
    "check_character",
    "check_value",
    "make_din",
    "mod37_2_check_character",
    "parse_din",
    "product_description",
]

MOD37_2_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
DIN_LENGTH = 13
CHECK_FLAG_OFFSET = 60
_FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"  # A–N, P–Z, 1–9 (no O, no 0)
_DIGITS = "0123456789"
_PART_AT = {
    **dict.fromkeys(range(2, 6), "facility identification number"),
    6: "year",
    7: "year",
    8: "sequence",
}
_VALUE = {character: value for value, character in enumerate(MOD37_2_ALPHABET)}


def _mod37_2_value(text: str) -> int:
    remainder = 0
    for character in text:
        remainder = ((remainder + _VALUE[character]) * 2) % 37
    return (38 - remainder) % 37


def mod37_2_check_character(text: str, *, field: str = "text") -> str:
    """The ISO/IEC 7064 MOD 37-2 check character of any string over 0–9, A–Z, ``*``."""
    if not text:
        raise InvalidInput("is empty; a check character needs at least one character", field=field)
    for position, character in enumerate(text, start=1):
        if character not in _VALUE:
            raise InvalidInput(
                f"character {character!r} at position {position} is not in the ISO 7064 "
                "MOD 37-2 character set (0-9, A-Z, *)",
                field=field,
            )
    return MOD37_2_ALPHABET[_mod37_2_value(text)]


def _validate_din13(din13: str, field: str) -> None:
    if not isinstance(din13, str):
        raise InvalidInput(f"must be text, got {type(din13).__name__}", field=field)
    if len(din13) != DIN_LENGTH:
        raise InvalidInput(
            f"{din13!r} has {len(din13)} characters; a DIN has {DIN_LENGTH} (facility 5, year 2, sequence 6)",
            field=field,
        )
    for position, character in enumerate(din13, start=1):
        if character.islower():
            raise InvalidInput(
                f"{din13!r} has lowercase {character!r} at position {position}; DINs are upper case",
                field=field,
            )
    first = din13[0]
    if first not in _FIN_FIRST:
        raise InvalidInput(
            f"{din13!r}: facility identification number starts with {first!r}; "
            "it must start with A-N, P-Z or 1-9",
            field=field,
        )
    for position in range(2, DIN_LENGTH + 1):
        character = din13[position - 1]
        if character not in _DIGITS:
            part = (
                "facility identification number" if position <= 5 else "year" if position <= 7 else "sequence"
            )
            raise InvalidInput(
                f"{din13!r} has {character!r} at position {position} ({part}); it must be a digit",
                field=field,
            )


def check_value(din13: str, *, field: str = "din") -> int:
    """The MOD 37-2 checksum (0–36) of a 13-character DIN."""
    _validate_din13(din13, field)
    return _mod37_2_value(din13)


def check_character(din13: str, *, field: str = "din") -> str:
    """The keyboard check character of a 13-character DIN (``G123498654321`` → ``H``)."""
    return MOD37_2_ALPHABET[check_value(din13, field=field)]


def barcode_check_flags(din13: str, *, field: str = "din") -> str:
    """Flag digits that carry the check in the bar code: 60 + checksum (Red Book Annex 2)."""
    return f"{CHECK_FLAG_OFFSET + check_value(din13, field=field):02d}"


@dataclass(frozen=True)
class DonationIdentificationNumber:
    """One DIN: facility, year, sequence, flags, and the forms printed and scanned."""

    facility: str
    year: str
    sequence: str
    flags: str

    def __post_init__(self) -> None:
        _validate_din13(self.din13, "din")
        _validate_flags(self.flags, self.din13)

    @property
    def din13(self) -> str:
        """The 13 characters the check character protects."""
        return f"{self.facility}{self.year}{self.sequence}"

    @property
    def check_character(self) -> str:
        return check_character(self.din13)

    @property
    def keyboard_entry(self) -> str:
        """What a person types: the 13 characters and the check character."""
        return f"{self.din13}{self.check_character}"

    @property
    def data_content(self) -> str:
        """What the Code 128 bar code carries: ``=`` + 13 characters + flags (16 characters)."""
        return f"={self.din13}{self.flags}"

    @property
    def eye_readable(self) -> str:
        """Text form of the printed DIN; the check character in brackets stands for its box."""
        return f"{self.facility} {self.year} {self.sequence} {self.flags} [{self.check_character}]"


def _as_fixed_digits(value: int | str, width: int, field: str) -> str:
    if isinstance(value, bool):
        raise InvalidInput(f"must be {width} digits, got a boolean", field=field)
    if isinstance(value, int):
        if not 0 <= value < 10**width:
            raise InvalidInput(f"{value} is out of range 0-{10**width - 1}", field=field)
        return f"{value:0{width}d}"
    if len(value) != width or any(character not in _DIGITS for character in value):
        raise InvalidInput(f"{value!r} must be exactly {width} digits", field=field)
    return value


def _validate_flags(flags: str, din13: str) -> None:
    if len(flags) != 2 or any(character not in _DIGITS for character in flags):
        raise InvalidInput(f"{flags!r} must be two digits", field="flags")
    number = int(flags)
    if CHECK_FLAG_OFFSET <= number <= CHECK_FLAG_OFFSET + 36:
        expected = barcode_check_flags(din13)
        if flags != expected:
            raise InvalidInput(
                f"{flags!r} is in the check range 60-96 but this DIN's check flags are {expected!r}",
                field="flags",
            )


def make_din(
    facility: str, year: int | str, sequence: int | str, flags: str = "00"
) -> DonationIdentificationNumber:
    """Build a DIN from its parts; every part is validated (``field`` names the bad one)."""
    if not isinstance(facility, str) or len(facility) != 5:
        raise InvalidInput(
            f"{facility!r} must be 5 characters (one of A-N, P-Z, 1-9 then four digits)", field="facility"
        )
    year_text = _as_fixed_digits(year, 2, "year")
    sequence_text = _as_fixed_digits(sequence, 6, "sequence")
    din13 = f"{facility}{year_text}{sequence_text}"
    try:
        _validate_din13(din13, "facility")
    except InvalidInput as error:
        raise InvalidInput(
            f"{facility!r} is not a facility identification number: {error.message}", field="facility"
        ) from None
    _validate_flags(flags, din13)
    return DonationIdentificationNumber(facility, year_text, sequence_text, flags)


def parse_din(text: str, *, field: str = "din") -> DonationIdentificationNumber:
    """Read a DIN as typed or scanned.

    Accepted: 13 characters; 14 (13 + keyboard check character, which must match); or the bar
    code's 16-character data content ``=`` + 13 + flags. Surrounding blanks are stripped; any
    other deviation is an :class:`InvalidInput` naming the problem.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"must be text, got {type(text).__name__}", field=field)
    stripped = text.strip()
    if stripped.startswith("="):
        if len(stripped) != 16:
            raise InvalidInput(
                f"{stripped!r} has {len(stripped)} characters; a scanned DIN is '=' + 13 + 2 flag digits",
                field=field,
            )
        din13, flags = stripped[1:14], stripped[14:]
        _validate_din13(din13, field)
        _validate_flags(flags, din13)
        return DonationIdentificationNumber(din13[:5], din13[5:7], din13[7:], flags)
    if len(stripped) == DIN_LENGTH + 1:
        din13, given = stripped[:DIN_LENGTH], stripped[DIN_LENGTH]
        expected = check_character(din13, field=field)
        if given.islower():
            raise InvalidInput(f"{stripped!r} has a lowercase check character {given!r}", field=field)
        if given != expected:
            raise InvalidInput(
                f"{stripped!r}: check character {given!r} does not match {expected!r}; "
                "the number was mistyped or misread",
                field=field,
            )
        return DonationIdentificationNumber(din13[:5], din13[5:7], din13[7:], "00")
    _validate_din13(stripped, field)
    return DonationIdentificationNumber(stripped[:5], stripped[5:7], stripped[7:], "00")


@dataclass(frozen=True)
class ProductDescription:
    """What a bag holds, as the label states it; ``iccbba_code`` is None until verified.

    ``source`` is ``verified`` (``iccbba_code`` set, ``reference`` names where it is stated) or
    ``assumption`` (no code could be established; ``checked`` says what was looked at).
    """

    key: str
    local_code: str
    iccbba_code: str | None
    description: str
    storage: str
    note: str
    source: str = "assumption"
    reference: str = ""
    checked: str = ""

    @property
    def code(self) -> str:
        """The code printed on the label: ICCBBA's when verified, else the local one."""
        return self.iccbba_code or self.local_code


def _load_product_descriptions(text: str) -> dict[str, ProductDescription]:
    document: Any = yaml.safe_load(text)
    where = "celltrial/clinical/data/isbt128_products.yaml"
    if not isinstance(document, dict) or not isinstance(document.get("products"), dict):
        raise InvalidInput("must hold a mapping 'products'", field=where)
    loaded: dict[str, ProductDescription] = {}
    for key, entry in document["products"].items():
        try:
            loaded[key] = ProductDescription(
                key=str(key),
                local_code=str(entry["local_code"]),
                iccbba_code=None if entry["iccbba_code"] is None else str(entry["iccbba_code"]),
                description=str(entry["description"]),
                storage=str(entry["storage"]),
                note=str(entry.get("note", "")),
                source=str(entry["source"]),
                reference=str(entry.get("reference", "")),
                checked=str(entry.get("checked", "")),
            )
        except (KeyError, TypeError) as error:
            raise InvalidInput(f"product {key!r} lacks {error}", field=f"{where}:products.{key}") from None
        _check_provenance(loaded[key], f"{where}:products.{key}")
    return loaded


_PDC = re.compile(r"[A-Z][0-9A-Z]{4}")


def _check_provenance(product: ProductDescription, where: str) -> None:
    """A code is verified with its reference, or absent and marked an assumption saying what was checked."""
    if product.iccbba_code is None:
        if product.source != "assumption" or not product.checked:
            raise InvalidInput(
                "a product without an ICCBBA code is 'source: assumption' and says what was 'checked'",
                field=where,
            )
        return
    if product.source != "verified" or not product.reference:
        raise InvalidInput("an ICCBBA code is 'source: verified' with its 'reference'", field=where)
    if not _PDC.fullmatch(product.iccbba_code):
        raise InvalidInput(
            f"{product.iccbba_code!r} is not a product description code (a letter and 4 characters)",
            field=where,
        )


PRODUCT_DESCRIPTIONS = MappingProxyType(
    _load_product_descriptions(
        resources.files("celltrial.clinical").joinpath("data/isbt128_products.yaml").read_text("utf-8")
    )
)


def product_description(key: str) -> ProductDescription:
    """The configured product description ``key`` (e.g. ``apheresis``, ``final_product``)."""
    try:
        return PRODUCT_DESCRIPTIONS[key]
    except KeyError:
        known = ", ".join(sorted(PRODUCT_DESCRIPTIONS))
        raise NotFound(f"no product description {key!r}; known: {known}", field="product") from None
