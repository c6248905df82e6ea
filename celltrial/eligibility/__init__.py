"""Eligibility criteria as computable rules: facts in, per-criterion verdicts with evidence out.

A trial's criteria are data (``data/<NCT id>.eligibility.yaml``, see :mod:`.rules`); a patient's
facts come from the screening form (:mod:`.form`) or a FHIR R4 Bundle (:mod:`.fhir`);
:func:`evaluate` is a pure function of facts, rules, settings, screening date and the
investigator's judgments, returning an :class:`EligibilityResult`. No clock, no I/O.
"""

from celltrial.eligibility.engine import evaluate
from celltrial.eligibility.facts import Fact, PatientFacts, fact_catalogue
from celltrial.eligibility.fhir import read_bundle
from celltrial.eligibility.form import ScreeningForm, ScreeningInput, read_form
from celltrial.eligibility.result import (
    CriterionResult,
    EligibilityResult,
    Evidence,
    Judgment,
    RuleResult,
    decide,
)
from celltrial.eligibility.rules import EligibilityRules, load_rules, parse_rules

__all__ = [
    "CriterionResult",
    "EligibilityResult",
    "EligibilityRules",
    "Evidence",
    "Fact",
    "Judgment",
    "PatientFacts",
    "RuleResult",
    "ScreeningForm",
    "ScreeningInput",
    "decide",
    "evaluate",
    "fact_catalogue",
    "load_rules",
    "parse_rules",
    "read_bundle",
    "read_form",
]
