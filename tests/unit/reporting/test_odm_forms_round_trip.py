"""CRF definitions to ODM 1.3.2 metadata and back: schema-valid, the same forms, bad files refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings
from celltrial.reporting.odm_import import definition_yaml, import_odm_forms
from celltrial.reporting.odm_metadata import ODM_NS, add_metadata, form_definitions_from_odm, odm
from celltrial.reporting.schemas import odm_schema, schema_errors
from celltrial.study.forms.dictionary import FormDefinition, form_definitions


def document(definitions: list[FormDefinition], *, with_schedule: bool = True) -> etree._Element:
    root = etree.Element(
        odm("ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": "F",
            "ODMVersion": "1.3.2",
            "CreationDateTime": "2026-01-01T00:00:00+00:00",
        },
        nsmap={None: ODM_NS},
    )
    study = etree.SubElement(root, odm("Study"), {"OID": "NCT07008872"})
    names = etree.SubElement(study, odm("GlobalVariables"))
    for tag in ("StudyName", "StudyDescription", "ProtocolName"):
        etree.SubElement(names, odm(tag)).text = "NCT07008872"
    schedule = load_settings("NCT07008872").schedule if with_schedule else None
    add_metadata(study, oid="MDV.1", definitions=definitions, schedule=schedule)
    return root


def test_every_shipped_crf_survives_odm_and_the_document_is_valid_odm_1_3_2() -> None:
    shipped = list(form_definitions().values())
    root = document(shipped)
    assert schema_errors(odm_schema(), etree.ElementTree(root)) == []
    assert form_definitions_from_odm(root) == shipped


def test_the_schedule_becomes_study_events_with_the_forms_of_each_visit() -> None:
    root = document(list(form_definitions().values()))
    events = {e.get("OID"): [r.get("FormOID") for r in e] for e in root.iter(odm("StudyEventDef"))}
    assert events["SE.D0"] == ["F.infusion", "F.vital_signs", "F.crs_icans_daily", "F.kinetics_sample"]
    assert "F.adverse_events" in events["SE.LOG"]


numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 4))


@st.composite
def forms(draw: st.DrawFn) -> FormDefinition:
    fields = []
    for index in range(draw(st.integers(1, 5))):
        kind = draw(
            st.sampled_from(["integer", "decimal", "text", "date", "boolean", "choice", "multi_choice"])
        )
        field: dict[str, object] = {
            "name": f"f{index}",
            "label": draw(st.text("abc XYZ", min_size=1, max_size=20)),
            "type": kind,
            "required": draw(st.booleans()),
        }
        if kind in {"integer", "decimal"}:
            low, high = sorted([draw(numbers), draw(numbers)])
            field.update({"min": low, "max": high, "unit": draw(st.sampled_from(["kg", "mg/dL", "10*9/L"]))})
        if kind in {"choice", "multi_choice"}:
            codes = draw(
                st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), min_size=1, max_size=4, unique=True)
            )
            field["choices"] = [{"code": code, "label": code.upper()} for code in codes]
        if kind == "text":
            field["max_length"] = draw(st.integers(1, 500))
        fields.append(field)
    return FormDefinition.model_validate(
        {
            "code": "generated",
            "name": "Generated",
            "version": draw(st.integers(1, 9)),
            "repeating": draw(st.booleans()),
            "fields": fields,
        }
    )


@settings(max_examples=40, deadline=None)
@given(forms())
def test_any_form_of_the_data_dictionary_comes_back_unchanged_from_odm(form: FormDefinition) -> None:
    root = document([form], with_schedule=False)
    assert schema_errors(odm_schema(), etree.ElementTree(root)) == []
    assert form_definitions_from_odm(root) == [form]
    assert definition_yaml(form)


def test_an_item_of_a_data_type_celltrial_forms_do_not_use_is_refused_naming_the_item(tmp_path: Path) -> None:
    root = document([form_definitions()["vital_signs"]], with_schedule=False)
    next(root.iter(odm("ItemDef"))).set("DataType", "hexBinary")
    path = tmp_path / "foreign.xml"
    etree.ElementTree(root).write(str(path))
    with pytest.raises(InvalidInput) as refused:
        import_odm_forms(path, tmp_path / "forms")
    assert refused.value.field == "foreign.xml: ItemDef I.vital_signs.assessment_date"
    assert not (tmp_path / "forms").exists()


def test_a_file_that_is_not_xml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "study.xml"
    path.write_text("not xml")
    with pytest.raises(InvalidInput) as refused:
        import_odm_forms(path, tmp_path / "forms")
    assert refused.value.field == "study.xml"
