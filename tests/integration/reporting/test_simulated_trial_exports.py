"""Every export of a simulated trial (celltrial.simulate, 6 patients) reads back clean and counts match."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyreadstat
from fhir.resources.R4B.bundle import Bundle
from lxml import etree
from sqlalchemy import func, select

from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.reporting.ctgov_results import quality_problems, write_results
from celltrial.reporting.fhir_export import unresolved_references, write_fhir
from celltrial.reporting.figures import swimmer_figure
from celltrial.reporting.odm import write_odm
from celltrial.reporting.schemas import define_schema, odm_schema
from celltrial.reporting.sdtm import write_sdtm
from celltrial.reporting.swimmer import swimmer_lanes
from celltrial.reporting.trialdata import efficacy, load_trial_data
from celltrial.simulate.trial import simulate_trial
from celltrial.study.forms.models import FormInstance
from celltrial.study.locks import service as locks
from celltrial.study.safety.models import AdverseEvent
from celltrial.study.subjects.models import Subject
from celltrial.study.users import service as users


def test_a_simulated_trial_exports_to_conformant_sdtm_valid_odm_and_fhir_and_consistent_results(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'simulated.db'}"
    simulate_trial(url, patients=6, seed=21, until=date(2026, 6, 1))
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            manager = users.get_by_username_or_raise(session, username="datamanager")
            locks.lock(session, subject_id=None, by=manager, reason="database lock")
            data = load_trial_data(session, by=manager)
            sdtm = write_sdtm(data, tmp_path / "sdtm")
            write_odm(session, data, tmp_path / "study.xml")
            write_fhir(data, tmp_path / "bundle.json")
            results = write_results(data, tmp_path / "results.json")["resultsSection"]
            subjects = session.scalar(select(func.count()).select_from(Subject))
            events = session.scalar(select(func.count()).select_from(AdverseEvent))
            saved = session.execute(
                select(FormInstance.subject_id, FormInstance.form_code, FormInstance.data).where(
                    FormInstance.version > 0, FormInstance.form_code.in_(["lesions", "response"])
                )
            ).all()
            outcomes = efficacy(data)
            swimmer = swimmer_figure(swimmer_lanes(data), tmp_path / "swimmer")
            infused = session.scalar(select(func.count()).where(Subject.infusion_date.is_not(None)))
    finally:
        engine.dispose()
    assert [str(finding) for finding in sdtm.findings] == []
    dm, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "dm.xpt"))
    ae, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "ae.xpt"))
    lb, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "lb.xpt"))
    assert (len(dm), len(ae)) == (subjects, events)
    assert len(lb) > 0
    assert define_schema().validate(etree.parse(str(tmp_path / "sdtm" / "define.xml")))
    odm = etree.parse(str(tmp_path / "study.xml"))
    assert odm_schema().validate(odm)
    assert len(odm.findall(".//{http://www.cdisc.org/ns/odm/v1.3}SubjectData")) == subjects
    bundle = json.loads((tmp_path / "bundle.json").read_text())
    Bundle.model_validate(bundle)
    assert unresolved_references(bundle) == []
    infusions = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("code", {}).get("text") == "CD7 CAR-T cell infusion"
    ]
    assert infusions
    assert all(
        {"urn:celltrial:chain-of-identity", "urn:celltrial:isbt128-din"}
        <= {i["system"] for i in p["identifier"]}
        for p in infusions
    )
    ex, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "ex.xpt"))
    assert all(ex[ex["EXCAT"] == "CAR-T CELL INFUSION"]["EXREFID"] != "")
    assert quality_problems(results) == []
    _tumours_and_responses_match_the_forms(tmp_path / "sdtm", saved)
    assert len(outcomes) == infused
    assert swimmer.png.stat().st_size > 0


def _tumours_and_responses_match_the_forms(folder: Path, saved: list[Any]) -> None:
    """TU, TR and RS read back hold one record per lesion, measurement and derived response saved."""
    tu, _ = pyreadstat.read_xport(str(folder / "tu.xpt"))
    tr, _ = pyreadstat.read_xport(str(folder / "tr.xpt"))
    rs, _ = pyreadstat.read_xport(str(folder / "rs.xpt"))
    lesion_forms = [values for _subject, code, values in saved if code == "lesions"]
    measured = sum(1 for values in lesion_forms for slot in range(1, 7) if values.get(f"target_{slot}_ppd"))
    targets = {
        (subject, slot)
        for subject, code, values in saved
        if code == "lesions"
        for slot in range(1, 7)
        if values.get(f"target_{slot}_site")
    }
    assert lesion_forms
    assert (tr["TRTESTCD"] == "LDIAM").sum() == (tr["TRTESTCD"] == "LPERP").sum() == measured
    assert (tr["TRTESTCD"] == "SPD").sum() == sum(1 for values in lesion_forms if "spd" in values)
    assert (tu["TUORRES"] == "TARGET").sum() == len(targets)
    assert set(tr["TRLNKID"]) - {""} <= set(tu["TULNKID"])
    responses = [
        values for _subject, code, values in saved if code == "response" and "overall_response" in values
    ]
    assert len(rs) == len(responses) > 0
    assert set(rs["RSCAT"]) <= {
        "LUGANO CLASSIFICATION 2014",
        "ELN 2017 AML RESPONSE CRITERIA",
        "NCCN ALL RESPONSE CRITERIA",
    }
