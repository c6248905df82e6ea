"""Consistency of an adverse event: the rules a saved event must satisfy (pure).

* CTCAE v5.0: grade 5 is death related to the adverse event, so grade 5 and outcome *fatal* go
  together; the system organ class is one of CTCAE's 26;
* ICH E2A: an event is serious when it meets a seriousness criterion, and one that results in
  death meets the *death* criterion;
* an event that resolved (recovered, with or without sequelae, or fatal) has an end date; one
  still recovering or not recovered has none;
* prolonged cytopenia is cytopenia still present after day 28 after the infusion;
* an event starts neither before the subject's consent nor after today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from celltrial.analysis.safety_events import SYSTEM_ORGAN_CLASSES, ActionTaken, Aesi, Outcome, Seriousness
from celltrial.errors import InvalidInput

__all__ = ["PROLONGED_CYTOPENIA_AFTER_DAY", "AdverseEventState", "canonical_soc", "check_adverse_event"]

PROLONGED_CYTOPENIA_AFTER_DAY = 28
_RESOLVED = frozenset({Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE, Outcome.FATAL})
_ONGOING = frozenset({Outcome.RECOVERING, Outcome.NOT_RECOVERED})
_SOC_BY_KEY = {soc.lower(): soc for soc in SYSTEM_ORGAN_CLASSES}


@dataclass(frozen=True)
class AdverseEventState:
    """The values an adverse event would have once saved."""

    grade: int
    onset_date: date
    resolution_date: date | None
    serious: bool
    seriousness: frozenset[Seriousness]
    outcome: Outcome
    action_taken: frozenset[ActionTaken]
    aesi: frozenset[Aesi]


def canonical_soc(soc: str) -> str:
    """The CTCAE system organ class named ``soc`` (any case), or InvalidInput listing them."""
    found = _SOC_BY_KEY.get(" ".join(soc.split()).lower())
    if found is None:
        raise InvalidInput(
            f"{soc!r} is not a CTCAE system organ class (e.g. 'Nervous system disorders', 'Investigations')",
            field="soc",
        )
    return found


def check_adverse_event(
    event: AdverseEventState, *, today: date, consent_date: date | None, infusion_date: date | None
) -> None:
    """Refuse an inconsistent adverse event, naming the field at fault."""
    if event.onset_date > today:
        raise InvalidInput(f"the onset {event.onset_date} is in the future", field="onset_date")
    if consent_date is not None and event.onset_date < consent_date:
        raise InvalidInput(
            f"the onset {event.onset_date} precedes the subject's consent ({consent_date})",
            field="onset_date",
        )
    end = event.resolution_date
    if end is not None and end < event.onset_date:
        raise InvalidInput(
            f"the event ends on {end}, before its onset {event.onset_date}", field="resolution_date"
        )
    if end is not None and end > today:
        raise InvalidInput(f"the end date {end} is in the future", field="resolution_date")
    _check_outcome(event)
    _check_seriousness(event)
    if ActionTaken.NONE in event.action_taken and len(event.action_taken) > 1:
        raise InvalidInput("'none' cannot be combined with another action", field="action_taken")
    if Aesi.PROLONGED_CYTOPENIA in event.aesi:
        _check_prolonged_cytopenia(event, infusion_date)


def _check_outcome(event: AdverseEventState) -> None:
    if (event.grade == 5) != (event.outcome is Outcome.FATAL):
        field = "outcome" if event.grade == 5 else "grade"
        raise InvalidInput(
            "grade 5 (death related to the event) and outcome 'fatal' go together", field=field
        )
    if event.outcome in _RESOLVED and event.resolution_date is None:
        what = "the date of death" if event.outcome is Outcome.FATAL else "the end date"
        raise InvalidInput(
            f"an event with outcome {event.outcome.value!r} needs {what}", field="resolution_date"
        )
    if event.outcome in _ONGOING and event.resolution_date is not None:
        raise InvalidInput(
            f"an event with outcome {event.outcome.value!r} is ongoing and has no end date",
            field="resolution_date",
        )


def _check_seriousness(event: AdverseEventState) -> None:
    if event.serious and not event.seriousness:
        raise InvalidInput("a serious event needs at least one seriousness criterion", field="seriousness")
    if not event.serious and event.seriousness:
        raise InvalidInput("seriousness criteria are for serious events only", field="seriousness")
    died = Seriousness.DEATH in event.seriousness
    if event.outcome is Outcome.FATAL and not died:
        raise InvalidInput("a fatal event is serious with the criterion 'death'", field="seriousness")
    if died and event.outcome is not Outcome.FATAL:
        raise InvalidInput("the criterion 'death' needs outcome 'fatal'", field="outcome")


def _check_prolonged_cytopenia(event: AdverseEventState, infusion_date: date | None) -> None:
    if infusion_date is None:
        raise InvalidInput(
            "prolonged cytopenia is counted from the infusion, which is not recorded", field="aesi"
        )
    limit = infusion_date + timedelta(days=PROLONGED_CYTOPENIA_AFTER_DAY)
    if event.resolution_date is not None and event.resolution_date <= limit:
        raise InvalidInput(
            f"prolonged cytopenia persists after day {PROLONGED_CYTOPENIA_AFTER_DAY} ({limit}); "
            f"this one ended on {event.resolution_date}",
            field="aesi",
        )
