"""CDISC ODM 1.3.2 study metadata of celltrial's CRFs, and back.

Every data dictionary (``celltrial/study/forms/definitions``) becomes a FormDef with one
ItemGroupDef, an ItemDef per field (data type, question, unit, range checks, code list) and a
CodeList per coded field. What ODM has no element for is kept as ``Alias`` entries of context
``celltrial`` (the field type multi_choice, branching ``show_if``, procedure dates, help texts,
computed fields, the form version and its cross-field checks, as JSON), so :func:`form_definitions_from_odm`
gives back the very same definitions. ``min``/``max`` are soft range checks (a value outside them
is saved and raises a query), ``required`` is the ItemRef's ``Mandatory``.

The visit schedule is the Protocol with one StudyEventDef per planned visit (``SE.<code>``), one
for unscheduled visits (``SE.UNS``, repeating) and one for log forms kept outside visits
(``SE.LOG``: adverse events, medications, medical history...).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ScheduleSettings
from celltrial.study.forms.dictionary import FieldDefinition, FormDefinition

__all__ = [
    "ODM_NS",
    "add_metadata",
    "form_definitions_from_odm",
    "odm",
    "oid_part",
    "planned_events",
]

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTEXT = "celltrial"
_TYPES = {
    "integer": "integer",
    "decimal": "float",
    "text": "text",
    "date": "date",
    "datetime": "datetime",
    "choice": "text",
    "multi_choice": "text",
    "boolean": "boolean",
}


def odm(tag: str) -> str:
    """An element name in the ODM namespace."""
    return f"{{{ODM_NS}}}{tag}"


def oid_part(text: str) -> str:
    """``text`` usable inside an OID (letters, digits, ``._-``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, odm(tag))
    etree.SubElement(element, odm("TranslatedText"), {XML_LANG: "en"}).text = text
    return element


def _alias(parent: etree._Element, name: str, value: object) -> None:
    etree.SubElement(parent, odm("Alias"), {"Context": f"{CONTEXT}:{name}", "Name": json.dumps(value)})


def planned_events(schedule: ScheduleSettings) -> list[tuple[str, str, tuple[str, ...]]]:
    """(code, name, forms) of every planned visit, in schedule order."""
    from datetime import date, timedelta

    from celltrial.study.visits.schedule import plan_schedule

    start = date(2000, 1, 3)
    plan = plan_schedule(schedule, enrolment=start, infusion=start + timedelta(days=14))
    return [(visit.code, visit.name, visit.forms) for visit in plan]


def _units(definitions: Iterable[FormDefinition]) -> list[str]:
    return sorted({field.unit for d in definitions for field in d.fields if field.unit})


def _item_def(mdv: etree._Element, form: FormDefinition, field: FieldDefinition) -> None:
    attributes = {"OID": f"I.{form.code}.{field.name}", "Name": field.name, "DataType": _TYPES[field.type]}
    if field.max_length is not None:
        attributes["Length"] = str(field.max_length)
    item = etree.SubElement(mdv, odm("ItemDef"), attributes)
    _text(item, "Question", field.label)
    if field.unit:
        etree.SubElement(
            item, odm("MeasurementUnitRef"), {"MeasurementUnitOID": f"MU.{oid_part(field.unit)}"}
        )
    for bound, comparator, word in ((field.min, "GE", "below"), (field.max, "LE", "above")):
        if bound is None:
            continue
        check = etree.SubElement(item, odm("RangeCheck"), {"Comparator": comparator, "SoftHard": "Soft"})
        etree.SubElement(check, odm("CheckValue")).text = f"{bound:.15g}"
        _text(check, "ErrorMessage", f"{field.described()} is {word} the expected range ({bound:g})")
    if field.choices:
        etree.SubElement(item, odm("CodeListRef"), {"CodeListOID": f"CL.{form.code}.{field.name}"})
    extras: dict[str, object] = {}
    if field.type == "multi_choice":
        extras["type"] = "multi_choice"
    if field.show_if:
        extras["show_if"] = [condition.model_dump(exclude_none=True) for condition in field.show_if]
    for flag in ("procedure", "allow_future"):
        if getattr(field, flag):
            extras[flag] = True
    if field.help:
        extras["help"] = field.help
    if field.computed:
        extras["computed"] = field.computed
    for name, value in extras.items():
        _alias(item, name, value)


def add_metadata(
    study: etree._Element, *, oid: str, definitions: list[FormDefinition], schedule: ScheduleSettings | None
) -> etree._Element:
    """Add BasicDefinitions and a MetaDataVersion describing ``definitions`` to ``study``."""
    basics = etree.SubElement(study, odm("BasicDefinitions"))
    for unit in _units(definitions):
        measurement = etree.SubElement(
            basics, odm("MeasurementUnit"), {"OID": f"MU.{oid_part(unit)}", "Name": unit}
        )
        _text(measurement, "Symbol", unit)
    mdv = etree.SubElement(study, odm("MetaDataVersion"), {"OID": oid, "Name": "celltrial CRFs"})
    codes = {d.code for d in definitions}
    events = planned_events(schedule) if schedule is not None else []
    events += [
        ("UNS", "Unscheduled visit", tuple(sorted(codes))),
        ("LOG", "Log forms", tuple(sorted(d.code for d in definitions if d.repeating))),
    ]
    protocol = etree.SubElement(mdv, odm("Protocol"))
    for order, (code, _name, _forms) in enumerate(events, start=1):
        etree.SubElement(
            protocol,
            odm("StudyEventRef"),
            {"StudyEventOID": f"SE.{oid_part(code)}", "OrderNumber": str(order), "Mandatory": "No"},
        )
    for code, name, forms in events:
        unscheduled = code in {"UNS", "LOG"}
        event = etree.SubElement(
            mdv,
            odm("StudyEventDef"),
            {
                "OID": f"SE.{oid_part(code)}",
                "Name": name,
                "Repeating": "Yes" if code == "UNS" else "No",
                "Type": "Unscheduled" if unscheduled else "Scheduled",
            },
        )
        for order, form_code in enumerate(f for f in forms if f in codes):
            etree.SubElement(
                event,
                odm("FormRef"),
                {"FormOID": f"F.{form_code}", "OrderNumber": str(order + 1), "Mandatory": "No"},
            )
    for definition in definitions:
        form = etree.SubElement(
            mdv,
            odm("FormDef"),
            {
                "OID": f"F.{definition.code}",
                "Name": definition.name,
                "Repeating": "Yes" if definition.repeating else "No",
            },
        )
        if definition.description:
            _text(form, "Description", definition.description)
        etree.SubElement(
            form, odm("ItemGroupRef"), {"ItemGroupOID": f"IG.{definition.code}", "Mandatory": "Yes"}
        )
        _alias(form, "version", definition.version)
        if definition.checks:
            _alias(form, "checks", [check.model_dump(exclude_none=True) for check in definition.checks])
    for definition in definitions:
        group = etree.SubElement(
            mdv,
            odm("ItemGroupDef"),
            {"OID": f"IG.{definition.code}", "Name": definition.name, "Repeating": "No"},
        )
        for order, field in enumerate(definition.fields, start=1):
            etree.SubElement(
                group,
                odm("ItemRef"),
                {
                    "ItemOID": f"I.{definition.code}.{field.name}",
                    "OrderNumber": str(order),
                    "Mandatory": "Yes" if field.required else "No",
                },
            )
    for definition in definitions:
        for field in definition.fields:
            _item_def(mdv, definition, field)
    for definition in definitions:
        for field in definition.fields:
            if not field.choices:
                continue
            codelist = etree.SubElement(
                mdv,
                odm("CodeList"),
                {"OID": f"CL.{definition.code}.{field.name}", "Name": field.label, "DataType": "text"},
            )
            for choice in field.choices:
                item = etree.SubElement(codelist, odm("CodeListItem"), {"CodedValue": choice.code})
                _text(item, "Decode", choice.label)
    return mdv


# -- reading ODM metadata back into data dictionaries -------------------------------------------


def _translated(element: etree._Element | None) -> str:
    if element is None:
        return ""
    text = element.find(odm("TranslatedText"))
    return (text.text or "") if text is not None else ""


def _aliases(element: etree._Element, where: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for alias in element.findall(odm("Alias")):
        context = alias.get("Context", "")
        if not context.startswith(f"{CONTEXT}:"):
            continue
        try:
            found[context.split(":", 1)[1]] = json.loads(alias.get("Name", ""))
        except (json.JSONDecodeError, RecursionError):
            raise InvalidInput(f"the Alias {context} is not JSON", field=where) from None
    return found


def _field(
    item: etree._Element,
    mandatory: bool,
    codelists: dict[str, etree._Element],
    units: dict[str, str],
    where: str,
) -> dict[str, Any]:
    extras = _aliases(item, where)
    data_type = item.get("DataType", "")
    types = {
        "integer": "integer",
        "float": "decimal",
        "double": "decimal",
        "text": "text",
        "string": "text",
        "date": "date",
        "datetime": "datetime",
        "boolean": "boolean",
    }
    if data_type not in types:
        raise InvalidInput(f"DataType {data_type!r} is not one celltrial forms use", field=where)
    field: dict[str, Any] = {
        "name": item.get("Name"),
        "label": _translated(item.find(odm("Question"))),
        "type": types[data_type],
        "required": mandatory,
    }
    if not field["label"]:
        field["label"] = item.get("Name")
    if item.get("Length") and field["type"] == "text":
        field["max_length"] = int(item.get("Length", "0"))
    unit = item.find(odm("MeasurementUnitRef"))
    if unit is not None:
        oid = unit.get("MeasurementUnitOID", "")
        if oid not in units:
            raise InvalidInput(f"unknown MeasurementUnitOID {oid!r}", field=where)
        field["unit"] = units[oid]
    for check in item.findall(odm("RangeCheck")):
        value = check.findtext(odm("CheckValue"))
        comparator = check.get("Comparator")
        if value is None or comparator not in {"GE", "GT", "LE", "LT"}:
            raise InvalidInput(
                f"range check {comparator} is not a bound celltrial reads (GE, GT, LE, LT)", field=where
            )
        try:
            bound = float(value)
        except ValueError:
            bound = math.nan
        if not math.isfinite(bound):
            raise InvalidInput(f"the RangeCheck value {value!r} is not a finite number", field=where)
        field["min" if comparator in {"GE", "GT"} else "max"] = bound
    reference = item.find(odm("CodeListRef"))
    if reference is not None:
        oid = reference.get("CodeListOID", "")
        if oid not in codelists:
            raise InvalidInput(f"unknown CodeListOID {oid!r}", field=where)
        field["type"] = extras.pop("type", "choice")
        field["choices"] = [
            {
                "code": entry.get("CodedValue"),
                "label": _translated(entry.find(odm("Decode"))) or entry.get("CodedValue"),
            }
            for entry in codelists[oid].findall(odm("CodeListItem"))
        ]
    field.update(
        {
            key: value
            for key, value in extras.items()
            if key in {"show_if", "procedure", "allow_future", "help", "computed"}
        }
    )
    return field


def form_definitions_from_odm(root: etree._Element) -> list[FormDefinition]:
    """The data dictionaries described by the first MetaDataVersion of an ODM document."""
    mdv = root.find(f"{odm('Study')}/{odm('MetaDataVersion')}")
    if mdv is None:
        raise InvalidInput("the ODM file has no Study/MetaDataVersion", field="MetaDataVersion")
    units = {
        unit.get("OID", ""): unit.get("Name", "")
        for unit in root.iterfind(f"{odm('Study')}/{odm('BasicDefinitions')}/{odm('MeasurementUnit')}")
    }
    groups = {g.get("OID", ""): g for g in mdv.findall(odm("ItemGroupDef"))}
    items = {i.get("OID", ""): i for i in mdv.findall(odm("ItemDef"))}
    codelists = {c.get("OID", ""): c for c in mdv.findall(odm("CodeList"))}
    definitions = []
    for form in mdv.findall(odm("FormDef")):
        where = f"FormDef {form.get('OID')}"
        extras = _aliases(form, where)
        fields = []
        for group_ref in form.findall(odm("ItemGroupRef")):
            group = groups.get(group_ref.get("ItemGroupOID", ""))
            if group is None:
                raise InvalidInput(f"unknown ItemGroupOID {group_ref.get('ItemGroupOID')!r}", field=where)
            for ref in group.findall(odm("ItemRef")):
                item = items.get(ref.get("ItemOID", ""))
                if item is None:
                    raise InvalidInput(f"unknown ItemOID {ref.get('ItemOID')!r}", field=where)
                fields.append(
                    _field(
                        item, ref.get("Mandatory") == "Yes", codelists, units, f"ItemDef {item.get('OID')}"
                    )
                )
        oid = form.get("OID", "")
        raw = {
            "code": oid.removeprefix("F.").lower(),
            "name": form.get("Name", oid),
            "version": int(extras.get("version", 1)),
            "repeating": form.get("Repeating") == "Yes",
            "description": _translated(form.find(odm("Description"))),
            "fields": fields,
            "checks": extras.get("checks", []),
        }
        try:
            definitions.append(FormDefinition.model_validate(raw))
        except ValueError as error:
            first = str(error).splitlines()
            raise InvalidInput(" ".join(first[1:3]).strip() or str(error), field=where) from None
    return definitions
