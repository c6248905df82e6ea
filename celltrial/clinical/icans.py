"""Immune effector cell-associated neurotoxicity syndrome (ICANS) grade by the ASTCT consensus.

Source: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25:625–638 — the ICE (immune effector cell-associated encephalopathy) score
and the ASTCT ICANS consensus grading for adults, with its footnotes:

* ICE score (10 points): orientation to year, month, city, hospital (4); naming three objects
  (3); following simple commands (1); writing a standard sentence (1); attention, counting
  backwards from 100 by 10 (1). ICE 10 is normal; 7–9 grade 1; 3–6 grade 2; 0–2 grade 3;
  0 because the patient is unarousable and cannot perform ICE, grade 4;
* a patient with ICE 0 who is awake (e.g. global aphasia) is grade 3; unarousable, grade 4;
* depressed level of consciousness (attributable to no other cause, e.g. no sedating medication):
  awakens spontaneously 1; awakens to voice 2; awakens only to tactile stimulus 3; unarousable,
  needs vigorous or repetitive tactile stimuli, stupor or coma 4;
* seizure: any clinical seizure that resolves rapidly or non-convulsive seizures on EEG that
  resolve with intervention 3; life-threatening prolonged (> 5 min) or repetitive seizures
  without return to baseline in between 4;
* motor findings: deep focal motor weakness such as hemiparesis or paraparesis 4 (tremor and
  myoclonus are graded by CTCAE and do not change the ICANS grade);
* raised intracranial pressure / cerebral oedema: focal/local oedema on neuroimaging 3 (not
  intracranial haemorrhage); diffuse cerebral oedema, decerebrate or decorticate posturing,
  cranial nerve VI palsy, papilledema or Cushing's triad 4;
* grade 5: death due to ICANS; the grade is the most severe domain.

Children aged 12 years or younger (``capd_max_age_years``, a protocol setting) are graded by the
consensus' table for children (Lee et al. 2019, ASTCT ICANS consensus grading for children), in
which the Cornell Assessment of Pediatric Delirium (CAPD; Traube C et al., Crit Care Med
2014;42:656–663: eight items scored 0–4, total 0–32, a total of 9 or more screens positive for
delirium) takes the place of ICE in the encephalopathy domain:

* CAPD 1–8: grade 1 (and grade 2; the level of consciousness tells them apart); CAPD >= 9:
  grade 3; unable to perform CAPD: grade 4 (CAPD 0 is no encephalopathy);
* depressed level of consciousness, seizures, motor findings and raised intracranial pressure /
  cerebral oedema are graded as for adults; grade 5 is death due to ICANS.

The table's text was checked against two public restatements (MDedge's report of the consensus,
"Group proposes new grading systems for CRS, neurotoxicity"; NCI Thesaurus C188936, grade 1 ICANS:
"CAPD score of less than 9 (for children 12 and under)"). CAPD is an observational screen a child
can no longer be given once only touch (or nothing) rouses them, so ``capd_score`` may be null
("unable to perform CAPD", grade 4 as the table says) only with such a level of consciousness.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from celltrial.errors import InvalidInput

__all__ = [
    "CAPD_MAX_AGE_YEARS",
    "CAPD_MAX_SCORE",
    "ICANS_CHILD_SOURCE",
    "ICANS_SOURCE",
    "ICE_MAX_SCORE",
    "CerebralEdema",
    "Consciousness",
    "IcansAssessment",
    "IcansGrade",
    "Seizure",
    "grade_icans",
    "parse_icans_assessment",
]

ICANS_SOURCE = (
    "ASTCT consensus ICANS grading for adults, ICE score "
    "(Lee et al., Biol Blood Marrow Transplant 2019;25:625-638)"
)
ICANS_CHILD_SOURCE = (
    "ASTCT consensus ICANS grading for children aged 12 or younger, CAPD score "
    "(Lee et al., Biol Blood Marrow Transplant 2019;25:625-638; Traube et al., Crit Care Med 2014;42:656)"
)
ICE_MAX_SCORE = 10
CAPD_MAX_SCORE = 32
CAPD_DELIRIUM_SCORE = 9
CAPD_MAX_AGE_YEARS = 12
_MAX_AGE_YEARS = 130


class Consciousness(StrEnum):
    """Level of consciousness, not attributable to any other cause."""

    NORMAL = "normal"
    AWAKENS_SPONTANEOUSLY = "awakens_spontaneously"
    AWAKENS_TO_VOICE = "awakens_to_voice"
    AWAKENS_TO_TACTILE = "awakens_to_tactile"
    UNAROUSABLE = "unarousable"  # or vigorous/repetitive tactile stimuli needed, stupor, coma


class Seizure(StrEnum):
    """Seizures as the consensus grades them."""

    NONE = "none"
    RESOLVED_RAPIDLY = "resolved_rapidly"
    NONCONVULSIVE_ON_EEG_RESOLVED = "nonconvulsive_on_eeg_resolved"
    PROLONGED_OR_REPETITIVE = "prolonged_or_repetitive"


class CerebralEdema(StrEnum):
    """Raised intracranial pressure / cerebral oedema."""

    NONE = "none"
    FOCAL = "focal"
    DIFFUSE_OR_SIGNS = "diffuse_or_signs"  # or posturing, CN VI palsy, papilledema, Cushing's triad


_CONSCIOUSNESS_GRADE = {
    Consciousness.NORMAL: 0,
    Consciousness.AWAKENS_SPONTANEOUSLY: 1,
    Consciousness.AWAKENS_TO_VOICE: 2,
    Consciousness.AWAKENS_TO_TACTILE: 3,
    Consciousness.UNAROUSABLE: 4,
}
_CONSCIOUSNESS_TEXT = {
    Consciousness.AWAKENS_SPONTANEOUSLY: "depressed consciousness: awakens spontaneously",
    Consciousness.AWAKENS_TO_VOICE: "depressed consciousness: awakens to voice",
    Consciousness.AWAKENS_TO_TACTILE: "depressed consciousness: awakens only to tactile stimulus",
    Consciousness.UNAROUSABLE: "unarousable, stupor or coma",
}
_SEIZURE_GRADE = {
    Seizure.NONE: 0,
    Seizure.RESOLVED_RAPIDLY: 3,
    Seizure.NONCONVULSIVE_ON_EEG_RESOLVED: 3,
    Seizure.PROLONGED_OR_REPETITIVE: 4,
}
_SEIZURE_TEXT = {
    Seizure.RESOLVED_RAPIDLY: "clinical seizure that resolved rapidly",
    Seizure.NONCONVULSIVE_ON_EEG_RESOLVED: "non-convulsive seizures on EEG that resolved with intervention",
    Seizure.PROLONGED_OR_REPETITIVE: "prolonged (> 5 min) or repetitive seizures without return to baseline",
}
_EDEMA_GRADE = {CerebralEdema.NONE: 0, CerebralEdema.FOCAL: 3, CerebralEdema.DIFFUSE_OR_SIGNS: 4}
_EDEMA_TEXT = {
    CerebralEdema.FOCAL: "focal/local edema on neuroimaging",
    CerebralEdema.DIFFUSE_OR_SIGNS: "diffuse cerebral edema or signs of raised intracranial pressure",
}
# ICE may be left out only when the patient cannot be woken enough to perform it.
_ICE_NOT_POSSIBLE = {Consciousness.AWAKENS_TO_TACTILE, Consciousness.UNAROUSABLE}


class IcansAssessment(BaseModel):
    """One ICANS assessment: the inputs of the ASTCT ICANS grade (the CLI's JSON contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    age_years: StrictInt = Field(ge=0, le=_MAX_AGE_YEARS)
    ice_score: StrictInt | None = Field(
        default=None, ge=0, le=ICE_MAX_SCORE, description="null: patient cannot perform ICE (adults)"
    )
    capd_score: StrictInt | None = Field(
        default=None,
        ge=0,
        le=CAPD_MAX_SCORE,
        description="children: CAPD total 0-32; null: unable to perform CAPD",
    )
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: StrictBool = Field(description="deep focal motor weakness (hemiparesis, paraparesis)")
    cerebral_edema: CerebralEdema
    death_due_to_icans: StrictBool


class IcansGrade(BaseModel):
    """The ASTCT ICANS grade (0 = no ICANS), the domains that set it, and the source."""

    model_config = ConfigDict(frozen=True)

    grade: int = Field(ge=0, le=5)
    drivers: tuple[str, ...]
    source: str = ICANS_SOURCE


def parse_icans_assessment(data: object) -> IcansAssessment:
    """Validate raw JSON into an :class:`IcansAssessment`; the error names the first bad field."""
    if not isinstance(data, dict):
        raise InvalidInput("an ICANS assessment must be a JSON object", field="$")
    try:
        return IcansAssessment.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "$"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a field of this assessment"
        raise InvalidInput(message, field=where) from None


def grade_icans(assessment: IcansAssessment, *, capd_max_age_years: int = CAPD_MAX_AGE_YEARS) -> IcansGrade:
    """Grade ICANS by the ASTCT consensus (Lee et al. 2019): ICE for adults, CAPD for children.

    Children are those aged ``capd_max_age_years`` or younger (the consensus: 12). Raises
    :class:`InvalidInput` for contradictory inputs (an ICE score from an unarousable patient; no
    ICE score from a patient awake enough to perform it; ICE for a child or CAPD for an adult;
    "unable to perform CAPD" for a child awake enough to be given it).
    """
    child = assessment.age_years <= capd_max_age_years
    if child:
        _check_child(assessment, capd_max_age_years)
    else:
        _check_consistent(assessment, capd_max_age_years)
    source = ICANS_CHILD_SOURCE if child else ICANS_SOURCE
    if assessment.death_due_to_icans:
        return IcansGrade(grade=5, drivers=("death due to ICANS",), source=source)
    domains = [
        _capd_domain(assessment) if child else _ice_domain(assessment),
        (_CONSCIOUSNESS_GRADE[assessment.consciousness], _CONSCIOUSNESS_TEXT.get(assessment.consciousness)),
        (_SEIZURE_GRADE[assessment.seizure], _SEIZURE_TEXT.get(assessment.seizure)),
        (4 if assessment.motor_weakness else 0, "deep focal motor weakness"),
        (_EDEMA_GRADE[assessment.cerebral_edema], _EDEMA_TEXT.get(assessment.cerebral_edema)),
    ]
    grade = max(domain_grade for domain_grade, _ in domains)
    if grade == 0:
        normal = "CAPD score 0" if child else "ICE score 10"
        return IcansGrade(grade=0, drivers=(f"{normal} and no neurological finding",), source=source)
    drivers = tuple(text for domain_grade, text in domains if domain_grade == grade and text)
    return IcansGrade(grade=grade, drivers=drivers, source=source)


def _capd_domain(assessment: IcansAssessment) -> tuple[int, str | None]:
    score = assessment.capd_score
    if score is None:
        return 4, "unable to perform CAPD"
    if score == 0:
        return 0, None
    if score < CAPD_DELIRIUM_SCORE:
        return 1, f"CAPD score {score} (1-8)"
    return 3, f"CAPD score {score} (>= 9)"


def _check_child(assessment: IcansAssessment, capd_max_age_years: int) -> None:
    if "ice_score" in assessment.model_fields_set and assessment.ice_score is not None:
        raise InvalidInput(
            f"a child aged {capd_max_age_years} years or younger is assessed with CAPD, not ICE: "
            "give capd_score and leave ice_score out (or null)",
            field="ice_score",
        )
    if "capd_score" not in assessment.model_fields_set:
        raise InvalidInput(
            f"is required for a child aged {capd_max_age_years} years or younger "
            "(CAPD total 0-32; null when the child is unable to perform CAPD)",
            field="capd_score",
        )
    if assessment.capd_score is None and assessment.consciousness not in _ICE_NOT_POSSIBLE:
        raise InvalidInput(
            f"a child whose consciousness is {assessment.consciousness.value!r} can be given CAPD: "
            "null ('unable to perform CAPD') only when the child awakens only to tactile stimulus "
            "or is unarousable",
            field="capd_score",
        )


def _ice_domain(assessment: IcansAssessment) -> tuple[int, str | None]:
    score = assessment.ice_score
    if score is None:
        return 0, None  # the consciousness domain grades a patient who cannot perform ICE
    if score == ICE_MAX_SCORE:
        return 0, None
    if score >= 7:
        return 1, f"ICE score {score} (7-9)"
    if score >= 3:
        return 2, f"ICE score {score} (3-6)"
    if score == 0 and assessment.consciousness is Consciousness.UNAROUSABLE:
        return 4, "ICE score 0: unarousable and unable to perform ICE"
    if score == 0:
        return 3, "ICE score 0 while awake (e.g. global aphasia)"
    return 3, f"ICE score {score} (0-2)"


def _check_consistent(assessment: IcansAssessment, capd_max_age_years: int) -> None:
    if assessment.capd_score is not None:
        raise InvalidInput(
            f"CAPD is for children aged {capd_max_age_years} years or younger; "
            f"at {assessment.age_years} ICANS is graded with ICE",
            field="capd_score",
        )
    if "ice_score" not in assessment.model_fields_set:
        raise InvalidInput(
            "is required (use null for ice_score when the patient cannot perform ICE)", field="ice_score"
        )
    score = assessment.ice_score
    if score is None and assessment.consciousness not in _ICE_NOT_POSSIBLE:
        raise InvalidInput(
            f"an ICE score is required when consciousness is {assessment.consciousness.value!r} "
            "(null only when the patient awakens only to tactile stimulus or is unarousable)",
            field="ice_score",
        )
    if score is not None and score > 0 and assessment.consciousness is Consciousness.UNAROUSABLE:
        raise InvalidInput(
            f"an unarousable patient cannot score {score} on ICE (use 0 or null)", field="ice_score"
        )
