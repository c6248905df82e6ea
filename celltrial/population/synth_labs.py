"""The measurements and local disease facts of :mod:`celltrial.population.synth`.

Each laboratory test is drawn for the patients who had it, ``count`` results each, dated in the
``days`` before the data cut, in the units a laboratory reports (UCUM), with the laboratory's
upper limit of normal in ``range_high`` for 70 % of results. Codes come from the eligibility
fact catalogue, so the synthetic data use the codes the rules read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from celltrial.eligibility.facts import fact_catalogue

__all__ = ["labs", "local_facts", "serologies"]

Array = np.ndarray[Any, Any]
NextIds = Callable[[str, int], Array]
NAT = np.datetime64("NaT")


class _Concepts(Protocol):
    def id(self, vocabulary: str, code: str, name: str = "", domain: str = "Measurement") -> int: ...


class _Rows(Protocol):
    def add(self, **columns: Any) -> None: ...


def _unit_id(concepts: _Concepts, unit: str) -> int:
    return concepts.id("UCUM", unit, unit, "Unit")


def _measure(
    rng: np.random.Generator,
    who: Array,
    cut: np.datetime64,
    rows: _Rows,
    next_ids: NextIds,
    *,
    concept_id: int,
    values: Array,
    unit: str | None,
    unit_id: int,
    days: int,
    uln: float | None = None,
    answer: Array | None = None,
) -> None:
    n = len(who)
    if not n:
        return
    ulns = np.where(rng.random(n) < 0.7, uln, np.nan) if uln is not None else np.full(n, np.nan)
    unit_ids = np.full(n, unit_id, np.int64)
    unit_src = np.full(n, unit, object)
    noise = rng.random(n)
    unit_ids = np.where(noise < 0.003, 0, unit_ids)  # unit missing at the source
    unit_src[noise < 0.003] = None
    values = np.where((noise >= 0.003) & (noise < 0.005), np.nan, values)  # value missing
    rows.add(
        measurement_id=next_ids("m", n),
        person_id=who,
        measurement_concept_id=np.full(n, concept_id, np.int64),
        measurement_date=cut - rng.integers(0, days, n).astype("timedelta64[D]"),
        value_as_number=values,
        value_as_concept_id=answer if answer is not None else np.zeros(n, np.int64),
        unit_concept_id=unit_ids,
        unit_source_value=unit_src,
        range_high=ulns,
    )


def _who(rng: np.random.Generator, ids: Array, share: float, count: int) -> Array:
    return np.repeat(ids[rng.random(len(ids)) < share], count)


def _lab_concept(concepts: _Concepts, fact: str, index: int = 0) -> int:
    definition = fact_catalogue().facts[fact]
    return concepts.id("LOINC", definition.loinc[index], definition.text)


def labs(
    rng: np.random.Generator,
    ids: Array,
    cut: np.datetime64,
    age: Array,
    male: Array,
    concepts: _Concepts,
    rows: _Rows,
    next_ids: NextIds,
) -> None:
    """Haemoglobin, creatinine, bilirubin, ALT, AST, SpO2, LVEF and ECOG."""
    common: dict[str, Any] = {"cut": cut, "rows": rows, "next_ids": next_ids}
    who = _who(rng, ids, 0.97, 4)
    hb = np.clip(rng.normal(105, 22, len(who)), 40, 190)
    in_gdl = rng.random(len(who)) < 0.6
    odd = rng.random(len(who)) < 0.002  # reported in mmol/L: not convertible without a molar mass
    hb_id = _lab_concept(concepts, "hemoglobin")
    for mask, unit, values, uln in (
        (in_gdl & ~odd, "g/dL", np.round(hb / 10, 1), 16.0),
        (~in_gdl & ~odd, "g/L", np.round(hb), 160.0),
        (odd, "mmol/L", np.round(hb * 0.06206, 1), 9.9),
    ):
        _measure(
            rng,
            who[mask],
            concept_id=hb_id,
            values=values[mask],
            unit=unit,
            unit_id=_unit_id(concepts, unit),
            days=60,
            uln=uln,
            **common,
        )
    who = _who(rng, ids, 0.95, 3)
    creatinine = rng.lognormal(np.log(0.9), 0.35, len(who)) * np.where(rng.random(len(who)) < 0.05, 2.5, 1.0)
    si = rng.random(len(who)) < 0.25
    _measure(
        rng,
        who[~si],
        concept_id=_lab_concept(concepts, "creatinine"),
        values=np.round(creatinine[~si], 2),
        unit="mg/dL",
        unit_id=_unit_id(concepts, "mg/dL"),
        days=60,
        uln=1.1,
        **common,
    )
    _measure(
        rng,
        who[si],
        concept_id=_lab_concept(concepts, "creatinine", 2),
        values=np.round(creatinine[si] * 88.4),
        unit="umol/L",
        unit_id=_unit_id(concepts, "umol/L"),
        days=60,
        uln=97.0,
        **common,
    )
    for fact, median, sigma, unit, uln in (
        ("total_bilirubin", 0.6, 0.5, "mg/dL", 1.2),
        ("alt", 25.0, 0.6, "U/L", 40.0),
        ("ast", 24.0, 0.5, "U/L", 40.0),
    ):
        who = _who(rng, ids, 0.93, 3)
        values = np.round(rng.lognormal(np.log(median), sigma, len(who)), 1)
        _measure(
            rng,
            who,
            concept_id=_lab_concept(concepts, fact),
            values=values,
            unit=unit,
            unit_id=_unit_id(concepts, unit),
            days=60,
            uln=uln,
            **common,
        )
    who = _who(rng, ids, 0.9, 2)
    spo2 = np.round(np.clip(100 - rng.lognormal(np.log(3), 0.6, len(who)), 70, 100), 1)
    pulse = rng.random(len(who)) < 0.8
    for mask, index in ((pulse, 0), (~pulse, 1)):
        _measure(
            rng,
            who[mask],
            concept_id=_lab_concept(concepts, "oxygen_saturation", index),
            values=spo2[mask],
            unit="%",
            unit_id=_unit_id(concepts, "%"),
            days=60,
            **common,
        )
    who = _who(rng, ids, 0.5, 1)
    lvef = np.round(np.clip(rng.normal(60, 7, len(who)), 20, 80))
    _measure(
        rng,
        who,
        concept_id=_lab_concept(concepts, "lvef"),
        values=lvef,
        unit="%",
        unit_id=_unit_id(concepts, "%"),
        days=90,
        **common,
    )
    _ecog(rng, ids, concepts, common)


def _ecog(rng: np.random.Generator, ids: Array, concepts: _Concepts, common: dict[str, Any]) -> None:
    who = _who(rng, ids, 0.85, 1)
    score = rng.choice(5, size=len(who), p=[0.3, 0.35, 0.2, 0.1, 0.05])
    coded = rng.random(len(who)) < 0.2  # recorded as the LOINC answer (LA9622-7 ... LA9626-8)
    answers = np.array(
        [concepts.id("LOINC", code, f"ECOG {i}", "Meas Value") for i, code in enumerate(ECOG_ANSWERS)],
        np.int64,
    )
    concept_id = _lab_concept(concepts, "ecog")
    unit_id = _unit_id(concepts, "{score}")
    _measure(
        rng,
        who[~coded],
        concept_id=concept_id,
        values=score[~coded].astype(float),
        unit="{score}",
        unit_id=unit_id,
        days=30,
        **common,
    )
    _measure(
        rng,
        who[coded],
        concept_id=concept_id,
        values=np.full(int(coded.sum()), np.nan),
        unit=None,
        unit_id=0,
        days=30,
        answer=answers[score[coded]],
        **common,
    )


ECOG_ANSWERS = ("LA9622-7", "LA9623-5", "LA9624-3", "LA9625-0", "LA9626-8", "LA9627-6")
POSITIVE, NEGATIVE, DETECTED, NOT_DETECTED = "10828004", "260385009", "260373001", "260415000"


def _answer_ids(concepts: _Concepts, codes: tuple[str, str]) -> tuple[int, int]:
    yes, no = codes
    return concepts.id("SNOMED", yes, yes, "Meas Value"), concepts.id("SNOMED", no, no, "Meas Value")


def serologies(
    rng: np.random.Generator,
    ids: Array,
    cut: np.datetime64,
    age: Array,
    male: Array,
    concepts: _Concepts,
    rows: _Rows,
    next_ids: NextIds,
) -> None:
    """HBV DNA, HCV antibody and RNA, HIV and syphilis tests; pregnancy tests in women of 12-55."""
    common: dict[str, Any] = {"cut": cut, "rows": rows, "next_ids": next_ids}
    who = _who(rng, ids, 0.35, 1)
    viraemic = rng.random(len(who)) < 0.08
    dna = np.where(viraemic, np.round(rng.lognormal(np.log(2000), 2.0, len(who))), 0.0)
    _measure(
        rng,
        who,
        concept_id=_lab_concept(concepts, "hbv_dna"),
        values=dna,
        unit="[IU]/mL",
        unit_id=_unit_id(concepts, "[IU]/mL"),
        days=60,
        **common,
    )
    positive_id, negative_id = _answer_ids(concepts, (POSITIVE, NEGATIVE))
    detected_id, not_detected_id = _answer_ids(concepts, (DETECTED, NOT_DETECTED))
    for fact, share, rate, days, eligible in (
        ("hcv_antibody", 0.35, 0.04, 60, np.ones(len(ids), bool)),
        ("hiv_test", 0.35, 0.005, 60, np.ones(len(ids), bool)),
        ("syphilis_test", 0.3, 0.01, 60, np.ones(len(ids), bool)),
        ("pregnancy_test", 0.4, 0.02, 20, (~male) & (age >= 12) & (age <= 55)),
    ):
        who = _who(rng, ids[eligible], share, 1)
        hit = rng.random(len(who)) < rate
        answer = np.where(hit, positive_id, negative_id).astype(np.int64)
        _measure(
            rng,
            who,
            concept_id=_lab_concept(concepts, fact),
            values=np.full(len(who), np.nan),
            unit=None,
            unit_id=0,
            days=days,
            answer=answer,
            **common,
        )
        if fact == "hcv_antibody":
            carriers = who[hit]
            rna = np.where(rng.random(len(carriers)) < 0.6, detected_id, not_detected_id).astype(np.int64)
            _measure(
                rng,
                carriers,
                concept_id=_lab_concept(concepts, "hcv_rna"),
                values=np.full(len(carriers), np.nan),
                unit=None,
                unit_id=0,
                days=days,
                answer=rna,
                **common,
            )


def local_facts(
    rng: np.random.Generator,
    ids: Array,
    cut: np.datetime64,
    diagnosis: Array,
    concepts: _Concepts,
    rows: _Rows,
    next_ids: NextIds,
) -> None:
    """The disease facts a haematology service records in its local (``celltrial``) vocabulary."""
    recorded = rng.random(len(ids)) < 0.7
    who = ids[recorded]
    n = len(who)
    catalogue = fact_catalogue().facts

    def add(
        fact: str, *, text: Array | None = None, number: Array | None = None, unit: str | None = None
    ) -> None:
        code = catalogue[fact].celltrial
        assert code is not None
        rows.add(
            observation_id=next_ids("o", n),
            person_id=who,
            observation_concept_id=np.full(
                n, concepts.id("celltrial", code, catalogue[fact].text, "Observation")
            ),
            observation_date=cut - rng.integers(0, 45, n).astype("timedelta64[D]"),
            value_as_number=number if number is not None else np.full(n, np.nan),
            value_as_string=text if text is not None else np.full(n, None, object),
            value_as_concept_id=np.zeros(n, np.int64),
            unit_concept_id=np.full(n, _unit_id(concepts, unit) if unit else 0, np.int64),
            unit_source_value=np.full(n, unit, object),
        )

    def pick(values: tuple[str, ...], shares: tuple[float, ...]) -> Array:
        return np.array(values, object)[rng.choice(len(values), size=n, p=shares)]

    add("diagnosis", text=diagnosis[recorded].astype(object))
    add("disease_status", text=pick(("relapsed", "refractory", "remission"), (0.35, 0.25, 0.4)))
    add("prior_therapy_courses", number=rng.poisson(1.8, n).astype(float))
    add("induction_courses", number=rng.poisson(1.6, n).astype(float))
    add("prior_complete_remission", text=pick(("yes", "no"), (0.55, 0.45)))
    add("bone_marrow_blasts", number=np.round(np.clip(rng.lognormal(np.log(8), 1.2, n), 0, 100), 1), unit="%")
    add("cd7_bone_marrow_flow", text=pick(("positive", "negative"), (0.65, 0.35)))
    tumour = np.where(
        rng.random(n) < 0.4, 0.0, np.round(np.clip(rng.lognormal(np.log(3), 1.3, n), 0, 100), 1)
    )
    add("peripheral_blood_tumor_cells", number=tumour, unit="%")
    add("peripheral_blood_tumor_cd4_cd8_negative", text=pick(("yes", "no"), (0.5, 0.5)))
