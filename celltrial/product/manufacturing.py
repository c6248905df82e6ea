"""Manufacturing lots: end of manufacturing (or failure), release testing, and exceptional release.

A lot opens with the custody step ``manufacturing_started``. Its outcome is

* ``failure`` when manufacturing ends without a product (:func:`end_manufacturing` with a
  failure reason) — counted in the CONSORT flow; the chain ends there;
* ``success`` or ``out_of_specification`` when the release results are recorded
  (:func:`record_release_tests`), by :func:`celltrial.product.release_rules.decide_release`
  against the protocol settings' ``release_specifications``.

A lot out of specification is not released unless the sponsor documents an exceptional release
(:func:`approve_exceptional_release`): an electronic signature (meaning *approved*, password
asked again) over the failed results and the justification. The lot then carries the
``exceptional_release`` flag, which every view of the product shows.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy.orm import Session

from celltrial.errors import Conflict, IllegalTransition, InvalidInput
from celltrial.product import inputs
from celltrial.product.access import lot_for
from celltrial.product.custody import lock
from celltrial.product.custody_rules import CustodyStep, LotOutcome
from celltrial.product.models import ManufacturingLot, ReleaseTest
from celltrial.product.release_rules import DoseBasis, ReleaseResults, decide_release
from celltrial.protocol.library import load_settings
from celltrial.protocol.settings import ProtocolSettings
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action, require
from celltrial.study.signatures import service as signatures
from celltrial.study.subjects.models import Subject
from celltrial.study.trial.models import Trial
from celltrial.study.users.models import User

__all__ = [
    "EXCEPTIONAL_RELEASE_ACTION",
    "approve_exceptional_release",
    "end_manufacturing",
    "record_release_tests",
]

EXCEPTIONAL_RELEASE_ACTION = Action.PRODUCT_EXCEPTIONAL_RELEASE
"""The permission an exceptional release approval checks (the sponsor's, in the matrix)."""


def _subject(session: Session, lot: ManufacturingLot) -> Subject:
    return session.get_one(Subject, lot.collection.coi.subject_id)


def _reload(session: Session, lot: ManufacturingLot) -> ManufacturingLot:
    lock(session)
    return session.get_one(ManufacturingLot, lot.id)


def end_manufacturing(
    session: Session, *, by: User, lot_id: int, ended_at: datetime, failure_reason: str | None = None
) -> ManufacturingLot:
    """Record the end of manufacturing (harvest); a ``failure_reason`` marks the lot failed."""
    at = inputs.instant(ended_at, "ended_at")
    reason = inputs.text(failure_reason, "failure_reason", limit=2000, required=False)
    lot = _reload(session, lot_for(session, lot_id=lot_id, by=by, action=Action.PRODUCT_CUSTODY))
    if lot.ended_at is not None:
        raise Conflict(
            f"the end of manufacturing of lot {lot.lot_number} is already recorded", field="ended_at"
        )
    if lot.collection.custody_step is not CustodyStep.MANUFACTURING_STARTED:
        raise IllegalTransition(
            f"lot {lot.lot_number} cannot end: its chain is at {lot.collection.custody_step}", field="lot"
        )
    if at < lot.started_at:
        raise InvalidInput(
            f"{at.isoformat()} is before the start of manufacturing {lot.started_at.isoformat()}",
            field="ended_at",
        )
    lot.ended_at = at
    if reason is not None:
        lot.outcome = LotOutcome.FAILURE
        lot.failure_reason = reason
    subject = _subject(session, lot)
    audit.record(
        session,
        actor=by.username,
        action="end_manufacturing",
        entity="manufacturing_lot",
        entity_id=lot.id,
        new={"ended_at": at, "outcome": lot.outcome, "failure_reason": reason},
        reason=reason,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return lot


def _settings(session: Session, subject: Subject) -> ProtocolSettings:
    trial = session.get_one(Trial, subject.study_id)
    return load_settings(trial.nct_id)


def record_release_tests(
    session: Session,
    *,
    by: User,
    lot_id: int,
    results: ReleaseResults,
    weight_kg: float,
    tested_at: datetime,
    settings: ProtocolSettings | None = None,
) -> ReleaseTest:
    """Record the lot's release results and decide, against the specifications, whether it is releasable.

    The endotoxin dose is computed on the lot's whole bag volume (the most the patient can
    receive) and ``weight_kg``. ``settings`` default to the subject's trial's protocol settings.
    """
    if not isinstance(results, ReleaseResults):
        raise InvalidInput("must be ReleaseResults", field="results")
    at = inputs.instant(tested_at, "tested_at")
    lot = _reload(session, lot_for(session, lot_id=lot_id, by=by, action=Action.PRODUCT_RELEASE))
    if lot.release_test is not None:
        raise Conflict(f"lot {lot.lot_number} already has release results", field="lot")
    step = lot.collection.custody_step
    if lot.outcome is LotOutcome.FAILURE or step is not CustodyStep.QC_SAMPLED:
        problem = "failed manufacturing" if lot.outcome is LotOutcome.FAILURE else f"is at {step}"
        raise IllegalTransition(
            f"lot {lot.lot_number} {problem}: release results follow QC sampling and precede release",
            field="lot",
        )
    if not lot.bags:
        raise IllegalTransition(
            f"lot {lot.lot_number} has no bags registered: the endotoxin limit needs the dose volume",
            field="lot",
        )
    if lot.ended_at is not None and at < lot.ended_at:
        raise InvalidInput(f"{at.isoformat()} is before the end of manufacturing", field="tested_at")
    subject = _subject(session, lot)
    chosen = settings or _settings(session, subject)
    dose = DoseBasis(volume_ml=sum(bag.volume_ml for bag in lot.bags), weight_kg=weight_kg)
    decision = decide_release(results, chosen.release_specifications, dose)
    test = ReleaseTest(
        lot_id=lot.id,
        tested_at=at,
        results=asdict(results),
        dose_volume_ml=dose.volume_ml,
        weight_kg=dose.weight_kg,
        endotoxin_eu_per_kg=decision.endotoxin_eu_per_kg,
        checks=[asdict(check) for check in decision.checks],
        releasable=decision.releasable,
        settings_version=chosen.settings_version,
        recorded_by_id=by.id,
    )
    session.add(test)
    lot.outcome = LotOutcome.SUCCESS if decision.releasable else LotOutcome.OUT_OF_SPECIFICATION
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="release_test",
        entity_id=test.id,
        new={
            "lot_number": lot.lot_number,
            "results": asdict(results),
            "endotoxin_eu_per_kg": decision.endotoxin_eu_per_kg,
            "releasable": decision.releasable,
            "out_of_specification": [str(check) for check in decision.failures],
            "settings_version": chosen.settings_version,
        },
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return test


def approve_exceptional_release(
    session: Session, *, by: User, lot_id: int, justification: str, password: str
) -> ManufacturingLot:
    """The sponsor's documented approval to release a lot that is out of specification.

    Signed electronically (meaning *approved*; the password is asked again). The lot is flagged
    ``exceptional_release`` from then on.
    """
    require(by, EXCEPTIONAL_RELEASE_ACTION)
    why = inputs.text(justification, "justification", limit=4000)
    assert why is not None
    lot = lot_for(session, lot_id=lot_id, by=by, action=EXCEPTIONAL_RELEASE_ACTION)
    test = lot.release_test
    if test is None:
        raise IllegalTransition(f"lot {lot.lot_number} has no release results to approve", field="lot")
    if test.releasable:
        raise IllegalTransition(
            f"lot {lot.lot_number} is within specification: no exceptional release is needed", field="lot"
        )
    failures = [check for check in test.checks if not check["passed"]]
    subject = _subject(session, lot)
    signature = signatures.sign(
        session,
        user=by,
        password=password,
        entity="manufacturing_lot",
        entity_id=lot.id,
        content={"lot_number": lot.lot_number, "out_of_specification": failures, "justification": why},
        meaning="approved",
        subject_id=subject.id,
        site_id=subject.site_id,
        action=EXCEPTIONAL_RELEASE_ACTION,
    )
    lot = _reload(session, lot)
    if lot.exceptional_release:
        raise Conflict(f"lot {lot.lot_number} already has an approved exceptional release", field="lot")
    if lot.collection.custody_step is not CustodyStep.QC_SAMPLED:
        raise IllegalTransition(
            f"lot {lot.lot_number} is at {lot.collection.custody_step}: an exceptional release is approved "
            "before release",
            field="lot",
        )
    lot.exceptional_release = True
    lot.exceptional_approved_by_id = by.id
    lot.exceptional_approved_at = signature.signed_at
    lot.exceptional_justification = why
    lot.exceptional_signature_id = signature.id
    audit.record(
        session,
        actor=by.username,
        action="approve_exceptional_release",
        entity="manufacturing_lot",
        entity_id=lot.id,
        field="exceptional_release",
        old=False,
        new=True,
        reason=why,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return lot
