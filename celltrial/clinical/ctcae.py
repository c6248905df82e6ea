"""CTCAE lab grading: the grade of a laboratory value by NCI CTCAE v5.0.

Source: National Cancer Institute, Common Terminology Criteria for Adverse Events (CTCAE)
version 5.0, 27 November 2017, "Investigations", "Blood and lymphatic system disorders" and
"Metabolism and nutrition disorders" lab terms; the grade texts are read from the
machine-readable criteria shipped in ``celltrial/clinical/data`` (pharmaverse/admiral, see its
README). The thresholds below restate those texts in Python (the files' R fragments are not run).

Rules kept from CTCAE v5.0:

* "x ULN" thresholds use the upper limit of normal; "<LLN" grade 1 uses the lower limit;
* ALT, AST, alkaline phosphatase, GGT and blood bilirubin use the ULN if the baseline was normal
  and multiples of the baseline if the baseline was abnormal (above the ULN), so they need the
  baseline; fibrinogen likewise grades by decrease from baseline when the baseline was abnormal;
* creatinine: "x baseline" thresholds apply besides the "x ULN" ones when a baseline is given.

Decisions where a lab value alone cannot decide: a grade that needs symptoms, intervention or
anticoagulation status is not assumed; the result is the grade the value itself supports, and
``clinical_note`` says how clinical findings can raise it (e.g. hyponatraemia 125–129 mmol/L is
grade 2, or 3 when symptomatic). Grades 4–5 that are purely clinical are never lab grades.
Every result carries its CTCAE version so that v6.0 criteria can be added beside v5.0.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import pint
from pydantic import BaseModel, ConfigDict, Field

from celltrial.errors import InvalidInput, UnsupportedUnit

__all__ = ["CTCAE_SOURCE", "CTCAE_VERSIONS", "LabGrade", "grade_lab", "known_terms", "term_text"]

CTCAE_SOURCE = "NCI CTCAE v{version} (lab criteria as published by pharmaverse/admiral)"
_DATA_FILES = {"5.0": "admiral_ncictcaev5.json"}

_units: pint.UnitRegistry[float] = pint.UnitRegistry()
_units.define("IU = U")
_UNIT_ALIASES = {
    "pH": "dimensionless",
    "1": "dimensionless",
    "ratio": "dimensionless",
    "INR": "dimensionless",
    "/L": "1/L",
    "/uL": "1/uL",
    "/mm3": "1/mm^3",
}

Reference = Literal["abs", "uln", "lln", "baseline"]
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Threshold:
    """Grade ``grade`` holds when ``value <comparison> factor * reference + offset``."""

    grade: int
    comparison: Literal[">", ">=", "<", "<="]
    factor: float
    reference: Reference = "abs"
    offset: float = 0.0

    def describe(self, unit: str) -> str:
        if self.reference == "abs":
            return f"{self.comparison} {self.factor:g} {unit}".rstrip()
        label = self.reference.upper() if self.reference != "baseline" else "baseline"
        extra = f" + {self.offset:g} {unit}" if self.offset else ""
        return f"{self.comparison} {self.factor:g} x {label}{extra}"


@dataclass(frozen=True)
class TermCriteria:
    """One CTCAE term: thresholds per canonical unit, and the abnormal-baseline set if any."""

    term: str
    direction: Literal["L", "H"]
    thresholds: Mapping[str, tuple[Threshold, ...]]
    abnormal_baseline: tuple[Threshold, ...] | None = None
    clinical_note: str | None = None


def _t(
    grade: int, comparison: Literal[">", ">=", "<", "<="], factor: float, reference: Reference = "abs"
) -> Threshold:
    return Threshold(grade, comparison, factor, reference)


def _below(lln_grade: int, cuts: Mapping[int, float]) -> tuple[Threshold, ...]:
    return (_t(lln_grade, "<", 1.0, "lln"), *(_t(g, "<", v) for g, v in cuts.items()))


def _above(uln_grade: int | None, cuts: Mapping[int, float]) -> tuple[Threshold, ...]:
    head = () if uln_grade is None else (_t(uln_grade, ">", 1.0, "uln"),)
    return (*head, *(_t(g, ">", v) for g, v in cuts.items()))


def _times(
    reference: Reference, factors: Mapping[int, float], first: Literal[">", ">="] = ">"
) -> tuple[Threshold, ...]:
    ordered = sorted(factors.items())
    return tuple(_t(g, first if i == 0 else ">", f, reference) for i, (g, f) in enumerate(ordered))


_COUNT = "10^9/L"
_ENZYMES = ("U/L",)
_CHEMISTRY = ("umol/L", "mg/dL")


def _same(units: tuple[str, ...], thresholds: tuple[Threshold, ...]) -> dict[str, tuple[Threshold, ...]]:
    return dict.fromkeys(units, thresholds)


def _liver(
    term: str,
    uln: Mapping[int, float],
    baseline: Mapping[int, float],
    first: Literal[">", ">="],
    units: tuple[str, ...],
) -> TermCriteria:
    return TermCriteria(term, "H", _same(units, _times("uln", uln)), _times("baseline", baseline, first))


_V5: tuple[TermCriteria, ...] = (
    TermCriteria(
        "Anemia",
        "L",
        {"g/L": _below(1, {2: 100, 3: 80}), "mmol/L": _below(1, {2: 6.2, 3: 4.9})},
        clinical_note="grade 3 also when transfusion is indicated; grade 4 life-threatening consequences",
    ),
    TermCriteria("Neutrophil count decreased", "L", {_COUNT: _below(1, {2: 1.5, 3: 1.0, 4: 0.5})}),
    TermCriteria("Platelet count decreased", "L", {_COUNT: _below(1, {2: 75, 3: 50, 4: 25})}),
    TermCriteria("Lymphocyte count decreased", "L", {_COUNT: _below(1, {2: 0.8, 3: 0.5, 4: 0.2})}),
    TermCriteria("White blood cell decreased", "L", {_COUNT: _below(1, {2: 3.0, 3: 2.0, 4: 1.0})}),
    TermCriteria("CD4 lymphocytes decreased", "L", {_COUNT: _below(1, {2: 0.5, 3: 0.2, 4: 0.05})}),
    TermCriteria("Lymphocyte count increased", "H", {_COUNT: _above(None, {2: 4, 3: 20})}),
    TermCriteria(
        "Leukocytosis",
        "H",
        {_COUNT: _above(None, {3: 100})},
        clinical_note="grade 4 with clinical manifestations of leucostasis",
    ),
    _liver(
        "Alanine aminotransferase increased",
        {1: 1, 2: 3, 3: 5, 4: 20},
        {1: 1.5, 2: 3, 3: 5, 4: 20},
        ">=",
        _ENZYMES,
    ),
    _liver(
        "Aspartate aminotransferase increased",
        {1: 1, 2: 3, 3: 5, 4: 20},
        {1: 1.5, 2: 3, 3: 5, 4: 20},
        ">=",
        _ENZYMES,
    ),
    _liver(
        "Alkaline phosphatase increased",
        {1: 1, 2: 2.5, 3: 5, 4: 20},
        {1: 2.0, 2: 2.5, 3: 5, 4: 20},
        ">=",
        _ENZYMES,
    ),
    _liver("GGT increased", {1: 1, 2: 2.5, 3: 5, 4: 20}, {1: 2.0, 2: 2.5, 3: 5, 4: 20}, ">=", _ENZYMES),
    _liver(
        "Blood bilirubin increased",
        {1: 1, 2: 1.5, 3: 3, 4: 10},
        {1: 1.0, 2: 1.5, 3: 3, 4: 10},
        ">",
        _CHEMISTRY,
    ),
    TermCriteria(
        "Creatinine increased",
        "H",
        _same(_CHEMISTRY, (*_times("uln", {1: 1, 2: 1.5, 3: 3, 4: 6}), *_times("baseline", {2: 1.5, 3: 3}))),
    ),
    TermCriteria(
        "Fibrinogen decreased",
        "L",
        {
            "g/L": (
                *(_t(g, "<", f, "lln") for g, f in ((1, 1.0), (2, 0.75), (3, 0.5), (4, 0.25))),
                _t(4, "<", 0.5),
            )
        },
        abnormal_baseline=(
            _t(1, "<", 1.0, "baseline"),
            _t(2, "<=", 0.75, "baseline"),
            _t(3, "<=", 0.5, "baseline"),
            _t(4, "<=", 0.25, "baseline"),
            _t(4, "<", 0.5),
        ),
    ),
    TermCriteria(
        "Activated partial thromboplastin time prolonged", "H", {"s": _times("uln", {1: 1, 2: 1.5, 3: 2.5})}
    ),
    TermCriteria(
        "INR increased",
        "H",
        {"dimensionless": _above(None, {1: 1.2, 2: 1.5, 3: 2.5})},
        clinical_note="on anticoagulation CTCAE grades by multiples of baseline; this lab grade does not",
    ),
    TermCriteria("Blood lactate dehydrogenase increased", "H", _same(_ENZYMES, _times("uln", {1: 1}))),
    TermCriteria("CPK increased", "H", _same(_ENZYMES, _times("uln", {1: 1, 2: 2.5, 3: 5, 4: 10}))),
    TermCriteria(
        "Lipase increased",
        "H",
        _same(_ENZYMES, _times("uln", {1: 1, 2: 1.5, 3: 5})),
        clinical_note="with signs or symptoms >2.0-5.0 x ULN is grade 3 and >5.0 x ULN grade 4",
    ),
    TermCriteria(
        "Serum amylase increased",
        "H",
        _same(_ENZYMES, _times("uln", {1: 1, 2: 1.5, 3: 5})),
        clinical_note="with signs or symptoms >2.0-5.0 x ULN is grade 3 and >5.0 x ULN grade 4",
    ),
    TermCriteria("Haptoglobin decreased", "L", {"g/L": _below(1, {})}),
    TermCriteria(
        "Hemoglobin increased",
        "H",
        {
            "g/L": (
                _t(1, ">", 1.0, "uln"),
                Threshold(2, ">", 1.0, "uln", 20.0),
                Threshold(3, ">", 1.0, "uln", 40.0),
            )
        },
    ),
    TermCriteria(
        "Cholesterol high",
        "H",
        {"mmol/L": _above(1, {2: 7.75, 3: 10.34, 4: 12.92}), "mg/dL": _above(1, {2: 300, 3: 400, 4: 500})},
    ),
    TermCriteria(
        "Hypertriglyceridemia",
        "H",
        {
            "mmol/L": (_t(1, ">=", 1.71), *_above(None, {2: 3.42, 3: 5.7, 4: 11.4})),
            "mg/dL": (_t(1, ">=", 150), *_above(None, {2: 300, 3: 500, 4: 1000})),
        },
    ),
    TermCriteria(
        "Hypercalcemia",
        "H",
        {"mmol/L": _above(1, {2: 2.9, 3: 3.1, 4: 3.4}), "mg/dL": _above(1, {2: 11.5, 3: 12.5, 4: 13.5})},
    ),
    TermCriteria("Hypercalcemia (Ionized)", "H", {"mmol/L": _above(1, {2: 1.5, 3: 1.6, 4: 1.8})}),
    TermCriteria(
        "Hypocalcemia",
        "L",
        {"mmol/L": _below(1, {2: 2.0, 3: 1.75, 4: 1.5}), "mg/dL": _below(1, {2: 8.0, 3: 7.0, 4: 6.0})},
    ),
    TermCriteria("Hypocalcemia (Ionized)", "L", {"mmol/L": _below(1, {2: 1.0, 3: 0.9, 4: 0.8})}),
    TermCriteria("Hyperkalemia", "H", {"mmol/L": _above(1, {2: 5.5, 3: 6.0, 4: 7.0})}),
    TermCriteria(
        "Hypokalemia",
        "L",
        {"mmol/L": _below(1, {3: 3.0, 4: 2.5})},
        clinical_note="symptomatic <LLN-3.0 mmol/L with intervention indicated is grade 2",
    ),
    TermCriteria("Hypernatremia", "H", {"mmol/L": _above(1, {2: 150, 3: 155, 4: 160})}),
    TermCriteria(
        "Hyponatremia",
        "L",
        {"mmol/L": _below(1, {2: 130, 3: 125, 4: 120})},
        clinical_note="125-129 mmol/L is grade 3 when symptomatic",
    ),
    TermCriteria(
        "Hypermagnesemia",
        "H",
        {"mmol/L": _above(1, {3: 1.23, 4: 3.30}), "mg/dL": _above(1, {3: 3.0, 4: 8.0})},
    ),
    TermCriteria(
        "Hypomagnesemia",
        "L",
        {"mmol/L": _below(1, {2: 0.5, 3: 0.4, 4: 0.3}), "mg/dL": _below(1, {2: 1.2, 3: 0.9, 4: 0.7})},
    ),
    TermCriteria(
        "Hypoglycemia",
        "L",
        {"mmol/L": _below(1, {2: 3.0, 3: 2.2, 4: 1.7}), "mg/dL": _below(1, {2: 55, 3: 40, 4: 30})},
    ),
    TermCriteria("Hypoalbuminemia", "L", {"g/L": _below(1, {2: 30, 3: 20})}),
    TermCriteria(
        "Hyperuricemia",
        "H",
        _same(_CHEMISTRY, _times("uln", {1: 1})),
        clinical_note="with physiologic consequences >ULN is grade 3",
    ),
    TermCriteria("Acidosis", "L", {"dimensionless": _below(1, {3: 7.3})}),
    TermCriteria("Alkalosis", "H", {"dimensionless": _above(1, {3: 7.5})}),
)
_CRITERIA: dict[str, dict[str, TermCriteria]] = {"5.0": {c.term.casefold(): c for c in _V5}}
CTCAE_VERSIONS = tuple(_CRITERIA)
# Common short names a coordinator types for a CTCAE term.
_TERM_ALIASES = {
    "alt": "alanine aminotransferase increased",
    "ast": "aspartate aminotransferase increased",
    "alp": "alkaline phosphatase increased",
    "bilirubin": "blood bilirubin increased",
    "creatinine": "creatinine increased",
    "anc": "neutrophil count decreased",
    "neutropenia": "neutrophil count decreased",
    "platelets": "platelet count decreased",
    "thrombocytopenia": "platelet count decreased",
    "lymphopenia": "lymphocyte count decreased",
    "wbc decreased": "white blood cell decreased",
    "hypofibrinogenemia": "fibrinogen decreased",
    "ldh increased": "blood lactate dehydrogenase increased",
}


class LabGrade(BaseModel):
    """The CTCAE grade of one lab value, with the version and the criterion that set it."""

    model_config = ConfigDict(frozen=True)

    term: str
    grade: int = Field(ge=0, le=4, description="0: no adverse event by this lab value")
    ctcae_version: str
    value: float
    unit: str
    criterion: str = Field(description="the threshold that set the grade, in the criteria's unit")
    grade_text: str = Field(description="the CTCAE text of the grade ('' for grade 0)")
    clinical_note: str | None = None
    source: str


def known_terms(version: str = "5.0") -> tuple[str, ...]:
    """The CTCAE terms this module grades for ``version``."""
    return tuple(c.term for c in _criteria_for(version).values())


@cache
def _texts(version: str) -> dict[str, dict[str, str]]:
    data = resources.files("celltrial.clinical").joinpath("data", _DATA_FILES[version]).read_text("utf-8")
    return {row["TERM"]: row for row in json.loads(data)}


def term_text(term: str, grade: int, version: str = "5.0") -> str:
    """The CTCAE text of ``grade`` for ``term`` as published in the shipped criteria file."""
    return str(_texts(version)[term][f"GRADE_{grade}"])


def grade_lab(
    term: str,
    value: float,
    unit: str,
    *,
    uln: float | None = None,
    lln: float | None = None,
    baseline: float | None = None,
    version: str = "5.0",
) -> LabGrade:
    """Grade a lab value by CTCAE ``version``; ``uln``, ``lln`` and ``baseline`` are in ``unit``."""
    criteria = _lookup(term, version)
    canonical, factor = _convert(unit, criteria)
    amounts = {"value": value, "uln": uln, "lln": lln, "baseline": baseline}
    for name, amount in amounts.items():
        if amount is not None and (not math.isfinite(amount) or amount < 0):
            raise InvalidInput(f"{amount} is not a valid lab value", field=name)
    scaled = {name: None if amount is None else _signif(amount * factor) for name, amount in amounts.items()}
    thresholds = _thresholds(criteria, canonical, scaled)
    grade, criterion = 0, "no CTCAE threshold met"
    for threshold in thresholds:
        limit = _limit(threshold, scaled, criteria)
        if threshold.grade > grade and _COMPARE[threshold.comparison](
            _signif(value * factor), _signif(limit)
        ):
            grade, criterion = (
                threshold.grade,
                threshold.describe("" if canonical == "dimensionless" else canonical),
            )
    return LabGrade(
        term=criteria.term,
        grade=grade,
        ctcae_version=version,
        value=value,
        unit=unit,
        criterion=criterion,
        grade_text=term_text(criteria.term, grade, version) if grade else "",
        clinical_note=criteria.clinical_note,
        source=CTCAE_SOURCE.format(version=version),
    )


def _criteria_for(version: str) -> dict[str, TermCriteria]:
    try:
        return _CRITERIA[version]
    except KeyError:
        raise InvalidInput(
            f"CTCAE version {version!r} is not supported (supported: {', '.join(CTCAE_VERSIONS)})",
            field="version",
        ) from None


def _lookup(term: str, version: str) -> TermCriteria:
    table = _criteria_for(version)
    key = term.replace("_", " ").replace("-", " ").strip().casefold()
    key = _TERM_ALIASES.get(key, key)
    if key in table:
        return table[key]
    raise InvalidInput(
        f"{term!r} is not a lab-graded CTCAE v{version} term; known terms: {', '.join(known_terms(version))}",
        field="term",
    )


def _convert(unit: str, criteria: TermCriteria) -> tuple[str, float]:
    expression = _UNIT_ALIASES.get(unit.strip(), unit.strip())
    try:
        given = _units.parse_expression(expression)
    except Exception:  # pint's parser raises assorted errors (even AssertionError) on malformed text
        raise UnsupportedUnit(f"{unit!r} is not a unit celltrial knows", field="unit") from None
    if not isinstance(given, pint.Quantity):
        raise UnsupportedUnit(f"{unit!r} is a number, not a unit", field="unit")
    for canonical in criteria.thresholds:
        try:
            ratio = (given / _units.parse_expression(canonical)).to("dimensionless")
        except (pint.errors.DimensionalityError, AttributeError):
            continue
        return canonical, float(ratio.magnitude)
    accepted = ", ".join(criteria.thresholds)
    raise UnsupportedUnit(
        f"{unit!r} cannot be converted for {criteria.term} (use one of: {accepted})", field="unit"
    )


def _thresholds(
    criteria: TermCriteria, canonical: str, scaled: Mapping[str, float | None]
) -> tuple[Threshold, ...]:
    normal = criteria.thresholds[canonical]
    if criteria.abnormal_baseline is None:
        return normal
    baseline = scaled["baseline"]
    reference = scaled["uln"] if criteria.direction == "H" else scaled["lln"]
    limit_name = "uln" if criteria.direction == "H" else "lln"
    if baseline is None:
        raise InvalidInput(
            f"{criteria.term} is graded against the baseline when it was abnormal: give the baseline",
            field="baseline",
        )
    if reference is None:
        raise InvalidInput(f"{criteria.term} needs the {limit_name.upper()}", field=limit_name)
    abnormal = baseline > reference if criteria.direction == "H" else baseline < reference
    return criteria.abnormal_baseline if abnormal else normal


def _signif(number: float, digits: int = 10) -> float:
    """Round to ``digits`` significant digits so that 1.5 x 0.7 equals 1.05 at a boundary."""
    if number == 0 or not math.isfinite(number):
        return number
    return round(number, digits - 1 - math.floor(math.log10(abs(number))))


def _limit(threshold: Threshold, scaled: Mapping[str, float | None], criteria: TermCriteria) -> float:
    if threshold.reference == "abs":
        return threshold.factor
    reference = scaled[threshold.reference]
    if reference is None:
        if threshold.reference == "baseline":
            return math.inf if threshold.comparison in (">", ">=") else -math.inf
        raise InvalidInput(
            f"{criteria.term} needs the {threshold.reference.upper()}", field=threshold.reference
        )
    return threshold.factor * reference + threshold.offset
