"""Data dictionaries: each case report form is a YAML file, read into these models.

One file per form: the forms celltrial ships in ``celltrial/study/forms/definitions/<code>.yaml``,
and the forms a user imported (``celltrial import odm``) in ``$CELLTRIAL_HOME/forms/<code>.yaml``
(default ``~/.celltrial/forms``; see :func:`imported_forms_dir`), read again whenever that folder
changes::

    code: vital_signs
    name: Vital signs
    version: 1
    fields:
      - {name: assessment_date, label: Assessment date, type: date, required: true}
      - {name: temperature, label: Temperature, type: decimal, unit: Cel, min: 34, max: 42}
      - {name: oxygen_device, label: Oxygen device, type: choice, choices: [...],
         show_if: {field: on_oxygen, equals: true}}
    checks:
      - {id: dbp_below_sbp, kind: compare, left: diastolic_bp, op: "<", right: systolic_bp,
         message: Diastolic pressure must be below systolic pressure}

Field types: ``integer``, ``decimal``, ``text``, ``date``, ``datetime``, ``choice``,
``multi_choice``, ``boolean``. ``computed: <derivation>`` marks a field that is never typed: the
forms service fills it on every save (:mod:`celltrial.analysis.form_derivations`).
``min``/``max`` are the expected range (a value outside it is saved and raises a query); a value
of the wrong type, an unknown choice or a too-long text is refused. ``show_if`` is the branching
logic (all conditions must hold). Cross-field checks may name another form's field as
``<form code>.<field>`` (the subject's latest instance of it). A changed form gets a new
``version``; every instance records the version it was entered on.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from celltrial.analysis.form_derivations import DERIVATIONS
from celltrial.errors import InvalidInput, NotFound

__all__ = [
    "Choice",
    "Condition",
    "CrossCheck",
    "FieldDefinition",
    "FormDefinition",
    "form_definition",
    "form_definitions",
    "imported_forms_dir",
    "parse_form_definition",
]

Scalar = str | int | float | bool
FieldType = Literal["integer", "decimal", "text", "date", "datetime", "choice", "multi_choice", "boolean"]
NUMERIC = frozenset({"integer", "decimal"})
TEMPORAL = frozenset({"date", "datetime"})
CODED = frozenset({"choice", "multi_choice"})
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """One allowed answer of a coded field: the stored code and the label a user reads."""

    code: str
    label: str


class Condition(_Strict):
    """Branching: show a field when another field ``equals`` a value, is ``one_of`` some, or ``is_set``."""

    field: str = Field(pattern=NAME_PATTERN)
    equals: Scalar | None = None
    one_of: list[Scalar] | None = None
    is_set: bool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [name for name in ("equals", "one_of", "is_set") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a condition on '{self.field}' needs exactly one of equals, one_of, is_set")
        return self

    def holds(self, value: object) -> bool:
        """Whether the condition holds for the other field's ``value``."""
        if self.is_set is not None:
            return (value is not None and value != []) is self.is_set
        if self.one_of is not None:
            if isinstance(value, list):
                return any(item in self.one_of for item in value)
            return value in self.one_of
        if isinstance(value, list):
            return self.equals in value
        if isinstance(value, bool) or isinstance(self.equals, bool):
            return value is self.equals
        return value == self.equals


class FieldDefinition(_Strict):
    """One field of a form."""

    name: str = Field(pattern=NAME_PATTERN)
    label: str
    type: FieldType
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    choices: list[Choice] | None = None
    max_length: int | None = Field(default=None, gt=0)
    show_if: list[Condition] = []
    procedure: bool = False
    """A date of a study procedure: it may not be earlier than the subject's consent."""
    allow_future: bool = False
    help: str = ""
    computed: str | None = None
    """The derivation (:mod:`celltrial.analysis.form_derivations`) that fills this field on save."""

    @field_validator("show_if", mode="before")
    @classmethod
    def _single_condition(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _attributes_fit_type(self) -> FieldDefinition:
        numeric, temporal, coded = self.type in NUMERIC, self.type in TEMPORAL, self.type in CODED
        if coded and not self.choices:
            raise ValueError(f"field '{self.name}' of type {self.type} needs choices")
        if self.choices and not coded:
            raise ValueError(f"field '{self.name}' of type {self.type} cannot have choices")
        if self.choices:
            codes = [choice.code for choice in self.choices]
            if len(set(codes)) != len(codes):
                raise ValueError(f"field '{self.name}' repeats a choice code")
        if (self.min is not None or self.max is not None or self.unit) and not numeric:
            raise ValueError(f"field '{self.name}' of type {self.type} cannot have min, max or unit")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"field '{self.name}' has min {self.min} above max {self.max}")
        if self.max_length is not None and self.type != "text":
            raise ValueError(f"field '{self.name}' of type {self.type} cannot have max_length")
        if (self.procedure or self.allow_future) and not temporal:
            raise ValueError(f"field '{self.name}' of type {self.type} cannot be a procedure date")
        if self.computed is not None and self.computed not in DERIVATIONS:
            raise ValueError(f"field '{self.name}' is computed by unknown derivation '{self.computed}'")
        return self

    def choice_codes(self) -> list[str]:
        return [choice.code for choice in self.choices or []]

    def described(self) -> str:
        """The label with its unit, as a message shows it."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


CheckKind = Literal["date_order", "compare"]
Operator = Literal["<", "<=", ">", ">=", "==", "!="]


class CrossCheck(_Strict):
    """A check across fields: two dates in order, or two values compared.

    ``date_order``: ``earlier`` on or before ``later`` (strictly before when ``allow_same`` is
    false). ``compare``: ``left op right``. Operands are field names of this form or
    ``<form code>.<field>`` of another form of the same subject. The query goes on ``field``
    (default: ``later`` or ``left``). A check runs only when both operands have a value.
    """

    id: str = Field(pattern=NAME_PATTERN)
    kind: CheckKind
    message: str
    earlier: str | None = None
    later: str | None = None
    allow_same: bool = True
    left: str | None = None
    op: Operator | None = None
    right: str | None = None
    field: str | None = None

    @model_validator(mode="after")
    def _operands_fit_kind(self) -> CrossCheck:
        if self.kind == "date_order" and not (self.earlier and self.later):
            raise ValueError(f"check '{self.id}' (date_order) needs earlier and later")
        if self.kind == "compare" and not (self.left and self.op and self.right):
            raise ValueError(f"check '{self.id}' (compare) needs left, op and right")
        return self

    def operands(self) -> tuple[str, str]:
        if self.kind == "date_order":
            return str(self.earlier), str(self.later)
        return str(self.left), str(self.right)

    def target(self) -> str:
        """The field the query is raised on."""
        return self.field or self.operands()[1 if self.kind == "date_order" else 0]


class FormDefinition(_Strict):
    """A case report form: its fields, branching and edit checks, at one version."""

    code: str = Field(pattern=NAME_PATTERN)
    name: str
    version: int = Field(ge=1)
    repeating: bool = False
    """A log form (adverse events, medications...): a subject has as many instances as entries."""
    description: str = ""
    fields: list[FieldDefinition] = Field(min_length=1)
    checks: list[CrossCheck] = []

    @model_validator(mode="after")
    def _references_resolve(self) -> FormDefinition:
        names = [field.name for field in self.fields]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"field names must be unique; repeated: {', '.join(repeated)}")
        known = set(names)
        earlier: set[str] = set()
        for field in self.fields:
            for condition in field.show_if:
                if condition.field not in earlier:
                    raise ValueError(
                        f"field '{field.name}' shows on '{condition.field}', which is not a field above it"
                    )
            earlier.add(field.name)
        ids = [check.id for check in self.checks]
        if len(set(ids)) != len(ids):
            raise ValueError("check ids must be unique")
        for check in self.checks:
            for operand in check.operands():
                if "." not in operand and operand not in known:
                    raise ValueError(f"check '{check.id}' names unknown field '{operand}'")
            if check.target() not in known:
                raise ValueError(f"check '{check.id}' raises its query on unknown field '{check.target()}'")
        return self

    def field(self, name: str) -> FieldDefinition:
        """The field called ``name``; an unknown name is refused, naming the form."""
        for field in self.fields:
            if field.name == name:
                return field
        raise InvalidInput(f"form {self.code} has no field '{name}'", field=f"{self.code}.{name}")

    def field_names(self) -> list[str]:
        return [field.name for field in self.fields]


def parse_form_definition(text: str, *, origin: str) -> FormDefinition:
    """Read one data dictionary from YAML; errors name the file and the path inside it."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"not valid YAML: {error}", field=origin) from None
    if not isinstance(raw, dict):
        raise InvalidInput("a form definition must be a mapping", field=origin)
    try:
        return FormDefinition.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "$"
        raise InvalidInput(first["msg"], field=f"{origin}: {where}") from None


def imported_forms_dir() -> Path:
    """The folder of imported forms: ``$CELLTRIAL_HOME/forms`` (default ``~/.celltrial/forms``)."""
    return _forms_dir(os.environ.get("CELLTRIAL_HOME"), os.environ.get("HOME"))


@functools.lru_cache(maxsize=8)
def _forms_dir(celltrial_home: str | None, _home: str | None) -> Path:
    # the Path built once per value of the two variables it depends on (looked up on every form read)
    return Path(celltrial_home or Path.home() / ".celltrial") / "forms"


def _read_folder(entries: list[Traversable] | list[Path]) -> dict[str, FormDefinition]:
    found: dict[str, FormDefinition] = {}
    for entry in sorted(entries, key=lambda item: item.name):
        if not entry.name.endswith(".yaml"):
            continue
        definition = parse_form_definition(entry.read_text(encoding="utf-8"), origin=entry.name)
        if f"{definition.code}.yaml" != entry.name:
            raise InvalidInput(f"declares code '{definition.code}'", field=entry.name)
        found[definition.code] = definition
    return found


def _check_references(found: dict[str, FormDefinition]) -> None:
    for definition in found.values():
        for check in definition.checks:
            for operand in check.operands():
                if "." in operand:
                    form_code, _, name = operand.partition(".")
                    if form_code not in found or name not in found[form_code].field_names():
                        raise InvalidInput(
                            f"check '{check.id}' names unknown field '{operand}'",
                            field=f"{definition.code}.yaml",
                        )


@functools.cache
def _shipped() -> dict[str, FormDefinition]:
    found = _read_folder(list((resources.files("celltrial.study.forms") / "definitions").iterdir()))
    _check_references(found)
    return found


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """The imported forms' names, modification times and sizes: any import changes it."""
    try:
        with os.scandir(folder) as entries:
            listed = [(entry.name, entry.stat()) for entry in entries if entry.name.endswith(".yaml")]
    except (FileNotFoundError, NotADirectoryError):
        return ()
    return tuple(sorted((name, stat.st_mtime_ns, stat.st_size) for name, stat in listed))


@functools.lru_cache(maxsize=4)
def _with_imported(folder: Path, signature: tuple[tuple[str, int, int], ...]) -> dict[str, FormDefinition]:
    shipped = _shipped()
    if not signature:
        return shipped
    imported = _read_folder([folder / name for name, _, _ in signature])
    for code, definition in imported.items():
        if code in shipped and shipped[code] != definition:
            raise InvalidInput(
                f"form '{code}' is shipped with celltrial and differs from this import; "
                "give the imported form another code",
                field=str(folder / f"{code}.yaml"),
            )
    found = {**imported, **shipped}
    _check_references(found)
    return dict(sorted(found.items()))


def form_definitions() -> dict[str, FormDefinition]:
    """Every form by code: the shipped ones and the imported ones; cross-form references checked."""
    folder = imported_forms_dir()
    return _with_imported(folder, _signature(folder))


def form_definition(code: str) -> FormDefinition:
    """The data dictionary of form ``code``."""
    definitions = form_definitions()
    if code not in definitions:
        raise NotFound(f"no form '{code}' (known: {', '.join(sorted(definitions))})", field="form_code")
    return definitions[code]
