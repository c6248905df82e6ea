"""A trial writer to be killed: forms, adverse events and custody hand-overs, each reported once committed.

Run as ``python crash_writer.py``. The process imports celltrial once, prints ``ready`` and then
serves commands on stdin, one per line, so that dozens of writers cost one start-up:

- ``run DATABASE_URL SECOND_LAB_USERNAME SEED``: on a database filled by
  :func:`reliability_world.build_trial`, fork a writer (``child PID`` is printed first). The
  writer loops forever, each iteration one unit of work through the services, chosen at
  random: a new concomitant medication form saved, or a change to an existing one (with its
  reason); an adverse event; the next custody step of a subject's product (collection,
  shipment, receipt, manufacturing start). After each commit it prints one line, in one
  ``write`` (atomic on a pipe): ``form ID VERSION``, ``ae ID``, ``custody ID`` or
  ``collection ID``.
- when the writer ends (killed), ``ended PID SIGNAL`` is printed;
- ``quit``: exit.
"""

from __future__ import annotations

import os
import random
import sys
import traceback
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.clinical.isbt128 import make_din
from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.product import custody, identity
from celltrial.product.custody_rules import CustodyStep, TemperatureRange
from celltrial.product.models import ApheresisCollection, ChainOfIdentity
from celltrial.simulate.demo_users import DEMO_PASSWORD
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.safety import service as safety
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import ENROLLED_STATUSES
from celltrial.study.users import service as users

NEXT_STEP = {
    CustodyStep.COLLECTED: CustodyStep.SHIPPED_TO_MANUFACTURING,
    CustodyStep.SHIPPED_TO_MANUFACTURING: CustodyStep.RECEIVED,
    CustodyStep.RECEIVED: CustodyStep.MANUFACTURING_STARTED,
}
COLD = TemperatureRange(2.0, 8.0)
SECOND_LAB = ["s01.lab2"]


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())


def enrolled(session: Session) -> list[int]:
    """Subjects on the trial (enrolled, or apheresed once their collection is recorded)."""
    query = select(Subject.id).where(Subject.status.in_(ENROLLED_STATUSES)).order_by(Subject.id)
    return list(session.scalars(query))


def save_form(session: Session, pick: random.Random, subject_ids: list[int]) -> str:
    investigator = users.get_by_username_or_raise(session, username="investigator")
    existing = list(session.scalars(select(FormInstance.id).where(FormInstance.form_code == "conmeds")))
    if existing and pick.random() < 0.5:
        form = session.get_one(FormInstance, pick.choice(existing))
        result = forms.save(
            session,
            form_id=form.id,
            values={"dose": pick.randint(1, 900), "dose_unit": "mg"},
            expected_version=form.version,
            reason="dose transcribed from the chart",
            by=investigator,
        )
    else:
        form = forms.add_form(
            session, subject_id=pick.choice(subject_ids), form_code="conmeds", by=investigator
        )
        result = forms.save(
            session,
            form_id=form.id,
            values={
                "medication": pick.choice(["Tocilizumab", "Dexamethasone", "Levetiracetam", "Aciclovir"]),
                "indication": "cytokine release syndrome",
                "route": "intravenous",
                "start_date": (datetime.now(UTC).date() - timedelta(days=3)).isoformat(),
                "ongoing": True,
            },
            expected_version=0,
            by=investigator,
        )
    return f"form {result.form.id} {result.form.version}"


def report_event(session: Session, pick: random.Random, subject_ids: list[int]) -> str:
    investigator = users.get_by_username_or_raise(session, username="investigator")
    event = safety.record_adverse_event(
        session,
        by=investigator,
        subject_id=pick.choice(subject_ids),
        event={
            "term": pick.choice(["Nausea", "Fatigue", "Headache", "Fever"]),
            "soc": "General disorders and administration site conditions",
            "grade": pick.randint(1, 2),
            "onset_date": (datetime.now(UTC).date() - timedelta(days=2)).isoformat(),
            "related_to_cart": "possible",
            "related_to_lymphodepletion": "unlikely",
            "outcome": "recovering",
        },
    )
    return f"ae {event.id}"


def hand_over(session: Session, pick: random.Random, subject_ids: list[int]) -> str | None:
    """The next custody step of a random subject whose chain is not yet in manufacturing."""
    lab = users.get_by_username_or_raise(session, username="lab")
    rows = session.execute(
        select(ChainOfIdentity.subject_id, ApheresisCollection.custody_step, ApheresisCollection.custody_at)
        .join(ApheresisCollection, ApheresisCollection.coi_id == ChainOfIdentity.id)
        .where(ChainOfIdentity.subject_id.in_(subject_ids))
    ).all()
    chains = {row.subject_id: (row.custody_step, row.custody_at) for row in rows}
    going = [s for s in subject_ids if s in chains and chains[s][0] in NEXT_STEP]
    fresh = [s for s in subject_ids if s not in chains]
    if not going and not fresh:
        return None
    subject_id = pick.choice(going if going and (pick.random() < 0.75 or not fresh) else fresh)
    if subject_id not in chains:
        nurse = users.get_by_username_or_raise(session, username="investigator")
        collected = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        chain = identity.record_collection(
            session,
            by=lab,
            subject_id=subject_id,
            din=make_din("G1234", 26, subject_id).keyboard_entry,
            collected_at=collected,
            expires_at=collected + timedelta(hours=72),
            location="Apheresis unit",
            handed_over_by=nurse,
            received_by=lab,
            counterpart_password=DEMO_PASSWORD,
        )
        return f"collection {chain.id}"
    step, at = chains[subject_id]
    following = NEXT_STEP[CustodyStep(step)]
    event = custody.record_custody_event(
        session,
        by=lab,
        subject_id=subject_id,
        step=following,
        occurred_at=at + timedelta(hours=2),
        location="Cell therapy laboratory",
        handed_over_by=lab,
        received_by=users.get_by_username_or_raise(session, username=SECOND_LAB[0]),
        counterpart_password=DEMO_PASSWORD,
        temperature_range=COLD if following is CustodyStep.SHIPPED_TO_MANUFACTURING else None,
        lot_number=f"LOT-{subject_id:05d}" if following is CustodyStep.MANUFACTURING_STARTED else None,
    )
    return f"custody {event.id}"


def write_forever(url: str, seed: int) -> None:
    pick = random.Random(seed)
    sessions = session_factory(make_engine(url))
    with sessions() as session:
        subject_ids = enrolled(session)
    actions = [save_form, report_event, hand_over]
    while True:
        action = pick.choice(actions)
        with unit_of_work(sessions) as session:
            line = action(session, pick, subject_ids)
        if line:
            say(line)


def serve() -> None:
    say("ready")
    for command in sys.stdin:
        words = command.split()
        if not words or words[0] == "quit":
            return
        child = os.fork()
        if child == 0:
            try:
                url, SECOND_LAB[0], seed = words[1:]
                write_forever(url, int(seed))
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        say(f"child {child}")
        _, status = os.waitpid(child, 0)
        say(f"ended {child} {os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)}")


if __name__ == "__main__":
    import psycopg  # noqa: F401  (the PostgreSQL driver, loaded once before forking)

    serve()
