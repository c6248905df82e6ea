"""Whatever JSON arrives, the readers and the engine answer with verdicts or celltrial's own errors."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from celltrial.eligibility import EligibilityRules, evaluate, read_bundle, read_form
from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ProtocolSettings

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
fact_names = st.sampled_from(
    ["hemoglobin", "creatinine", "ecog", "diagnosis", "gvhd", "informed_consent_signed"]
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "value": json_values,
        "unit": st.sampled_from(["g/L", "g/dL", "mg/dL", "umol/L", "%", "bogus", ""]) | json_values,
        "date": st.sampled_from(["2025-06-28", "2025-07-09", "2025-13-01", "yesterday"]) | json_values,
        "present": json_values,
        "uln": json_values,
    },
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(facts=st.dictionaries(fact_names, entries | st.lists(entries, max_size=3), max_size=6))
def test_any_form_facts_give_verdicts_or_a_named_error(
    facts: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    form = {"patient": {"birth_date": "1990-01-01", "sex": "female"}, "facts": facts}
    try:
        screening = read_form(form)
    except InvalidInput as error:
        refused: InvalidInput | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.field, refused.message  # a malformed form is refused naming its field
        return
    result = evaluate(screening.facts, rules, settings, date(2025, 7, 1))
    assert result.decision in ("eligible", "ineligible", "incomplete")
    assert all(criterion.reason for criterion in result.criteria)


codes = st.sampled_from(["718-7", "38483-4", "1742-6", "89247-1", "16128-1", "2106-3", "unknown"])
resources = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Observation", "Condition", "Patient", "Encounter"])},
    optional={
        "id": json_values,
        "code": st.builds(lambda code: {"coding": [{"system": "http://loinc.org", "code": code}]}, codes)
        | json_values,
        "valueQuantity": st.fixed_dictionaries({}, optional={"value": json_values, "unit": json_values})
        | json_values,
        "valueCodeableConcept": json_values,
        "valueInteger": json_values,
        "effectiveDateTime": st.sampled_from(["2025-06-28", "2025-06", "not a date"]) | json_values,
        "birthDate": json_values,
        "clinicalStatus": json_values,
        "onsetDateTime": json_values,
        "referenceRange": json_values,
    },
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(st.fixed_dictionaries({"resource": resources}) | json_values, max_size=6))
def test_any_bundle_entries_give_verdicts_or_a_named_error(
    entries: list[Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    try:
        facts = read_bundle({"resourceType": "Bundle", "type": "collection", "entry": entries})
    except InvalidInput as error:
        refused: InvalidInput | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.field, refused.message  # a malformed Bundle is refused naming its field
        return
    result = evaluate(facts, rules, settings, date(2025, 7, 1))
    assert [criterion.id for criterion in result.criteria] == [criterion.id for criterion in rules.criteria]
    assert result.to_json()["decision"] in ("eligible", "ineligible", "incomplete")
