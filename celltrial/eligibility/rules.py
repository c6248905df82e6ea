"""The eligibility definition of a trial, as data: criteria built from named predicate kinds.

One YAML file per trial (``data/<NCT id>.eligibility.yaml``). Each criterion has its id
(``I1``, ``I1b.i``, ``E7``), kind (inclusion/exclusion), registry text and a rule. A rule is
declarative so that the same file can drive the per-patient engine and, compiled to queries,
population prescreening:

* leaves, by ``kind``: ``age`` (whole years on the screening date, bounds inclusive),
  ``compare`` (a number against a threshold with unit, a setting, or a multiple of the ULN),
  ``coded`` (a coded or yes/no value among accepted values), ``condition`` (a diagnosis
  present, by clinical status, optionally with onset within a look-back), ``sex`` and
  ``judgment`` (the investigator decides: ``needs_review`` until a judgment is recorded);
* compositions: ``all_of`` / ``any_of`` of rules, and ``criterion`` (the verdict of another
  criterion, e.g. I8 is all of I8a-I8d).

Time windows and protocol numbers name a setting of the protocol's settings file
(``window: lab_window_days``, ``threshold: {setting: hbv_dna_threshold_iu_per_ml}``) so that
no number is written twice.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from celltrial.eligibility.facts import fact_catalogue
from celltrial.errors import InvalidInput, NotFound

__all__ = [
    "AgeRule",
    "AllOf",
    "AnyOf",
    "CodedRule",
    "CompareRule",
    "ConditionRule",
    "Criterion",
    "CriterionRef",
    "EligibilityRules",
    "JudgmentRule",
    "Rule",
    "SexRule",
    "Threshold",
    "load_rules",
    "parse_rules",
]

Operator = Literal[">=", ">", "<=", "<", "=="]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    text: str | None = None


class Threshold(BaseModel):
    """A limit: a number with its unit, a protocol setting, or a multiple of the ULN."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float | None = None
    setting: str | None = None
    unit: str | None = None
    times_uln: float | None = Field(default=None, gt=0)
    reference: str | None = Field(default=None, description="site reference range; default: the fact")

    @model_validator(mode="after")
    def _one_kind(self) -> Threshold:
        given = [name for name in ("value", "setting", "times_uln") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a threshold has exactly one of 'value', 'setting' or 'times_uln'")
        return self


class AgeRule(_Node):
    kind: Literal["age"]
    min_years: int | None = None
    max_years: int | None = None


class CompareRule(_Node):
    kind: Literal["compare"]
    fact: str
    operator: Operator
    threshold: Threshold
    window: str | None = None


class CodedRule(_Node):
    kind: Literal["coded"]
    fact: str
    values: tuple[str | bool, ...]
    window: str | None = None


class ConditionRule(_Node):
    kind: Literal["condition"]
    fact: str
    status: Literal["active", "any"] = "active"
    onset_within_months: str | None = Field(default=None, description="setting naming the look-back")


class SexRule(_Node):
    kind: Literal["sex"]
    values: tuple[str, ...]


class JudgmentRule(_Node):
    kind: Literal["judgment"]
    question: str
    facts: tuple[str, ...] = ()


class AllOf(_Node):
    all_of: tuple[Rule, ...] = Field(min_length=1)


class AnyOf(_Node):
    any_of: tuple[Rule, ...] = Field(min_length=1)


class CriterionRef(_Node):
    criterion: str


def _tag(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("all_of", "any_of", "criterion"):
            if key in raw:
                return key
        return str(raw.get("kind", "missing kind"))
    for key in ("all_of", "any_of", "criterion"):
        if hasattr(raw, key):
            return key
    return str(getattr(raw, "kind", "missing kind"))


Rule = Annotated[
    Annotated[AllOf, Tag("all_of")]
    | Annotated[AnyOf, Tag("any_of")]
    | Annotated[CriterionRef, Tag("criterion")]
    | Annotated[AgeRule, Tag("age")]
    | Annotated[CompareRule, Tag("compare")]
    | Annotated[CodedRule, Tag("coded")]
    | Annotated[ConditionRule, Tag("condition")]
    | Annotated[SexRule, Tag("sex")]
    | Annotated[JudgmentRule, Tag("judgment")],
    Discriminator(_tag),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()

LEAF_TYPES = (AgeRule, CompareRule, CodedRule, ConditionRule, SexRule, JudgmentRule)


class Criterion(BaseModel):
    """One inclusion or exclusion criterion: registry text and rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    rule: Rule
    note: str = ""


class EligibilityRules(BaseModel):
    """A trial's eligibility definition, criteria in protocol order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: str
    version: str
    source: str
    criteria: tuple[Criterion, ...]

    @model_validator(mode="after")
    def _consistent(self) -> EligibilityRules:
        ids = [criterion.id for criterion in self.criteria]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"criterion ids must be unique; repeated: {', '.join(repeated)}")
        seen_nodes: set[str] = set(ids)
        catalogue = fact_catalogue()
        for criterion in self.criteria:
            for node in walk(criterion.rule):
                if isinstance(node, CriterionRef) and node.criterion not in ids:
                    raise ValueError(f"{criterion.id} refers to {node.criterion!r}, which is not a criterion")
                if node is not criterion.rule and isinstance(node, LEAF_TYPES) and not node.id:
                    raise ValueError(f"{criterion.id}: every part of a composite rule needs an 'id'")
                if node.id and node is not criterion.rule:
                    if node.id in seen_nodes:
                        raise ValueError(f"{criterion.id}: rule id {node.id!r} is used twice")
                    seen_nodes.add(node.id)
                fact = getattr(node, "fact", None)
                facts = [fact] if fact else list(getattr(node, "facts", ()))
                for name in facts:
                    if catalogue.get(name) is None:
                        raise ValueError(f"{criterion.id}: unknown fact {name!r} (see facts.yaml)")
        _check_no_cycle(self.criteria)
        return self

    def references(self, criterion_id: str) -> tuple[str, ...]:
        """The criteria whose verdicts ``criterion_id`` is composed of."""
        rule = self.criterion(criterion_id).rule
        return tuple(node.criterion for node in walk(rule) if isinstance(node, CriterionRef))

    def top_level(self) -> tuple[Criterion, ...]:
        """The criteria no other criterion is composed of: the ones the decision reads."""
        referenced = {
            node.criterion for c in self.criteria for node in walk(c.rule) if isinstance(node, CriterionRef)
        }
        return tuple(criterion for criterion in self.criteria if criterion.id not in referenced)

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise NotFound(f"no criterion {criterion_id!r} in {self.protocol}", field="criterion")


def _check_no_cycle(criteria: tuple[Criterion, ...]) -> None:
    graph = {c.id: [n.criterion for n in walk(c.rule) if isinstance(n, CriterionRef)] for c in criteria}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            raise ValueError(f"criteria refer to each other in a cycle: {' -> '.join((*path, node))}")
        if node in done:
            return
        for child in graph[node]:
            visit(child, (*path, node))
        done.add(node)

    for criterion_id in graph:
        visit(criterion_id, ())


def walk(rule: Any) -> list[Any]:
    """Every node of ``rule``, the rule first, depth first."""
    nodes = [rule]
    for child in getattr(rule, "all_of", ()) or getattr(rule, "any_of", ()):
        nodes.extend(walk(child))
    return nodes


def parse_rules(text: str, *, origin: str = "eligibility") -> EligibilityRules:
    """Parse an eligibility YAML document; errors name the file and the path of the problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"not valid YAML: {error}", field=origin) from None
    if not isinstance(raw, dict):
        raise InvalidInput("an eligibility definition must be a mapping", field=origin)
    try:
        return EligibilityRules.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"{first['msg']} ({error.error_count()} problem(s))",
            field=f"{origin}: {where}" if where else origin,
        ) from None


@cache
def load_rules(nct_id: str) -> EligibilityRules:
    """The shipped eligibility definition of ``nct_id``."""
    path = resources.files("celltrial.eligibility") / "data" / f"{nct_id}.eligibility.yaml"
    if not path.is_file():
        raise NotFound(f"protocol {nct_id!r} has no eligibility definition", field="protocol")
    return parse_rules(path.read_text(encoding="utf-8"), origin=f"{nct_id}.eligibility.yaml")
