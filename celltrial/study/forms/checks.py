"""The edit-check engine: what is wrong with a form's values, field by field.

Pure: a form definition, the values and ``today`` in; a list of :class:`CheckFailure` out. The
form service saves the values anyway and raises one query per failure on its field, so the
site can correct or confirm the data. Checks:

- ``required``: a shown, required field is empty (only once the form is marked complete);
- ``range``: a number outside the field's expected range (``min``/``max``);
- ``hidden_value``: a value in a field that branching hides (``show_if`` does not hold);
- ``future_date``: a date after ``today`` where the field does not allow it;
- each cross-field check of the form (``date_order``, ``compare``) by its id, with operands
  from this form or from another form of the subject (``context``: form code → values).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from celltrial.study.forms.dictionary import CrossCheck, FieldDefinition, FormDefinition
from celltrial.study.forms.values import StoredValue

__all__ = ["CheckFailure", "run_edit_checks", "visible_fields"]

Values = Mapping[str, StoredValue]

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class CheckFailure:
    """One failed check: the field the query goes on, the check's id and a readable message."""

    field: str
    check: str
    message: str


def visible_fields(definition: FormDefinition, values: Values) -> set[str]:
    """The fields shown for these values (a field hidden by branching hides its dependants)."""
    shown: set[str] = set()
    for field in definition.fields:
        if all(
            condition.holds(values.get(condition.field) if condition.field in shown else None)
            for condition in field.show_if
        ):
            shown.add(field.name)
    return shown


def run_edit_checks(
    definition: FormDefinition,
    values: Values,
    *,
    today: date,
    context: Mapping[str, Values] | None = None,
    require_complete: bool = False,
) -> list[CheckFailure]:
    """Every failed edit check of ``values``, in field order then cross-check order."""
    shown = visible_fields(definition, values)
    failures: list[CheckFailure] = []
    for field in definition.fields:
        value = values.get(field.name)
        if field.name not in shown:
            if _has_value(value):
                failures.append(_hidden(field, definition))
            continue
        if not _has_value(value):
            if field.required and require_complete:
                failures.append(CheckFailure(field.name, "required", f"{field.label} is required"))
            continue
        failures.extend(_field_checks(field, value, today))
    for check in definition.checks:
        failure = _cross_check(check, definition, values, shown, context or {})
        if failure is not None:
            failures.append(failure)
    return failures


def _has_value(value: StoredValue) -> bool:
    return value is not None and value != [] and value != ""


def _hidden(field: FieldDefinition, definition: FormDefinition) -> CheckFailure:
    conditions = " and ".join(
        f"{definition.field(condition.field).label} {_describe(condition)}" for condition in field.show_if
    )
    return CheckFailure(field.name, "hidden_value", f"{field.label} should be empty unless {conditions}")


def _describe(condition: object) -> str:
    equals = getattr(condition, "equals", None)
    one_of = getattr(condition, "one_of", None)
    if one_of is not None:
        return "is one of " + ", ".join(str(item) for item in one_of)
    if equals is not None:
        return f"is {str(equals).lower() if isinstance(equals, bool) else equals}"
    return "is filled" if getattr(condition, "is_set", False) else "is empty"


def _field_checks(field: FieldDefinition, value: StoredValue, today: date) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    if field.type in ("integer", "decimal") and isinstance(value, int | float):
        unit = f" {field.unit}" if field.unit else ""
        expected = f"{_number(field.min) if field.min is not None else '…'}–" + (
            f"{_number(field.max)}" if field.max is not None else "…"
        )
        if field.min is not None and value < field.min:
            failures.append(
                CheckFailure(
                    field.name,
                    "range",
                    f"{field.label} {_number(value)}{unit} is below the expected range {expected}{unit}",
                )
            )
        if field.max is not None and value > field.max:
            failures.append(
                CheckFailure(
                    field.name,
                    "range",
                    f"{field.label} {_number(value)}{unit} is above the expected range {expected}{unit}",
                )
            )
    if field.type in ("date", "datetime") and isinstance(value, str) and not field.allow_future:
        day = _as_date(value)
        if day is not None and day > today:
            failures.append(
                CheckFailure(field.name, "future_date", f"{field.label} {value} is after today ({today})")
            )
    return failures


def _number(value: float) -> str:
    return f"{value:g}"


def _as_date(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value).date() if len(value) > 10 else date.fromisoformat(value)
    except ValueError:
        return None


def _operand(name: str, values: Values, shown: set[str], context: Mapping[str, Values]) -> StoredValue:
    if "." in name:
        form_code, _, field_name = name.partition(".")
        return context.get(form_code, {}).get(field_name)
    return values.get(name) if name in shown else None


def _comparable(value: StoredValue) -> float | date | datetime | None:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    except ValueError:
        return None


def _align(left: object, right: object) -> tuple[object, object] | None:
    """Both operands of one kind; a date against a date-time compares the days."""
    if isinstance(left, datetime) and isinstance(right, datetime):
        if (left.tzinfo is None) != (right.tzinfo is None):
            return left.replace(tzinfo=None), right.replace(tzinfo=None)
        return left, right
    if isinstance(left, date) and isinstance(right, date):
        return _day(left), _day(right)
    if isinstance(left, float) and isinstance(right, float):
        return left, right
    return None


def _day(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _cross_check(
    check: CrossCheck,
    definition: FormDefinition,
    values: Values,
    shown: set[str],
    context: Mapping[str, Values],
) -> CheckFailure | None:
    first, second = check.operands()
    raw_first = _operand(first, values, shown, context)
    raw_second = _operand(second, values, shown, context)
    aligned = _align(_comparable(raw_first), _comparable(raw_second))
    if aligned is None:
        return None
    left, right = aligned
    if check.kind == "date_order":
        passes = bool(_OPERATORS["<=" if check.allow_same else "<"](left, right))
    else:
        assert check.op is not None
        passes = bool(_OPERATORS[check.op](left, right))
    if passes:
        return None
    detail = f"{_label(first, definition)} {raw_first}, {_label(second, definition)} {raw_second}"
    return CheckFailure(check.target(), check.id, f"{check.message} ({detail})")


def _label(name: str, definition: FormDefinition) -> str:
    return name if "." in name else definition.field(name).label
