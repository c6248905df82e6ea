"""Computed CRF fields through the forms service: the lesion SPD and the Lugano response, on both databases.

Cheson et al., J Clin Oncol 2014;32:3059 (Lugano), Table 3: a CT partial response is an SPD at least
50% below baseline; a complete response has every target node at most 15 mm.
"""

from __future__ import annotations

from typing import Any

from edc_world import Edc, days_ago, edc_fixture  # noqa: F401
from sqlalchemy import select

from celltrial.errors import InvalidInput
from celltrial.study.audit import service as audit
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.queries import service as queries
from celltrial.study.visits.models import Visit


def lesions(days_back: int, first: tuple[float, float], second: tuple[float, float]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "assessment_date": days_ago(days_back),
        "method": "ct",
        "non_target_status": "absent_or_normal",
        "new_lesions": False,
    }
    for slot, (longest, perpendicular) in enumerate((first, second), start=1):
        values |= {
            f"target_{slot}_site": f"Mediastinal lymph nodes {slot}",
            f"target_{slot}_kind": "nodal",
            f"target_{slot}_ldiam": longest,
            f"target_{slot}_perpdiam": perpendicular,
        }
    return values


def add(edc: Edc, subject_id: int, code: str, values: dict[str, Any], *, at_screening: bool = False) -> int:
    def entered(session: Any) -> int:
        visit_id = None
        if at_screening:
            visit_id = session.scalar(
                select(Visit.id).where(Visit.subject_id == subject_id, Visit.code == "SCR")
            )
        by = edc["coordinator"]
        form = forms.add_form(session, subject_id=subject_id, form_code=code, by=by, visit_id=visit_id)
        forms.save(session, form_id=form.id, values=values, expected_version=0, by=by, complete=True)
        return form.id

    return edc.run(entered)


def data(edc: Edc, form_id: int) -> tuple[dict[str, Any], int]:
    with edc.sessions() as session:
        form = session.get_one(FormInstance, form_id)
        return dict(form.data), form.version


def test_the_response_is_derived_on_save_refused_when_typed_and_follows_a_corrected_lesion_form(
    edc: Edc,
) -> None:
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(40))
    baseline = add(edc, subject_id, "lesions", lesions(30, (40.0, 30.0), (30.0, 20.0)), at_screening=True)
    assert data(edc, baseline)[0]["spd"] == 1800.0
    follow_up = add(edc, subject_id, "lesions", lesions(2, (20.0, 15.0), (15.0, 10.0)))
    response_values = {
        "assessment_date": days_ago(2),
        "disease_type": "lymphoma",
        "methods": ["ct"],
        "marrow_involvement": "normal",
        "spleen": "absent_or_normal",
    }
    response = add(edc, subject_id, "response", response_values)
    derived, version = data(edc, response)
    assert (derived["overall_response"], derived["response_criteria"]) == ("pr", "lugano_2014_ct")
    assert derived["spd_change_percent"] == -75.0
    coordinator = edc["coordinator"]
    edc.refuses(
        InvalidInput,
        lambda s: forms.save(
            s,
            form_id=response,
            values={"overall_response": "cr"},
            expected_version=version,
            by=coordinator,
            reason="typed",
        ),
        field="response.overall_response",
    )
    edc.run(
        lambda s: forms.save(
            s,
            form_id=follow_up,
            values={"target_1_ldiam": 12.0, "target_1_perpdiam": 9.0},
            expected_version=1,
            by=coordinator,
            reason="remeasured on the source images",
        )
    )
    derived, recomputed = data(edc, response)
    assert (derived["overall_response"], recomputed) == ("cr", version + 1)
    with edc.sessions() as session:
        entries = [
            e
            for e in audit.history(session, entity="form", entity_id=str(response))
            if e.field == "response.overall_response"
        ]
    assert [(e.old_value, e.new_value) for e in entries] == [(None, '"pr"'), ('"pr"', '"cr"')]
    assert entries[-1].reason == f"recomputed: lesions form {follow_up} changed"


def test_an_implausible_component_raises_its_query_and_leaves_the_response_empty_until_corrected(
    edc: Edc,
) -> None:
    """A transcription error (116% marrow blasts) is saved with a range query, as any failed edit
    check; the response cannot be derived from it, so it stays empty, and the correction derives it."""
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(40))
    baseline = {"diagnosis": "t_cell_all", "marrow_blasts_percent": 62.0, "peripheral_blasts_percent": 4.0}
    with edc.sessions() as session:
        screening = session.execute(
            select(FormInstance.id, FormInstance.version).where(
                FormInstance.subject_id == subject_id, FormInstance.form_code == "screening"
            )
        ).one()
    edc.run(
        lambda s: forms.save(
            s,
            form_id=screening.id,
            values=baseline,
            expected_version=screening.version,
            by=edc["coordinator"],
        )
    )
    response_values = {
        "assessment_date": days_ago(2),
        "disease_type": "leukemia",
        "methods": ["bone_marrow_morphology"],
        "marrow_blasts_percent": 116.0,
        "marrow_adequate": True,
        "circulating_blasts": False,
        "extramedullary_disease": "absent",
        "anc": 1.5,
        "platelets": 120.0,
        "mrd_status": "not_done",
    }
    response = add(edc, subject_id, "response", response_values)
    saved, version = data(edc, response)
    assert saved["marrow_blasts_percent"] == 116.0
    assert "overall_response" not in saved
    with edc.sessions() as session:
        raised = [query.field for query in queries.open_automatic(session, form_id=response)]
    assert "marrow_blasts_percent" in raised
    edc.run(
        lambda s: forms.save(
            s,
            form_id=response,
            values={"marrow_blasts_percent": 1.6},
            expected_version=version,
            by=edc["coordinator"],
            reason="transcription error: 1.6% on the marrow report",
        )
    )
    corrected = data(edc, response)[0]
    assert (corrected["overall_response"], corrected["response_criteria"]) == ("cr", "nccn_all")
