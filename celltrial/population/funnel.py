"""The attrition funnel: patients remaining after each criterion in protocol order.

Counted over the patients alive on the as-of date, from one boolean column per criterion
(``true`` met, ``false`` not met, ``NULL`` unknown). A patient leaves the funnel at the first
criterion that excludes them (an inclusion not met, an exclusion met); an unknown verdict does
not exclude, so ``remaining`` is how many the data do not rule out, and ``confirmed`` how many
the data show to pass every criterion so far. ``failed_alone`` counts, for each criterion on its
own, the patients it excludes whatever the others say; ``failed_only`` those it is the only
reason to exclude.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np

from celltrial.population.source import Columns

__all__ = ["CriterionCount", "Funnel", "Step", "tally", "verdict_combinations"]


@dataclass(frozen=True, slots=True)
class Step:
    criterion: str
    kind: str
    remaining: int
    failed: int
    unknown: int
    confirmed: int


@dataclass(frozen=True, slots=True)
class CriterionCount:
    criterion: str
    kind: str
    met: int
    not_met: int
    unknown: int


@dataclass(frozen=True, slots=True)
class Funnel:
    """The funnel of one prescreen run."""

    total: int
    as_of: date
    deceased: int
    steps: tuple[Step, ...]
    failed_alone: dict[str, int]
    failed_only: dict[str, int]
    criteria: tuple[CriterionCount, ...]
    source: str = ""
    engine: str = ""
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        last = self.steps[-1] if self.steps else None
        return {
            "total": self.total,
            "as_of": self.as_of.isoformat(),
            "steps": [
                {
                    "criterion": s.criterion,
                    "kind": s.kind,
                    "remaining": s.remaining,
                    "failed": s.failed,
                    "unknown": s.unknown,
                    "confirmed": s.confirmed,
                }
                for s in self.steps
            ],
            "failed_alone": dict(self.failed_alone),
            "failed_only": dict(self.failed_only),
            "criteria": [
                {
                    "criterion": c.criterion,
                    "kind": c.kind,
                    "met": c.met,
                    "not_met": c.not_met,
                    "unknown": c.unknown,
                }
                for c in self.criteria
            ],
            "remaining": last.remaining if last else self.total,
            "confirmed": last.confirmed if last else self.total,
            "deceased_before_as_of": self.deceased,
            "source": self.source,
            "engine": self.engine,
            "notes": list(self.notes),
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "criterion",
                "kind",
                "remaining",
                "failed",
                "unknown",
                "confirmed",
                "failed_alone",
                "failed_only",
            ]
        )
        for s in self.steps:
            writer.writerow(
                [s.criterion, s.kind, s.remaining, s.failed, s.unknown, s.confirmed,
                 self.failed_alone[s.criterion], self.failed_only[s.criterion]]
            )  # fmt: skip
        return out.getvalue()

    def figure(self, path: Path) -> None:
        """Write the funnel as a PNG: remaining (not ruled out) and confirmed after each criterion."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        labels = ["alive", *(s.criterion for s in self.steps)]
        remaining = [self.total, *(s.remaining for s in self.steps)]
        confirmed = [self.total, *(s.confirmed for s in self.steps)]
        figure, axes = plt.subplots(figsize=(8, 0.35 * len(labels) + 1.5))
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, remaining, color="#9ecae1", label="not ruled out")
        axes.barh(positions, confirmed, color="#3182bd", label="confirmed by the data")
        for y, value in zip(positions, remaining, strict=True):
            axes.text(value, y, f" {value:,}", va="center", fontsize=8)
        axes.set_yticks(positions, labels)
        axes.set_xlabel("patients")
        axes.set_title(f"Prescreening funnel on {self.as_of.isoformat()} ({self.total:,} patients)")
        axes.legend(loc="lower right", fontsize=8)
        figure.tight_layout()
        figure.savefig(path, dpi=120)
        plt.close(figure)


def verdict_combinations(verdicts: ir.Table, every: list[tuple[str, str, str]]) -> ir.Table:
    """How many patients share each combination of criterion verdicts: one ``GROUP BY`` over the
    verdict columns (``every``: criterion id, kind, column), a few thousand rows at most."""
    return verdicts.group_by([column for _, _, column in every]).aggregate(patients=verdicts.count())


def _codes(combinations: Columns, column: str) -> np.ndarray[Any, np.dtype[np.int8]]:
    """A verdict column as 1 met, 0 not met, -1 unknown."""
    values = combinations[column]
    met = np.ma.getdata(values).astype(np.int8)
    return np.where(np.ma.getmaskarray(values), np.int8(-1), met)


def _first(flags: np.ndarray[Any, np.dtype[np.bool_]]) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Per row, the index of the first true column (the number of columns when none)."""
    first: np.ndarray[Any, np.dtype[np.intp]] = np.where(
        flags.any(axis=1), flags.argmax(axis=1), flags.shape[1]
    )
    return first


def tally(
    combinations: Columns,
    top: list[tuple[str, str, str]],
    every: list[tuple[str, str, str]],
    as_of: date,
    deceased: int,
) -> Funnel:
    """The funnel from :func:`verdict_combinations` (rows: patients alive on the as-of date).

    ``top`` and ``every`` list (criterion id, kind, column) of the decision's criteria and of all
    criteria, in protocol order. A patient's first failing step (``first_fail``) and first step
    the data do not show them to pass (``first_open``) place them in the funnel.
    """
    n = np.ma.getdata(combinations["patients"]).astype(np.int64)
    codes = {column: _codes(combinations, column) for _, _, column in every}
    width = (len(n), len(top))
    fails, passes = np.zeros(width, dtype=bool), np.zeros(width, dtype=bool)
    for i, (_, kind, column) in enumerate(top):
        fails[:, i] = codes[column] == (0 if kind == "inclusion" else 1)
        passes[:, i] = codes[column] == (1 if kind == "inclusion" else 0)
    first_fail, first_open = _first(fails), _first(~passes)
    single = fails.sum(axis=1) == 1

    def count(selected: np.ndarray[Any, np.dtype[np.bool_]]) -> int:
        return int(n[selected].sum())

    steps = tuple(
        Step(
            cid,
            kind,
            remaining=count(first_fail > i),
            failed=count(first_fail == i),
            unknown=count((first_fail >= i) & (codes[column] == -1)),
            confirmed=count(first_open > i),
        )
        for i, (cid, kind, column) in enumerate(top)
    )
    return Funnel(
        total=int(n.sum()),
        as_of=as_of,
        deceased=deceased,
        steps=steps,
        failed_alone={cid: count(fails[:, i]) for i, (cid, _, _) in enumerate(top)},
        failed_only={cid: count(fails[:, i] & single) for i, (cid, _, _) in enumerate(top)},
        criteria=tuple(
            CriterionCount(
                cid, kind, count(codes[column] == 1), count(codes[column] == 0), count(codes[column] == -1)
            )
            for cid, kind, column in every
        ),
    )
