"""The whole trial, simulated in calendar time through the study and product services.

:func:`simulate_trial` fills an empty database: the sites, the staff and the study are set up,
then each referred patient is followed from referral (see :mod:`celltrial.simulate.enrolment`,
:mod:`.treatment`, :mod:`.follow_up`) day by day from the study start to the data cut. Each
simulated day is one unit of work in which every task calls a service as the person responsible
would: the audit trail, queries, signatures and checks are those of a real trial.

The study clock (:mod:`celltrial.study.clock`) runs on simulated time: while a task runs it
stands :data:`ENTRY_DELAY` (a day) after the task's scheduled time, when the site enters the
task's data (a task records events up to a day after it starts: a consent signed at 09:30 by
the task of 09:00, a sponsor report at 22:00 by the task of 18:00, a shipment's arrival the
next morning by the shipping task), and at 08:00 on the study start while the study is set
up. So every time the services store (audit entries, status changes, consents, signatures) is
simulated time, never the wall clock.

The services refuse data dated in the future, so the data cut is at the latest yesterday; by
default it is yesterday, which makes the simulated trial the trial as it stands today. Given the
same seed, scenario and cut, the database holds the same data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.errors import Conflict, InvalidInput
from celltrial.simulate.consort import Consort, consort_of
from celltrial.simulate.demo_users import quick_password_hashing
from celltrial.simulate.enrolment import refer
from celltrial.simulate.patients import referrals
from celltrial.simulate.scenario import Scenario, default_scenario
from celltrial.simulate.staff import register_study, set_up_staff
from celltrial.simulate.treatment import after_enrolment
from celltrial.simulate.world import World, at
from celltrial.study.audit import service as audit
from celltrial.study.clock import SimulatedClock, clock_set_to
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow

__all__ = ["MAX_PATIENTS", "SimulationSummary", "data_cut", "simulate_trial"]

MAX_PATIENTS = 5000
ENTRY_DELAY = timedelta(days=1)
"""How long after a task's scheduled time its data are entered (the study clock while it runs)."""
Progress = Callable[[date, date], None]


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation did: the CONSORT flow at the cut, counts of what was entered, the audit trail."""

    nct_id: str
    seed: int
    patients: int
    start: date
    cut: date
    consort: Consort
    activity: dict[str, int]
    audit_entries: int
    audit_verified: bool
    seconds: float = field(compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "nct_id": self.nct_id,
            "seed": self.seed,
            "patients": self.patients,
            "start": self.start.isoformat(),
            "cut": self.cut.isoformat(),
            "consort": self.consort.as_dict(),
            "activity": dict(sorted(self.activity.items())),
            "audit_entries": self.audit_entries,
            "audit_verified": self.audit_verified,
            "seconds": round(self.seconds, 2),
        }


def data_cut(until: date | None, *, start: date, today: date) -> date:
    """The last simulated day: ``until``, else yesterday; never today or later, never before the start."""
    cut = until or today - timedelta(days=1)
    if not isinstance(cut, date):
        raise InvalidInput(f"expected a date, got {until!r}", field="until")
    if cut >= today:
        raise InvalidInput(
            f"the data cut {cut} must be before today ({today}): the services refuse data from the future",
            field="until",
        )
    if cut < start:
        raise InvalidInput(f"the data cut {cut} is before the study start {start}", field="until")
    return cut


def simulate_trial(
    database_url: str,
    *,
    patients: int,
    seed: int,
    until: date | None = None,
    progress: Progress | None = None,
    scenario: Scenario | None = None,
) -> SimulationSummary:
    """Simulate the trial with ``patients`` referrals into the empty database at ``database_url``."""
    began = time.perf_counter()
    chosen = scenario or default_scenario()
    if isinstance(patients, bool) or not isinstance(patients, int) or not 1 <= patients <= MAX_PATIENTS:
        raise InvalidInput(
            f"the number of patients must be 1 to {MAX_PATIENTS}, not {patients!r}", field="patients"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"the seed must be a whole number of at least 0, not {seed!r}", field="seed")
    start = chosen.study.start.value
    cut = data_cut(until, start=start, today=utcnow().date())
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        clock = SimulatedClock(at(start, 8))
        with clock_set_to(clock), quick_password_hashing(), unit_of_work(sessions) as session:
            registered = trials.get_all(session)
            if registered:
                names = ", ".join(trial.nct_id for trial in registered)
                raise Conflict(
                    f"the database already holds the study {names}: simulate into an empty database",
                    field="database",
                )
            staff = set_up_staff(session, chosen)
            study_id = register_study(session, chosen, staff)
            settings = trials.settings_of(trials.get_or_raise(session, study_id=study_id))
        world = World(
            sessions=sessions,
            scenario=chosen,
            seed=seed,
            cut=cut,
            study_id=study_id,
            staff=staff,
            settings=settings,
            on_enrolled=after_enrolment,
        )
        for patient in referrals(chosen, seed=seed, patients=patients):
            refer(world, patient)
        with clock_set_to(clock):
            _run(world, progress, clock)
        with sessions() as session:
            consort = consort_of(session, world)
            checked = audit.verify(session)
    finally:
        engine.dispose()
    return SimulationSummary(
        nct_id=chosen.study.nct_id,
        seed=seed,
        patients=patients,
        start=start,
        cut=cut,
        consort=consort,
        activity=dict(world.tally),
        audit_entries=checked.count,
        audit_verified=checked.ok,
        seconds=time.perf_counter() - began,
    )


def _run(world: World, progress: Progress | None, clock: SimulatedClock) -> None:
    """Take the agenda day by day up to the cut, one unit of work per day, the clock at each task's time."""
    day = world.agenda.next_day()
    while day is not None and day <= world.cut:
        with unit_of_work(world.sessions) as session:
            entry = world.agenda.pop(day)
            while entry is not None:
                clock.set(max(entry.when + ENTRY_DELAY, clock()))
                entry.action(session)
                entry = world.agenda.pop(day)
        if progress is not None:
            progress(day, world.cut)
        day = world.agenda.next_day()
