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

import ibis
import ibis.expr.types as ir

__all__ = ["CriterionCount", "Funnel", "Step", "funnel_aggregates", "read_funnel", "with_positions"]


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


def _fails(verdicts: ir.Table, column: str, kind: str) -> ir.BooleanValue:
    return (verdicts[column] == (kind == "exclusion")).fill_null(False)


def _passes(verdicts: ir.Table, column: str, kind: str) -> ir.BooleanValue:
    return (verdicts[column] == (kind == "inclusion")).fill_null(False)


def with_positions(verdicts: ir.Table, top: list[tuple[str, str, str]]) -> ir.Table:
    """Add each patient's place in the funnel: the step that excludes them (``first_fail``), the
    first step the data do not show them to pass (``first_open``), and how many criteria exclude
    them (``n_fails``). Steps count from 1; ``len(top) + 1`` means none."""
    last = len(top) + 1
    first_fail = ibis.cases(*((_fails(verdicts, c, k), i + 1) for i, (_, k, c) in enumerate(top)), else_=last)
    first_open = ibis.cases(
        *((~_passes(verdicts, c, k), i + 1) for i, (_, k, c) in enumerate(top)), else_=last
    )
    n_fails = sum((_fails(verdicts, c, k).cast("int32") for _, k, c in top), ibis.literal(0, "int32"))
    return verdicts.mutate(first_fail=first_fail, first_open=first_open, n_fails=n_fails)


def funnel_aggregates(
    verdicts: ir.Table, top: list[tuple[str, str, str]], every: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """Aggregate expressions over ``verdicts`` (from :func:`with_positions`; rows: patients alive
    on the as-of date). ``top`` and ``every`` list (criterion id, kind, column) of the decision's
    criteria and of all criteria, in protocol order.
    """
    first_fail, first_open, n_fails = verdicts.first_fail, verdicts.first_open, verdicts.n_fails
    aggregates: dict[str, Any] = {"total": verdicts.count()}
    for i, (_, kind, column) in enumerate(top, start=1):
        aggregates[f"remaining_{i}"] = (first_fail > i).sum()
        aggregates[f"failed_{i}"] = (first_fail == i).sum()
        aggregates[f"unknown_{i}"] = ((first_fail >= i) & verdicts[column].isnull()).sum()
        aggregates[f"confirmed_{i}"] = (first_open > i).sum()
        aggregates[f"alone_{i}"] = _fails(verdicts, column, kind).sum()
        aggregates[f"only_{i}"] = (_fails(verdicts, column, kind) & (n_fails == 1)).sum()
    for i, (_, _, column) in enumerate(every, start=1):
        value = verdicts[column]
        aggregates[f"met_{i}"] = (value == True).fill_null(False).sum()  # noqa: E712
        aggregates[f"notmet_{i}"] = (value == False).fill_null(False).sum()  # noqa: E712
        aggregates[f"unk_{i}"] = value.isnull().sum()
    return aggregates


def read_funnel(
    row: dict[str, Any],
    top: list[tuple[str, str, str]],
    every: list[tuple[str, str, str]],
    as_of: date,
    deceased: int,
) -> Funnel:
    """Build the :class:`Funnel` from the one-row result of :func:`funnel_aggregates`."""

    def n(key: str) -> int:
        value = row.get(key)
        return int(value) if value is not None else 0

    steps = tuple(
        Step(cid, kind, n(f"remaining_{i}"), n(f"failed_{i}"), n(f"unknown_{i}"), n(f"confirmed_{i}"))
        for i, (cid, kind, _) in enumerate(top, start=1)
    )
    return Funnel(
        total=n("total"),
        as_of=as_of,
        deceased=deceased,
        steps=steps,
        failed_alone={cid: n(f"alone_{i}") for i, (cid, _, _) in enumerate(top, start=1)},
        failed_only={cid: n(f"only_{i}") for i, (cid, _, _) in enumerate(top, start=1)},
        criteria=tuple(
            CriterionCount(cid, kind, n(f"met_{i}"), n(f"notmet_{i}"), n(f"unk_{i}"))
            for i, (cid, kind, _) in enumerate(every, start=1)
        ),
    )
