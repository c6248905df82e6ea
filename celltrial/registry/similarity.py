"""Related trials by similarity analysis: a text embedding combined with structured overlap.

For a trial q and every other trial t the score is a weighted mean of eight parts, each in [0, 1]
(docs/registry.md explains the choice of parts and weights)::

    score = 0.30 text + 0.30 antigen + 0.20 disease + 0.05 setting + 0.05 product
            + 0.05 platform + 0.03 phase + 0.02 status

- text: cosine of the two all-MiniLM-L6-v2 embeddings of title, conditions, interventions and
  summary (negative cosines count as 0);
- antigen: Jaccard overlap of the target antigens the records name;
- disease: mean of the Jaccard overlaps of the diseases (each with its broader entities: T-ALL
  counts as a T-cell leukaemia and an ALL) and of their families (T-cell malignancy, GI cancer...);
- setting: Jaccard overlap of the disease settings (relapsed/refractory, newly diagnosed,
  consolidation or MRD);
- product: 1 when both records state the same product type (autologous, allogeneic, in vivo);
- platform: 1 when both use the same cell platform (CAR-T, CAR-NK, CAR-γδ T, ...);
- phase: 1 for a shared phase, 0.5 for neighbouring phases (early phase 1 and phase 1), else 0;
- status: 1 when both are open to patients (recruiting, not yet recruiting, enrolling by
  invitation, available) or both are closed.

A part a record does not inform (no antigen named, no phase) contributes 0, never a guess. The
index keeps the unit vectors as one float32 matrix and the structured facts as 0/1 matrices,
so a query is a few matrix-vector products over the whole landscape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from celltrial.errors import NotFound
from celltrial.registry.embedding import DIMENSION
from celltrial.registry.features import disease_ancestors
from celltrial.registry.schemas import RelatedTrial

OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"})
PHASE_ORDER = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4")
PHASE_NAMES = {
    "EARLY_PHASE1": "early phase 1",
    "PHASE1": "phase 1",
    "PHASE2": "phase 2",
    "PHASE3": "phase 3",
    "PHASE4": "phase 4",
}

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Weights:
    """How much each part counts (they sum to 1)."""

    text: float = 0.30
    antigen: float = 0.30
    disease: float = 0.20
    product: float = 0.05
    platform: float = 0.05
    setting: float = 0.05
    phase: float = 0.03
    status: float = 0.02

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class IndexedTrial:
    """What the index needs of one trial."""

    nct_id: str
    title: str
    overall_status: str | None
    phases: tuple[str, ...]
    antigens: tuple[str, ...]
    diseases: tuple[str, ...]
    disease_families: tuple[str, ...]
    product_type: str | None
    platform: str | None
    vector: Matrix | None
    settings: tuple[str, ...] = ()


class _Vocabulary:
    """A 0/1 matrix of which trial has which value, and the value names."""

    def __init__(self, sets: Sequence[Sequence[str]]) -> None:
        self.names = sorted({value for values in sets for value in values})
        index = {name: i for i, name in enumerate(self.names)}
        self.matrix = np.zeros((len(sets), max(1, len(self.names))), dtype=np.float32)
        for row, values in enumerate(sets):
            for value in values:
                self.matrix[row, index[value]] = 1.0
        self.sizes = self.matrix.sum(axis=1)

    def jaccard(self, row: int) -> Matrix:
        shared = self.matrix @ self.matrix[row]
        union = self.sizes + self.sizes[row] - shared
        result: Matrix = np.where(union > 0, shared / np.maximum(union, 1.0), 0.0).astype(np.float32)
        return result

    def shared(self, a: int, b: int) -> list[str]:
        both = np.flatnonzero(self.matrix[a] * self.matrix[b])
        return [self.names[i] for i in both]


@dataclass
class SimilarityIndex:
    """Every trial's embedding and structured facts, ready to rank related trials."""

    trials: list[IndexedTrial]
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        self.position = {t.nct_id: i for i, t in enumerate(self.trials)}
        self.vectors = np.zeros((len(self.trials), DIMENSION), dtype=np.float32)
        for i, trial in enumerate(self.trials):
            if trial.vector is not None:
                self.vectors[i] = trial.vector
        self.antigens = _Vocabulary([t.antigens for t in self.trials])
        self.diseases = _Vocabulary([disease_ancestors(t.diseases) for t in self.trials])
        self.families = _Vocabulary([t.disease_families for t in self.trials])
        self.products = _Vocabulary([[t.product_type] if t.product_type else [] for t in self.trials])
        self.platforms = _Vocabulary([[t.platform] if t.platform else [] for t in self.trials])
        self.phases = _Vocabulary([[p for p in t.phases if p in PHASE_ORDER] for t in self.trials])
        self.settings = _Vocabulary([t.settings for t in self.trials])
        self.open = np.array([t.overall_status in OPEN_STATUSES for t in self.trials], dtype=np.float32)
        self.known_status = np.array([t.overall_status is not None for t in self.trials], dtype=np.float32)
        order = {name: PHASE_ORDER.index(name) for name in self.phases.names if name in PHASE_ORDER}
        size = len(self.phases.names) if self.phases.names else 1
        self.neighbours = np.zeros((size, size), dtype=np.float32)
        for a, ia in order.items():
            for b, ib in order.items():
                if abs(ia - ib) == 1:
                    self.neighbours[self.phases.names.index(a), self.phases.names.index(b)] = 1.0

    def __len__(self) -> int:
        return len(self.trials)

    def components(self, row: int) -> dict[str, Matrix]:
        """Each part of the score of every trial against trial ``row``."""
        phase_matrix = self.phases.matrix
        shared_phase = (phase_matrix @ phase_matrix[row]) > 0
        near_phase = (phase_matrix @ (self.neighbours @ phase_matrix[row])) > 0
        both_known = self.known_status * self.known_status[row]
        same_openness = (self.open == self.open[row]).astype(np.float32) * both_known
        return {
            # einsum, not @: one matrix-vector product is quicker without BLAS starting its threads
            "text": np.clip(np.einsum("ij,j->i", self.vectors, self.vectors[row]), 0.0, 1.0),
            "antigen": self.antigens.jaccard(row),
            "disease": 0.5 * self.diseases.jaccard(row) + 0.5 * self.families.jaccard(row),
            "product": self.products.jaccard(row),
            "platform": self.platforms.jaccard(row),
            "setting": self.settings.jaccard(row),
            "phase": np.where(shared_phase, 1.0, np.where(near_phase, 0.5, 0.0)).astype(np.float32),
            "status": same_openness,
        }

    def scores(self, row: int, parts: dict[str, Matrix] | None = None) -> Matrix:
        """The score of every trial against trial ``row`` (from its parts, when already computed)."""
        parts = parts if parts is not None else self.components(row)
        weights = self.weights.as_dict()
        total: Matrix = sum(
            (weights[name] * value for name, value in parts.items()), np.zeros(len(self), np.float32)
        )
        return total / np.float32(sum(weights.values()))

    def related(self, nct_id: str, *, top: int = 10) -> list[RelatedTrial]:
        """The ``top`` trials most similar to ``nct_id``, best first, each with its reason."""
        row = self.position.get(nct_id)
        if row is None:
            raise NotFound(f"no trial {nct_id} in the registry", field="nct_id")
        parts = self.components(row)
        scores = self.scores(row, parts)
        scores[row] = -np.inf
        count = min(top, len(self) - 1)
        if count <= 0:
            return []
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.lexsort((np.array([self.trials[i].nct_id for i in best]), -scores[best]))]
        return [
            RelatedTrial(
                nct_id=self.trials[i].nct_id,
                title=self.trials[i].title,
                overall_status=self.trials[i].overall_status,
                phases=list(self.trials[i].phases),
                score=round(float(scores[i]), 4),
                reason=self.reason(row, int(i)),
                components={name: round(float(value[i]), 4) for name, value in parts.items()},
            )
            for i in best
        ]

    def reason(self, a: int, b: int) -> str:
        """One line saying what two trials share: "same target antigen CD7; T-ALL; autologous CAR-T"."""
        parts: list[str] = []
        antigens = self.antigens.shared(a, b)
        if antigens:
            same = set(self.trials[a].antigens) == set(self.trials[b].antigens)
            noun = "target antigen" + ("s" if len(antigens) > 1 else "")
            parts.append(f"{'same' if same else 'shared'} {noun} {' and '.join(antigens)}")
        diseases = self.diseases.shared(a, b)
        if diseases:
            broader = {p for name in diseases for p in disease_ancestors([name])[1:]}
            parts.append("/".join(name for name in diseases if name not in broader))
        elif families := self.families.shared(a, b):
            parts.append("/".join(families))
        settings = self.settings.shared(a, b)
        if settings:
            parts.append(", ".join(settings))
        product = self.products.shared(a, b)
        platform = self.platforms.shared(a, b)
        if product or platform:
            parts.append(" ".join([*product, *platform]))
        phases = self.phases.shared(a, b)
        if phases:
            parts.append("/".join(PHASE_NAMES[p] for p in phases).replace("/phase ", "/"))
        if not parts:
            cosine = float(self.vectors[a] @ self.vectors[b])
            parts.append(f"similar description (text similarity {cosine:.2f})")
        return "; ".join(parts)
