"""A form imported from ODM (`celltrial import odm`) joins the form dictionary and is filled like others."""

from __future__ import annotations

from pathlib import Path

import pytest
from edc_world import Edc, days_ago, edc_fixture  # noqa: F401
from lxml import etree
from typer.testing import CliRunner

from celltrial.cli import app
from celltrial.errors import InvalidInput
from celltrial.reporting.odm_metadata import ODM_NS, add_metadata, odm
from celltrial.study.audit import service as audit
from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import (
    FieldDefinition,
    FormDefinition,
    form_definition,
    form_definitions,
    imported_forms_dir,
)
from celltrial.study.forms.models import FormStatus

QUALITY_OF_LIFE = FormDefinition(
    code="quality_of_life",
    name="Quality of life (EQ VAS)",
    version=1,
    repeating=True,
    fields=[
        FieldDefinition(name="assessment_date", label="Assessment date", type="date", required=True),
        FieldDefinition(name="health_today", label="Your health today", type="integer", min=0, max=100),
    ],
)


def _odm_file(folder: Path, definitions: list[FormDefinition]) -> Path:
    root = etree.Element(
        odm("ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": "F",
            "ODMVersion": "1.3.2",
            "CreationDateTime": "2026-01-01T00:00:00",
        },
        nsmap={None: ODM_NS},
    )
    study = etree.SubElement(root, odm("Study"), {"OID": "S"})
    names = etree.SubElement(study, odm("GlobalVariables"))
    for tag in ("StudyName", "StudyDescription", "ProtocolName"):
        etree.SubElement(names, odm(tag)).text = "S"
    add_metadata(study, oid="MDV.1", definitions=definitions, schedule=None)
    path = folder / "forms.xml"
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="UTF-8")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CELLTRIAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_an_imported_odm_form_is_read_from_the_home_folder_filled_and_saved(edc: Edc, home: Path) -> None:
    assert "quality_of_life" not in form_definitions()
    result = CliRunner().invoke(app, ["import", "odm", str(_odm_file(home.parent, [QUALITY_OF_LIFE]))])
    assert result.exit_code == 0, result.output
    assert (imported_forms_dir() / "quality_of_life.yaml").is_file()
    assert form_definition("quality_of_life") == QUALITY_OF_LIFE
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(10))
    form = edc.run(
        lambda s: forms.add_form(s, subject_id=subject_id, form_code="quality_of_life", by=edc["coordinator"])
    )
    values = {"assessment_date": days_ago(1), "health_today": 120}
    saved = edc.run(
        lambda s: forms.save(
            s, form_id=form.id, values=values, expected_version=0, complete=True, by=edc["coordinator"]
        )
    )
    assert (saved.form.version, saved.form.status) == (1, FormStatus.COMPLETE)
    assert saved.form.data["health_today"] == 120
    assert [failure.field for failure in saved.failures] == ["health_today"]  # above its range of 0-100
    with edc.sessions() as session:
        entered = {e.field for e in audit.history(session, entity="form", entity_id=str(form.id))}
        assert audit.verify(session).ok
    assert {"quality_of_life.assessment_date", "quality_of_life.health_today"} <= entered


def test_an_imported_form_may_not_redefine_a_shipped_one(home: Path) -> None:
    shipped = form_definition("vital_signs")
    changed = shipped.model_copy(update={"name": "Vital signs (other)"})
    (home / "forms").mkdir(parents=True)
    (home / "forms" / "vital_signs.yaml").write_text(
        "\n".join(["code: vital_signs", f"name: {changed.name}", "version: 1", "fields:"])
        + "\n  - {name: pulse, label: Pulse, type: integer}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as refused:
        form_definitions()
    assert str(refused.value.field).endswith("vital_signs.yaml")
