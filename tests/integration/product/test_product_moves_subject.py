"""The subject's status follows its product: apheresed at collection, infused at infusion, both audited."""

from __future__ import annotations

from datetime import timedelta

from product_world import PASSWORD, START, Lab, din, when
from sqlalchemy import select

from celltrial.errors import NotAllowed
from celltrial.product import identity
from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep
from celltrial.study.audit.models import AuditEntry
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus

S = CustodyStep


def _subject(lab: Lab, number: str) -> Subject:
    return lab.run(lambda s: s.get_one(Subject, lab.subjects[number]))


def _status_changes(lab: Lab, number: str) -> list[tuple[str, str | None, str | None]]:
    rows = lab.run(
        lambda s: list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_id == lab.subjects[number], AuditEntry.field == "status")
                .order_by(AuditEntry.id)
            )
        )
    )
    return [(row.actor, row.new_value, row.reason) for row in rows]


def test_the_collection_moves_the_subject_to_apheresed_and_the_infusion_to_infused(lab: Lab) -> None:
    _refuse_a_hand_over_nobody_allowed_to_change_the_subjects_status_signed(lab)
    lab.collect("S01-001")
    assert _subject(lab, "S01-001").status is SubjectStatus.APHERESED
    changes = _status_changes(lab, "S01-001")
    assert [(actor, new) for actor, new, _ in changes] == [("nurse-one", '"apheresed"')]
    reason = changes[0][2]
    assert reason is not None
    assert din(lab.subjects["S01-001"]) in reason
    # the rest of the chain, then the bedside check and the infusion
    for step in CHAIN_ORDER[1:]:
        if step is S.QC_SAMPLED:
            lab.end_manufacturing("S01-001")
        if step is S.RELEASED:
            lab.register_bags("S01-001", (501,))
            lab.release_tests("S01-001")
        if step is S.INFUSED:
            lab.verify("S01-001")
        lab.step("S01-001", step)
    subject = _subject(lab, "S01-001")
    assert subject.status is SubjectStatus.INFUSED
    assert subject.infusion_date == when(S.INFUSED).date()
    assert [new for _, new, _ in _status_changes(lab, "S01-001")] == ['"apheresed"', '"infused"']


def _refuse_a_hand_over_nobody_allowed_to_change_the_subjects_status_signed(lab: Lab) -> None:
    def collect_between_two_lab_staff() -> object:
        return lab.run(
            lambda s: identity.record_collection(
                s,
                by=lab["lab"],
                subject_id=lab.subjects["S01-001"],
                din=din(7),
                collected_at=START,
                expires_at=START + timedelta(hours=72),
                location="Apheresis unit",
                handed_over_by=lab["lab2"],
                received_by=lab["lab"],
                counterpart_password=PASSWORD,
            )
        )

    error = lab.refuses(NotAllowed, collect_between_two_lab_staff, field="received_by")
    assert "investigator" in str(error)
    assert _subject(lab, "S01-001").status is SubjectStatus.ENROLLED
