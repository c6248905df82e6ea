"""ClinicalTrials.gov results (API v2 ``resultsSection``) and the registry record with current status.

Populations: participants *started* are the enrolled subjects; the analysis population of the
baseline, outcome and adverse-event tables is every subject who received the CAR-T infusion
(the arm is one group, ``CD7 CAR-T``).

- participantFlowModule: STARTED (enrolled), INFUSED, COMPLETED and NOT COMPLETED, with the
  reasons for not completing (dropWithdraws) from each subject's disposition or final status;
  subjects still in the study at the data cut-off are counted as such.
- baselineCharacteristicsModule: age (mean, SD; and the registry's age categories), sex,
  ethnicity and race (NIH/OMB categories) when the demographics CRF collected them, disease type.
- outcomeMeasuresModule: the record's outcome measures are free text, so celltrial reports the
  ones its protocol settings define: primary, participants with a stopping-rule event (grade ≥ 3
  CRS or ICANS by ASTCT, or a treatment-related death) within the DLT window; secondary, the
  overall response (CR, CRi, MLFS, PR) and CR/CRi rates at each response time point.
- adverseEventsModule: serious events (all) and other events at or above the 5% frequency
  threshold, with term, organ system, vocabulary, assessment type and affected/at risk, plus
  all-cause mortality.

:func:`quality_problems` lists what the registry would reject (missing counts, counts that do not
add up, an analysis population of zero); :func:`write_results` refuses to write while there are any.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from celltrial.errors import InvalidInput
from celltrial.protocol.library import parse_study
from celltrial.reporting.sdtm.events import grading_scale
from celltrial.reporting.sdtm.subjects import death_date
from celltrial.reporting.trialdata import AdverseEventRecord, SubjectRecord, TrialData

__all__ = ["build_results", "current_record", "quality_problems", "write_results"]

GROUP = "CD7 CAR-T"
THRESHOLD_PERCENT = 5.0
RESPONDERS = frozenset({"cr", "cri", "mlfs", "pr"})
REMISSIONS = frozenset({"cr", "cri"})
_REASONS = {
    "death": "Death",
    "withdrawn_by_subject": "Withdrawal by Subject",
    "withdrawn_by_investigator": "Physician Decision",
    "lost_to_follow_up": "Lost to Follow-up",
    "study_terminated": "Study Terminated by Sponsor",
    "other": "Other",
}
_STATUS_REASONS = {
    "died": "Death",
    "withdrawn": "Withdrawal by Subject",
    "lost_to_follow_up": "Lost to Follow-up",
}
_ENDED = {"ACTIVE_NOT_RECRUITING", "COMPLETED", "TERMINATED", "SUSPENDED"}


def _counts(group: str, value: int) -> list[dict[str, Any]]:
    return [{"groupId": group, "value": str(value)}]


def _group(prefix: str, description: str) -> dict[str, str]:
    return {"id": f"{prefix}000", "title": GROUP, "description": description}


def _infused(data: TrialData) -> list[SubjectRecord]:
    return [s for s in data.subjects if s.infusion_date is not None]


def _reason(data: TrialData, subject: SubjectRecord) -> str | None:
    """Why an enrolled subject did not complete the study (None when completed)."""
    form = data.latest_form("disposition", subject.id)
    if form is not None and form.data.get("status"):
        status = str(form.data["status"])
        return None if status == "completed" else _REASONS[status]
    if subject.status == "completed":
        return None
    if subject.status in _STATUS_REASONS:
        return _STATUS_REASONS[subject.status]
    return (
        "Not infused, still in the study" if subject.infusion_date is None else "In follow-up at data cut-off"
    )


def _participant_flow(data: TrialData) -> dict[str, Any]:
    enrolled = [s for s in data.subjects if s.subject_number is not None]
    reasons = [_reason(data, s) for s in enrolled]
    not_completed = Counter(r for r in reasons if r is not None)

    def milestone(kind: str, value: int) -> dict[str, Any]:
        return {"type": kind, "achievements": [{"groupId": "FG000", "numSubjects": str(value)}]}

    return {
        "recruitmentDetails": f"Enrolment at {len(data.sites)} site(s); data cut-off {data.extracted_on}.",
        "preAssignmentDetails": (
            f"{len(data.subjects)} patients screened, {len(data.subjects) - len(enrolled)} not enrolled."
        ),
        "groups": [_group("FG", "Lymphodepletion, then one intravenous infusion of CD7 CAR-T cells")],
        "periods": [
            {
                "title": "Overall Study",
                "milestones": [
                    milestone("STARTED", len(enrolled)),
                    milestone("Received CAR-T infusion", sum(s.infusion_date is not None for s in enrolled)),
                    milestone("COMPLETED", reasons.count(None)),
                    milestone("NOT COMPLETED", sum(not_completed.values())),
                ],
                "dropWithdraws": [
                    {"type": reason, "reasons": [{"groupId": "FG000", "numSubjects": str(count)}]}
                    for reason, count in sorted(not_completed.items())
                ],
            }
        ],
    }


def _categorical(title: str, counts: Counter[str], total: int) -> dict[str, Any]:
    return {
        "title": title,
        "paramType": "COUNT_OF_PARTICIPANTS",
        "unitOfMeasure": "Participants",
        "classes": [
            {
                "categories": [
                    {"title": name, "measurements": [{"groupId": "BG000", "value": str(count)}]}
                    for name, count in counts.items()
                ],
                "denoms": [{"units": "Participants", "counts": _counts("BG000", total)}],
            }
        ],
    }


def _baseline(data: TrialData, population: list[SubjectRecord]) -> dict[str, Any]:
    total = len(population)
    ages = [s.age_at_consent for s in population if s.age_at_consent is not None]
    age_classes: Counter[str] = Counter({"<=18 years": 0, "Between 18 and 65 years": 0, ">=65 years": 0})
    for age in ages:
        age_classes[
            "<=18 years" if age <= 18 else ">=65 years" if age >= 65 else "Between 18 and 65 years"
        ] += 1
    sexes: Counter[str] = Counter({"Female": 0, "Male": 0})
    sexes.update(s.sex.title() for s in population)
    measures = [
        {
            "title": "Age, Continuous",
            "paramType": "MEAN",
            "dispersionType": "STANDARD_DEVIATION",
            "unitOfMeasure": "years",
            "classes": [
                {
                    "categories": [
                        {
                            "measurements": [
                                {
                                    "groupId": "BG000",
                                    "value": f"{statistics.fmean(ages):.1f}" if ages else "NA",
                                    "spread": f"{statistics.stdev(ages):.1f}" if len(ages) > 1 else "NA",
                                }
                            ]
                        }
                    ],
                    "denoms": [{"units": "Participants", "counts": _counts("BG000", len(ages))}],
                }
            ],
        },
        _categorical("Age, Categorical", age_classes, total),
        _categorical("Sex: Female, Male", sexes, total),
    ]
    demographics = [data.latest_form("demographics", s.id) for s in population]
    if population and all(form is not None for form in demographics):
        ethnic = Counter({"Hispanic or Latino": 0, "Not Hispanic or Latino": 0, "Unknown or Not Reported": 0})
        race: Counter[str] = Counter()
        for form in demographics:
            assert form is not None
            code = form.data.get("ethnicity")
            ethnic[
                {
                    "hispanic_or_latino": "Hispanic or Latino",
                    "not_hispanic_or_latino": "Not Hispanic or Latino",
                }.get(str(code), "Unknown or Not Reported")
            ] += 1
            races = [r for r in form.data.get("race") or [] if r not in {"unknown", "not_reported"}]
            race[
                "More than one race"
                if len(races) > 1
                else races[0].replace("_", " ").title()
                if races
                else "Unknown or Not Reported"
            ] += 1
        measures += [
            _categorical("Ethnicity (NIH/OMB)", ethnic, total),
            _categorical("Race (NIH/OMB)", race, total),
        ]
    diagnoses: Counter[str] = Counter()
    labels = {
        "t_cell_lymphoma": "T-cell lymphoma",
        "t_cell_all": "T-cell acute lymphoblastic leukaemia",
        "cd7_positive_aml": "CD7-positive acute myeloid leukaemia",
    }
    for subject in population:
        form = data.latest_form("screening", subject.id)
        diagnoses[
            labels.get(str(form.data.get("diagnosis")), "Not recorded") if form else "Not recorded"
        ] += 1
    measures.append(_categorical("Disease type", diagnoses, total))
    return {
        "populationDescription": "All participants who received the CAR-T infusion.",
        "groups": [_group("BG", "All participants who received the CAR-T infusion")],
        "denoms": [{"units": "Participants", "counts": _counts("BG000", total)}],
        "measures": measures,
    }


def _stopping_event(data: TrialData, subject: SubjectRecord) -> bool:
    infused = subject.infusion_date
    assert infused is not None
    first, last = data.settings.safety.dlt_window_days.value

    def within(day: date) -> bool:
        return first <= (day - infused).days <= last

    for event in (e for e in data.adverse_events if e.subject_id == subject.id and within(e.onset_date)):
        related = event.related_to_cart in {"possible", "probable", "definite"} or (
            event.related_to_lymphodepletion in {"possible", "probable", "definite"}
        )
        if (grading_scale(event) == "ASTCT 2019" and event.grade >= 3) or (event.grade == 5 and related):
            return True
    return any(
        (a.crs_grade >= 3 or a.icans_grade >= 3) and within(a.assessment_date)
        for a in data.assessments
        if a.subject_id == subject.id
    )


def _measure(
    kind: str, title: str, description: str, time_frame: str, value: int, total: int
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "populationDescription": "All participants who received the CAR-T infusion.",
        "reportingStatus": "POSTED",
        "paramType": "COUNT_OF_PARTICIPANTS",
        "unitOfMeasure": "Participants",
        "timeFrame": time_frame,
        "groups": [_group("OG", "All participants who received the CAR-T infusion")],
        "denoms": [{"units": "Participants", "counts": _counts("OG000", total)}],
        "classes": [{"categories": [{"measurements": [{"groupId": "OG000", "value": str(value)}]}]}],
    }


def _outcomes(data: TrialData, population: list[SubjectRecord]) -> dict[str, Any]:
    first, last = data.settings.safety.dlt_window_days.value
    measures = [
        _measure(
            "PRIMARY",
            "Participants With a Stopping-Rule Safety Event",
            f"{data.settings.safety.stopping_rule.event.value} (CRS and ICANS graded by ASTCT 2019).",
            f"Day {first} to day {last} after the CAR-T infusion",
            sum(_stopping_event(data, s) for s in population),
            len(population),
        )
    ]
    infusion_day = {code: day for code, _name, anchor, day in _planned(data) if anchor == "infusion"}
    for day in data.settings.analysis.response_timepoints_days.value:
        codes = {code for code, planned in infusion_day.items() if planned == day}
        results = {}
        for subject in population:
            for form in data.forms_of("response", subject.id):
                visit = data.visit(form.visit_id)
                if visit is not None and visit.code in codes and form.data.get("overall_response"):
                    results[subject.id] = str(form.data["overall_response"])
        frame = f"Day {day} after the CAR-T infusion"
        measures.append(
            _measure(
                "SECONDARY",
                f"Overall Response Rate at Day {day}",
                "Participants in CR, CRi, MLFS or PR (ELN 2017, NCCN ALL or Lugano 2014).",
                frame,
                sum(r in RESPONDERS for r in results.values()),
                len(population),
            )
        )
        measures.append(
            _measure(
                "SECONDARY",
                f"CR/CRi Rate at Day {day}",
                "Participants in complete remission with or without count recovery.",
                frame,
                sum(r in REMISSIONS for r in results.values()),
                len(population),
            )
        )
    return {"outcomeMeasures": measures}


def _planned(data: TrialData) -> list[tuple[str, str, str, int]]:
    from celltrial.reporting.sdtm.common import VisitNumbers

    return list(VisitNumbers(data).planned)


def _event_rows(events: list[AdverseEventRecord], at_risk: int, *, minimum: float) -> list[dict[str, Any]]:
    by_term: dict[tuple[str, str, str], list[AdverseEventRecord]] = {}
    for event in events:
        vocabulary = f"CTCAE ({event.ctcae_version})"
        by_term.setdefault((event.term, event.soc, vocabulary), []).append(event)
    rows = []
    for (term, soc, vocabulary), found in sorted(by_term.items()):
        affected = len({e.subject_id for e in found})
        if at_risk and 100.0 * affected / at_risk < minimum:
            continue
        rows.append(
            {
                "term": term,
                "organSystem": soc,
                "sourceVocabulary": vocabulary,
                "assessmentType": "SYSTEMATIC_ASSESSMENT",
                "stats": [
                    {
                        "groupId": "EG000",
                        "numEvents": len(found),
                        "numAffected": affected,
                        "numAtRisk": at_risk,
                    }
                ],
            }
        )
    return rows


def _adverse_events(data: TrialData, population: list[SubjectRecord]) -> dict[str, Any]:
    ids = {s.id for s in population}
    at_risk = len(population)
    events = [e for e in data.adverse_events if e.subject_id in ids]
    serious = [e for e in events if e.serious]
    other = [e for e in events if not e.serious]
    other_rows = _event_rows(other, at_risk, minimum=THRESHOLD_PERCENT)
    shown = {row["term"] for row in other_rows}
    deaths = sum(death_date(data, s) is not None for s in population)
    return {
        "frequencyThreshold": f"{THRESHOLD_PERCENT:g}",
        "timeFrame": f"From the CAR-T infusion to the data cut-off ({data.extracted_on})",
        "description": "Adverse events graded by CTCAE; CRS and ICANS graded by the ASTCT consensus (2019).",
        "eventGroups": [
            {
                **_group("EG", "All participants who received the CAR-T infusion"),
                "deathsNumAffected": deaths,
                "deathsNumAtRisk": at_risk,
                "seriousNumAffected": len({e.subject_id for e in serious}),
                "seriousNumAtRisk": at_risk,
                "otherNumAffected": len({e.subject_id for e in other if e.term in shown}),
                "otherNumAtRisk": at_risk,
            }
        ],
        "seriousEvents": _event_rows(serious, at_risk, minimum=0.0),
        "otherEvents": other_rows,
    }


def build_results(data: TrialData) -> dict[str, Any]:
    """The ``resultsSection`` of the trial as the CT.gov API v2 shapes it."""
    population = _infused(data)
    return {
        "participantFlowModule": _participant_flow(data),
        "baselineCharacteristicsModule": _baseline(data, population),
        "outcomeMeasuresModule": _outcomes(data, population),
        "adverseEventsModule": _adverse_events(data, population),
    }


def _number(value: object, where: str, problems: list[str]) -> int:
    try:
        return int(str(value))
    except ValueError:
        problems.append(f"{where}: count {value!r} is missing or not a whole number")
        return 0


def quality_problems(results: dict[str, Any]) -> list[str]:
    """What the registry would reject: missing counts, counts that do not add up, empty populations."""
    problems: list[str] = []
    for p, period in enumerate(results["participantFlowModule"]["periods"]):
        where = f"participantFlowModule.periods[{p}]"
        count = {
            m["type"]: _number(m["achievements"][0]["numSubjects"], f"{where}.{m['type']}", problems)
            for m in period["milestones"]
        }
        if count.get("STARTED", 0) != count.get("COMPLETED", 0) + count.get("NOT COMPLETED", 0):
            problems.append(f"{where}: STARTED {count.get('STARTED')} is not COMPLETED + NOT COMPLETED")
        reasons = sum(
            _number(d["reasons"][0]["numSubjects"], where, problems) for d in period["dropWithdraws"]
        )
        if reasons != count.get("NOT COMPLETED", 0):
            problems.append(
                f"{where}.dropWithdraws: reasons add up to {reasons}, not {count.get('NOT COMPLETED')}"
            )
    baseline = results["baselineCharacteristicsModule"]
    total = _number(
        baseline["denoms"][0]["counts"][0]["value"], "baselineCharacteristicsModule.denoms", problems
    )
    if total == 0:
        problems.append("baselineCharacteristicsModule.denoms: no participant in the analysis population")
    for m, measure in enumerate(baseline["measures"]):
        if measure["paramType"] != "COUNT_OF_PARTICIPANTS":
            continue
        where = f"baselineCharacteristicsModule.measures[{m}] ({measure['title']})"
        added = sum(
            _number(c["measurements"][0]["value"], where, problems)
            for c in measure["classes"][0]["categories"]
        )
        if added != total:
            problems.append(f"{where}: categories add up to {added}, not {total}")
    for o, outcome in enumerate(results["outcomeMeasuresModule"]["outcomeMeasures"]):
        where = f"outcomeMeasuresModule.outcomeMeasures[{o}] ({outcome['title']})"
        denominator = _number(outcome["denoms"][0]["counts"][0]["value"], where, problems)
        value = _number(outcome["classes"][0]["categories"][0]["measurements"][0]["value"], where, problems)
        if value > denominator:
            problems.append(f"{where}: {value} participants out of {denominator}")
        if not outcome.get("timeFrame"):
            problems.append(f"{where}: no time frame")
    module = results["adverseEventsModule"]
    for kind in ("seriousEvents", "otherEvents"):
        for e, event in enumerate(module[kind]):
            stats = event["stats"][0]
            if stats["numAffected"] > stats["numAtRisk"] or stats["numAffected"] > stats["numEvents"]:
                problems.append(
                    f"adverseEventsModule.{kind}[{e}] ({event['term']}): affected exceeds at risk or events"
                )
    return problems


def write_results(data: TrialData, path: Path) -> dict[str, Any]:
    """Write ``{"resultsSection": ...}`` after the data-quality checks; refuse while any fails."""
    results = build_results(data)
    problems = quality_problems(results)
    if problems:
        listed = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        raise InvalidInput(f"the registry would reject these results: {listed}", field="resultsSection")
    document: dict[str, Any] = {"nctId": data.nct_id, "resultsSection": results}
    if data.draft:
        document["draft"] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return document


def current_record(data: TrialData) -> dict[str, Any]:
    """The registry record with the study's current status and enrolment (actual once recruitment ended)."""
    record = data.record.to_ctgov_json()
    section = record.setdefault("protocolSection", {})
    status = section.setdefault("statusModule", {})
    status["overallStatus"] = data.status
    status["statusVerifiedDate"] = data.extracted_on.strftime("%Y-%m")
    design = section.setdefault("designModule", {})
    if data.status in _ENDED:
        design["enrollmentInfo"] = {"count": data.enrolled_count, "type": "ACTUAL"}
    else:
        design["enrollmentInfo"] = {"count": data.settings.enrolment.cap.value, "type": "ESTIMATED"}
    parse_study(record)
    return record
