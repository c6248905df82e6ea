"""The words of adverse-event reporting, and one adverse event as the safety analyses read it.

Sources:

* seriousness criteria — ICH E2A (1994), section II.B "Serious adverse event or adverse drug
  reaction": results in death, is life-threatening, requires or prolongs hospitalisation,
  results in persistent or significant disability, is a congenital anomaly, or is another
  important medical event;
* relatedness — the five-level scale of the CRF (not related, unlikely, possible, probable,
  definite); ICH E2A's "reasonable possibility" of a causal relationship is read as possible or
  more, so a *suspected* reaction is one rated possible, probable or definite;
* system organ classes — the 26 SOCs of CTCAE v5.0 (the MedDRA SOCs CTCAE uses);
* adverse events of special interest of CD7 CAR-T therapy — CRS and ICANS (ASTCT, Lee et al.
  2019), immune effector cell-associated HLH-like syndrome (IEC-HS; Hines et al., Transplant
  Cell Ther 2023;29:438), prolonged cytopenia (present after day 28), infections, T-cell
  aplasia, GVHD, tumour lysis syndrome and secondary malignancy (FDA guidance on long-term
  follow-up after gene therapy, 2020).

Pure: no database, no clock.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "HAEMATOLOGICAL_INVESTIGATIONS",
    "SYSTEM_ORGAN_CLASSES",
    "ActionTaken",
    "AdverseEventFacts",
    "Aesi",
    "Outcome",
    "Relatedness",
    "Seriousness",
]


class Relatedness(StrEnum):
    """Causal relationship to a treatment, five levels."""

    NOT_RELATED = "not_related"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"

    @property
    def suspected(self) -> bool:
        """A reasonable possibility of a causal relationship (ICH E2A): possible or more."""
        return self in {Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE}


class Seriousness(StrEnum):
    """The ICH E2A seriousness criteria."""

    DEATH = "death"
    LIFE_THREATENING = "life_threatening"
    HOSPITALISATION = "hospitalisation"
    DISABILITY = "disability"
    CONGENITAL_ANOMALY = "congenital_anomaly"
    IMPORTANT_MEDICAL_EVENT = "important_medical_event"


class Outcome(StrEnum):
    """Outcome of the adverse event."""

    RECOVERED = "recovered"
    RECOVERING = "recovering"
    NOT_RECOVERED = "not_recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"


class ActionTaken(StrEnum):
    """What was done for the event (the CAR-T product is a single infusion, rarely 'withdrawn')."""

    NONE = "none"
    TOCILIZUMAB = "tocilizumab"
    CORTICOSTEROIDS = "corticosteroids"
    ANAKINRA = "anakinra"
    ICU_ADMISSION = "icu_admission"
    OTHER = "other"


class Aesi(StrEnum):
    """Adverse events of special interest of CD7 CAR-T therapy."""

    CRS = "crs"
    ICANS = "icans"
    IEC_HS = "iec_hs"  # immune effector cell-associated HLH-like syndrome / HLH
    PROLONGED_CYTOPENIA = "prolonged_cytopenia"  # present after day 28
    INFECTION = "infection"
    T_CELL_APLASIA = "t_cell_aplasia"
    GVHD = "gvhd"
    TLS = "tls"  # tumour lysis syndrome
    SECONDARY_MALIGNANCY = "secondary_malignancy"


SYSTEM_ORGAN_CLASSES = (
    "Blood and lymphatic system disorders",
    "Cardiac disorders",
    "Congenital, familial and genetic disorders",
    "Ear and labyrinth disorders",
    "Endocrine disorders",
    "Eye disorders",
    "Gastrointestinal disorders",
    "General disorders and administration site conditions",
    "Hepatobiliary disorders",
    "Immune system disorders",
    "Infections and infestations",
    "Injury, poisoning and procedural complications",
    "Investigations",
    "Metabolism and nutrition disorders",
    "Musculoskeletal and connective tissue disorders",
    "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
    "Nervous system disorders",
    "Pregnancy, puerperium and perinatal conditions",
    "Psychiatric disorders",
    "Renal and urinary disorders",
    "Reproductive system and breast disorders",
    "Respiratory, thoracic and mediastinal disorders",
    "Skin and subcutaneous tissue disorders",
    "Social circumstances",
    "Surgical and medical procedures",
    "Vascular disorders",
)
"""The 26 system organ classes of CTCAE v5.0."""

HAEMATOLOGICAL_SOC = "Blood and lymphatic system disorders"
HAEMATOLOGICAL_INVESTIGATIONS = frozenset(
    {
        "cd4 lymphocytes decreased",
        "hemoglobin increased",
        "lymphocyte count decreased",
        "lymphocyte count increased",
        "neutrophil count decreased",
        "platelet count decreased",
        "white blood cell decreased",
    }
)
"""CTCAE v5.0 'Investigations' terms that are blood counts (lower case)."""


class AdverseEventFacts(BaseModel):
    """One adverse event as the DLT rules and the DSMB tables read it.

    ``resolved_on`` is the day the event ended or fell below its grade (a continuation at a
    lower grade is a new record); None while ongoing. For a fatal event it is the day of death.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_id: int
    term: str = Field(min_length=1)
    soc: str
    grade: int = Field(ge=1, le=5)
    onset: date
    resolved_on: date | None = None
    serious: bool = False
    seriousness: frozenset[Seriousness] = frozenset()
    related_to_cart: Relatedness = Relatedness.NOT_RELATED
    related_to_lymphodepletion: Relatedness = Relatedness.NOT_RELATED
    outcome: Outcome = Outcome.UNKNOWN
    aesi: frozenset[Aesi] = frozenset()
    event_id: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AdverseEventFacts:
        if self.resolved_on is not None and self.resolved_on < self.onset:
            raise ValueError(f"resolved on {self.resolved_on}, before the onset {self.onset}")
        return self

    @property
    def fatal(self) -> bool:
        """Grade 5 or outcome fatal."""
        return self.grade == 5 or self.outcome is Outcome.FATAL

    @property
    def death_date(self) -> date | None:
        """The day of death for a fatal event (its end date, else its onset)."""
        return (self.resolved_on or self.onset) if self.fatal else None

    @property
    def treatment_related(self) -> bool:
        """Suspected to be caused by the CAR-T cells or by the lymphodepletion."""
        return self.related_to_cart.suspected or self.related_to_lymphodepletion.suspected

    @property
    def haematological(self) -> bool:
        """A blood-count toxicity: haematological SOC, blood-count investigation or cytopenia AESI."""
        return (
            self.soc == HAEMATOLOGICAL_SOC
            or self.term.strip().lower() in HAEMATOLOGICAL_INVESTIGATIONS
            or bool(self.aesi & {Aesi.PROLONGED_CYTOPENIA, Aesi.T_CELL_APLASIA})
        )
