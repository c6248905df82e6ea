"""Reading a FHIR R4 Bundle: the codes the issue lists, ULNs, conditions, and bad input."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from fhir.resources.R4B.quantity import Quantity
from fhir_core.types import DateTimeType, DateType
from pydantic import TypeAdapter, ValidationError

from celltrial.eligibility import EligibilityResult, EligibilityRules, Fact, evaluate, read_bundle, read_form
from celltrial.eligibility.fhir import CELLTRIAL_SYSTEM
from celltrial.eligibility.fhir_bundle import facts_to_bundle
from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ProtocolSettings

LOINC, SNOMED, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
ON = date(2025, 7, 1)


def patient(birth: str = "1990-05-01", gender: str = "female") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1", "birthDate": birth, "gender": gender}


def observation(
    identifier: str, code: str, system: str = LOINC, day: str = "2025-06-28T09:30:00+08:00", **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": identifier,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "effectiveDateTime": day,
        **value,
    }


def quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def condition(
    identifier: str, code: str, status: str = "active", onset: str | None = None, system: str = SNOMED
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": identifier,
        "clinicalStatus": {"coding": [{"code": status}]},
        "code": {"coding": [{"system": system, "code": code}]},
    }
    if onset:
        resource["onsetDateTime"] = onset
    return resource


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


@pytest.fixture
def screen_bundle(rules: EligibilityRules, settings: ProtocolSettings) -> Any:
    def run(*resources: dict[str, Any], with_patient: bool = True) -> EligibilityResult:
        found = (patient(), *resources) if with_patient else resources
        return evaluate(read_bundle(bundle(*found)), rules, settings, ON)

    return run


def test_hemoglobin_in_g_per_dl_is_compared_with_70_g_per_l(screen_bundle: Any) -> None:
    result = screen_bundle(observation("hb", "718-7", valueQuantity=quantity(6.9, "g/dL")))
    criterion = result.criterion("I7")
    assert criterion.verdict == "not_met"
    assert criterion.reason == "Hemoglobin 6.9 g/dL on 2025-06-28 is below 7 g/dL"
    assert criterion.evidence[0].source == "Observation/hb"


@pytest.mark.parametrize("code", ["2160-0", "38483-4"])
def test_creatinine_uses_the_result_reference_range_high_as_uln(screen_bundle: Any, code: str) -> None:
    value = observation(
        "cr", code, valueQuantity=quantity(1.9, "mg/dL"), referenceRange=[{"high": quantity(1.3, "mg/dL")}]
    )
    criterion = screen_bundle(value).criterion("I8a")
    assert criterion.verdict == "met"  # 1.9 <= 1.5 x 1.3 = 1.95; the site ULN 1.1 would fail it
    assert criterion.threshold is not None
    assert criterion.threshold.basis == "1.5×ULN (ULN 1.3 mg/dL, reported with the result)"


def test_creatinine_in_umol_per_l_falls_back_to_the_site_range(screen_bundle: Any) -> None:
    criterion = screen_bundle(observation("cr", "14682-9", valueQuantity=quantity(150, "umol/L"))).criterion(
        "I8a"
    )
    assert criterion.verdict == "not_met"
    assert "site reference range" in criterion.reason


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        pytest.param({"valueInteger": 2}, "met", id="ECOG 2 as valueInteger"),
        pytest.param(
            {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9625-0"}]}},
            "not_met",
            id="ECOG 3 as the LOINC answer LA9625-0",
        ),
    ],
)
def test_ecog_is_read_as_an_integer_or_a_loinc_answer(
    screen_bundle: Any, value: dict[str, Any], verdict: str
) -> None:
    assert screen_bundle(observation("ecog", "89247-1", **value)).criterion("I5").verdict == verdict


@pytest.mark.parametrize("code", ["59408-5", "2708-6"])
def test_oxygen_saturation_codes(screen_bundle: Any, code: str) -> None:
    assert (
        screen_bundle(observation("o2", code, valueQuantity=quantity(90, "%"))).criterion("I8c").verdict
        == "not_met"
    )


def test_hbv_dna_with_abnormal_alt_is_active_hepatitis(screen_bundle: Any) -> None:
    result = screen_bundle(
        observation("hbv", "29615-2", valueQuantity=quantity(800, "[IU]/mL")),
        observation("alt", "1742-6", valueQuantity=quantity(55, "U/L")),
    )
    assert result.criterion("E7").verdict == "met"


def test_hcv_antibody_and_rna_are_read_from_coded_answers(screen_bundle: Any) -> None:
    result = screen_bundle(
        observation(
            "ab", "16128-1", valueCodeableConcept={"coding": [{"system": SNOMED, "code": "10828004"}]}
        ),
        observation("rna", "11259-9", valueCodeableConcept={"text": "Detected"}),
        observation("ast", "1920-8", valueQuantity=quantity(90, "U/L")),
    )
    parts = {part.id: part.verdict for part in result.criterion("E7").parts}
    assert parts["E7.hcv"] == "met"


@pytest.mark.parametrize(
    ("resource", "criterion", "verdict"),
    [
        pytest.param(condition("af", "49436004"), "E1", "met", id="active atrial fibrillation excludes"),
        pytest.param(
            condition("af", "I48.91", system="http://hl7.org/fhir/sid/icd-10-cm"),
            "E1",
            "met",
            id="ICD-10-CM I48.91 is atrial fibrillation",
        ),
        pytest.param(
            condition("mi", "22298006", status="resolved", onset="2024-08-01"),
            "E1",
            "met",
            id="MI 11 months ago",
        ),
        pytest.param(
            condition("gvhd", "234646005", status="relapse"), "E2", "met", id="relapsed GVHD is active"
        ),
        pytest.param(condition("gvhd", "234646005", status="inactive"), "E2", "not_met", id="inactive GVHD"),
        pytest.param(condition("hiv", "86406008"), "E8", "met", id="HIV infection excludes"),
        pytest.param(condition("bf", "169750002"), "E11", "met", id="breastfeeding excludes a woman"),
        pytest.param(condition("ep", "84757009"), "E10", "met", id="active epilepsy is a CNS disorder"),
    ],
)
def test_conditions_by_code_and_clinical_status(
    screen_bundle: Any, resource: dict[str, Any], criterion: str, verdict: str
) -> None:
    assert screen_bundle(resource).criterion(criterion).verdict == verdict


def test_resolved_atrial_fibrillation_does_not_exclude(screen_bundle: Any) -> None:
    parts = {
        part.id: part
        for part in screen_bundle(condition("af", "49436004", status="resolved")).criterion("E1").parts
    }
    assert parts["E1.atrial_fibrillation"].verdict == "not_met"
    assert parts["E1.atrial_fibrillation"].reason == "Atrial fibrillation recorded but not active (resolved)"


def test_a_coded_condition_absent_from_the_record_is_absent(screen_bundle: Any) -> None:
    criterion = screen_bundle().criterion("E2")
    assert criterion.verdict == "not_met"
    assert (
        criterion.reason
        == "No graft-versus-host disease (Bundle: no Condition coded as graft-versus-host disease)"
    )


def test_a_condition_without_a_standard_code_is_unknown_when_absent(screen_bundle: Any) -> None:
    assert screen_bundle().criterion("E9").verdict == "unknown"


def test_facts_in_celltrials_code_system_are_read(screen_bundle: Any) -> None:
    result = screen_bundle(
        observation(
            "cd7",
            "cd7-bone-marrow-flow",
            system=CELLTRIAL_SYSTEM,
            valueCodeableConcept={"coding": [{"system": SNOMED, "code": "10828004"}]},
        ),
        observation("allergy", "severe-allergy-to-biologics", system=CELLTRIAL_SYSTEM, valueBoolean=False),
    )
    assert result.criterion("I2").verdict == "met"
    assert result.criterion("E9").verdict == "not_met"


def test_an_entered_in_error_observation_is_skipped(screen_bundle: Any) -> None:
    wrong = observation("hb", "718-7", valueQuantity=quantity(5, "g/dL"))
    wrong["status"] = "entered-in-error"
    assert screen_bundle(wrong).criterion("I7").verdict == "unknown"


def test_something_else_than_a_bundle_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_bundle(patient())
    assert raised.value.field == "resourceType"
    assert "expected a FHIR Bundle, found 'Patient'" in raised.value.message


def test_a_bundle_with_two_patients_is_refused() -> None:
    with pytest.raises(InvalidInput, match="one patient"):
        read_bundle(bundle(patient(), {**patient(), "id": "p2"}))


def test_a_bundle_without_a_patient_makes_age_and_sex_unknown(screen_bundle: Any) -> None:
    result = screen_bundle(observation("hb", "718-7", valueQuantity=quantity(9, "g/dL")), with_patient=False)
    assert result.criterion("I6").verdict == "unknown"
    assert result.criterion("I6").reason == "Bundle.entry: the Bundle has no Patient resource"
    assert result.criterion("I7").verdict == "met"


def test_an_observation_without_a_value_makes_its_criterion_unknown(screen_bundle: Any) -> None:
    result = screen_bundle(observation("hb", "718-7", dataAbsentReason={"text": "haemolysed"}))
    assert result.criterion("I7").verdict == "unknown"
    assert (
        result.criterion("I7").reason
        == "Observation/hb: Observation has no value[x] (dataAbsentReason given)"
    )


def test_a_negative_lab_value_is_named_with_its_resource(screen_bundle: Any) -> None:
    reason = (
        screen_bundle(observation("alt", "1742-6", valueQuantity=quantity(-4, "U/L"))).criterion("I8d").reason
    )
    assert "Observation/alt.value: a negative value (-4) is not a valid alt" in reason


def test_a_malformed_quantity_is_named_with_its_element(screen_bundle: Any) -> None:
    reason = (
        screen_bundle(observation("hb", "718-7", valueQuantity=quantity("high", "g/dL")))
        .criterion("I7")
        .reason
    )
    assert reason.startswith("Observation/hb.valueQuantity: value:")


def test_an_observation_dated_after_the_screening_date_is_unknown(screen_bundle: Any) -> None:
    result = screen_bundle(observation("hb", "718-7", day="2025-07-03", valueQuantity=quantity(9, "g/dL")))
    assert "after the screening date" in result.criterion("I7").reason


def test_a_malformed_date_is_named(screen_bundle: Any) -> None:
    result = screen_bundle(observation("hb", "718-7", day="28/06/2025", valueQuantity=quantity(9, "g/dL")))
    assert result.criterion("I7").verdict == "unknown"
    assert result.criterion("I7").reason.startswith("Observation/hb.effectiveDateTime: '28/06/2025'")


def test_the_same_patient_gets_the_same_verdicts_from_the_form_and_from_a_bundle(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    screening = read_form(eligible_form)
    from_form = evaluate(screening.facts, rules, settings, ON, screening.judgments)
    from_bundle = evaluate(
        read_bundle(facts_to_bundle(screening.facts)), rules, settings, ON, screening.judgments
    )
    assert from_bundle.verdicts() == from_form.verdicts()
    assert from_bundle.decision == "eligible"


def test_a_hemoglobin_that_is_not_a_finite_number_is_unknown_with_its_reason(screen_bundle: Any) -> None:
    """Python's JSON reader accepts NaN and Infinity; neither is a measured value."""
    for value in (float("nan"), float("inf")):
        result = screen_bundle(observation("hb", "718-7", valueQuantity=quantity(value, "g/dL")))
        criterion = result.criterion("I7")
        assert criterion.verdict == "unknown"
        assert criterion.reason.startswith("Observation/hb.valueQuantity: value")
        assert result.to_json()["decision"] == "incomplete"


def test_a_unit_with_a_zero_scale_is_unknown_not_a_crash(screen_bundle: Any) -> None:
    result = screen_bundle(observation("hb", "718-7", valueQuantity=quantity(68, "0")))
    criterion = result.criterion("I7")
    assert criterion.verdict == "unknown"
    assert "is not a unit" in criterion.reason


def test_a_coded_answer_with_a_null_coding_list_is_read_without_a_crash(screen_bundle: Any) -> None:
    answer = observation("ecog", "89247-1", valueCodeableConcept={"coding": None})
    result = screen_bundle(answer)
    assert result.criterion("I5").verdict == "unknown"


def _read_hemoglobin(**hemoglobin: Any) -> Fact:
    """The hemoglobin fact read from a Bundle holding one hemoglobin Observation."""
    return read_bundle(bundle(patient(), observation("hb", "718-7", **hemoglobin))).facts["hemoglobin"][0]


@pytest.mark.parametrize(
    "spelling",
    [
        "2025-06-28",
        "2025-06-28T09:30:00Z",
        "2025-06-28T23:30:00.123456-05:00",
        "2025-06-28T09:30:00+14:00",
        "2024-02-29",
        "2025-02-29",
        "2025-13-01",
        "2025-06-28T24:00:00Z",
        "2025-06-28T09:30:00",
        "2025-06-28T09:30:00+15:00",
        "2025-06-28T09:30:60Z",
        "2025-06-28T09:30:00.1234567Z",
        "0999-01-01",
        "2025-06",
        "28/06/2025",
    ],
)
def test_an_observation_date_is_read_as_fhir_validates_it(spelling: str) -> None:
    """The usual spellings are read without FHIR's validation, with the day it would give."""
    fact = _read_hemoglobin(day=spelling, valueQuantity=quantity(9, "g/dL"))
    try:
        validated = TypeAdapter(DateTimeType).validate_python(spelling)
    except ValidationError:
        assert fact.date is None
        assert fact.problem is not None
        assert fact.problem.startswith(
            f"Observation/hb.effectiveDateTime: {spelling!r} is not a FHIR dateTime"
        )
        return
    expected = validated.date() if isinstance(validated, datetime) else validated
    assert fact.date == (expected if isinstance(expected, date) else None)


@pytest.mark.parametrize(
    "birth", ["1990-05-01", "1990-02-29", "1990-05-01T00:00:00Z", "1990-05", "0999-01-01", "19900501"]
)
def test_a_birth_date_is_read_as_fhir_validates_a_date(birth: str) -> None:
    facts = read_bundle(bundle(patient(birth=birth)))
    assert facts.birth_date is not None
    try:
        expected = TypeAdapter(DateType).validate_python(birth)
    except ValidationError:
        assert facts.birth_date.date is None
        assert (facts.birth_date.problem or "").startswith(
            f"Patient/p1.birthDate: {birth!r} is not a FHIR date"
        )
        return
    assert facts.birth_date.date == (expected if isinstance(expected, date) else None)


@pytest.mark.parametrize(
    "element",
    [
        quantity(9.4, "g/dL"),
        quantity(-0.0, "g/dL"),
        quantity(10**30, "g/dL"),
        quantity(1e300, "g/dL"),
        quantity(True, "g/dL"),
        quantity("9.4", "g/dL"),
        quantity(None, "g/dL"),
        {**quantity(9.4, "g/dL"), "comparator": "<"},
        {**quantity(9.4, "g/dL"), "comparator": "~"},
        {**quantity(9.4, "g/dL"), "code": "g /dL"},
        {**quantity(9.4, "g/dL"), "code": ""},
        {**quantity(9.4, "g/dL"), "unit": 7},
        {**quantity(9.4, "g/dL"), "system": "not a uri"},
        {**quantity(9.4, "g/dL"), "extra": 1},
        {**quantity(9.4, "g/dL"), "_value": {"extension": []}},
        {"value": 9.4},
        "9.4 g/dL",
    ],
)
def test_a_quantity_is_accepted_or_refused_as_fhir_validates_it(element: Any) -> None:
    """Twice, so that an element read again (its unit, system and code remembered) reads the same."""
    for _ in range(2):
        fact = _read_hemoglobin(valueQuantity=element)
        try:
            Quantity.model_validate(element)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function"))
            message = f"{where}: {first['msg']}" if where else first["msg"]
            assert fact.problem == f"Observation/hb.valueQuantity: {message}"
        else:
            assert fact.problem is None or "valueQuantity:" not in fact.problem
