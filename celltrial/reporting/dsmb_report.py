"""The DSMB report: one PDF of the trial at a data cut-off (reportlab platypus, matplotlib figures).

Sections, in the order a data and safety monitoring board reads them (after the structure of
the DAMOCLES DMC charter template's open report, Lancet 2005;365:711, and ICH E3 for the safety
tables): cover (trial identity, data cut-off, draft status); enrolment and CONSORT flow;
safety (adverse events by SOC and term by maximum grade, CRS and ICANS, deaths, adverse events
of special interest, the CRS/ICANS timeline); the safety stopping rule's status and operating
characteristics; efficacy (response rates with exact Clopper–Pearson 95% intervals, subgroups,
swimmer plot); time to event (Kaplan–Meier medians and landmark rates, curves with numbers at
risk); CAR-T kinetics (NCA summary, expansion curves); definitions.

Every number comes from :class:`~celltrial.reporting.dsmb_analyses.TrialAnalyses`, computed by
the analysis functions from the database. Text is set in DejaVu Sans (shipped with matplotlib)
so that ≥, µ and – print; the PDF is written with reportlab's *invariant* option, so the same
analyses give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)
from sqlalchemy.orm import Session

from celltrial.analysis.proportions import ProportionEstimate
from celltrial.analysis.survival import KaplanMeierSummary, MedianEstimate
from celltrial.errors import InvalidInput
from celltrial.reporting import pdf_layout as layout
from celltrial.reporting.dsmb_analyses import AESI_LABELS, RateRow, TrialAnalyses
from celltrial.reporting.dsmb_figures import draw
from celltrial.reporting.figures import render
from celltrial.study.audit import service as audit
from celltrial.study.users.models import User

__all__ = ["SECTIONS", "DsmbReport", "record_dsmb_report", "render_dsmb_report", "write_dsmb_report"]

SECTIONS = (
    "1. Enrolment and participant flow",
    "2. Safety",
    "3. Safety stopping rule",
    "4. Efficacy",
    "5. Time-to-event endpoints",
    "6. CAR-T cellular kinetics",
    "7. Definitions and methods",
)
"""The report's section headings (the test reads them back from the PDF)."""

_DLT_STATUS = {
    "dlt": "event (DLT)",
    "no_dlt": "window complete, no event",
    "pending": "in the window",
    "not_evaluable": "not evaluable",
}


def _figure(analyses: TrialAnalyses, name: str, *, max_height: float = 190 * mm) -> Flowable:
    """A figure of the report as a PNG (150 dpi) scaled to the text width; a note when it has no data."""
    try:
        figure = draw(analyses, name)
    except InvalidInput as error:  # nothing to draw yet
        return Paragraph(f"<i>No figure: {layout.escape(error)}.</i>", layout.styles()["body"])
    png = render(figure, "png", dpi=150)
    image = Image(io.BytesIO(png))
    scale = min(layout.WIDTH / image.imageWidth, max_height / image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
    return image


def _percent(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.0f}%)" if whole else str(part)


def _ci(estimate: ProportionEstimate | None) -> list[str]:
    if estimate is None:
        return ["0/0", "—", "—"]
    return [
        f"{estimate.successes}/{estimate.n}",
        f"{100 * estimate.estimate:.1f}%",
        f"{100 * estimate.lower:.1f}–{100 * estimate.upper:.1f}%",
    ]


def _months(value: float | None) -> str:
    return "NR" if value is None else f"{value:.1f}"


def _median(median: MedianEstimate) -> str:
    return f"{_months(median.median)} ({_months(median.lower)}–{_months(median.upper)})"


def _cover(analyses: TrialAnalyses) -> list[Flowable]:
    styles = layout.styles()
    story: list[Flowable] = [
        Spacer(1, 30 * mm),
        Paragraph("Data and Safety Monitoring Board report", styles["title"]),
        Paragraph(layout.escape(analyses.title), styles["subtitle"]),
        Spacer(1, 6 * mm),
        Paragraph(f"{analyses.nct_id} · open report", styles["subtitle"]),
        Spacer(1, 12 * mm),
    ]
    facts = [
        ["", ""],
        ["Trial", analyses.nct_id],
        ["Study status", analyses.study_status.replace("_", " ").capitalize()],
        ["Data cut-off", analyses.cutoff.isoformat()],
        ["Data extracted", f"{analyses.extracted_at:%Y-%m-%d %H:%M} UTC by {analyses.extracted_by}"],
        ["Enrolled", f"{analyses.consort.enrolled} of {analyses.enrolment_cap}"],
        ["Infused (safety population)", str(analyses.safety.subjects)],
        ["Data", "not locked: interim data, subject to cleaning" if analyses.draft else "locked"],
    ]
    story.append(layout.table(facts, [60 * mm, 100 * mm]))
    if analyses.draft:
        story += [Spacer(1, 8 * mm), Paragraph("DRAFT — data not locked", styles["draft"])]
    story += [Spacer(1, 12 * mm), Paragraph("Contents", styles["h2"])]
    story += [Paragraph(layout.escape(section), styles["body"]) for section in SECTIONS]
    story += [
        Spacer(1, 10 * mm),
        Paragraph(
            "Confidential: for the Data and Safety Monitoring Board. Every number in this report is "
            "computed from the study database by celltrial's analysis functions at the data cut-off.",
            styles["small"],
        ),
        PageBreak(),
    ]
    return story


def _enrolment(analyses: TrialAnalyses) -> list[Flowable]:
    styles, consort = layout.styles(), analyses.consort
    failures = ", ".join(f"{reason} {n}" for reason, n in consort.screen_failures.items()) or "none"
    rows: list[list[object]] = [
        ["Step", "Subjects"],
        ["Screened", consort.screened],
        ["Screen failures (first criterion failed)", f"{sum(consort.screen_failures.values())}: {failures}"],
        *[[reason, n] for reason, n in consort.not_enrolled_other.items()],
        ["Enrolled", f"{consort.enrolled} of {analyses.enrolment_cap}"],
        ["Apheresed", consort.apheresed],
        ["Manufactured", consort.manufactured],
        ["Infused", consort.infused],
        ["Evaluable (≥ 28 days after infusion, or died)", consort.evaluable],
    ]
    return [
        Paragraph(SECTIONS[0], styles["h1"]),
        layout.table(rows, [80 * mm, 94 * mm]),
        Spacer(1, 4 * mm),
        _figure(analyses, "consort", max_height=175 * mm),
        PageBreak(),
    ]


def _grade_rows(name: object, counts: Any, total: int) -> list[object]:
    grades = [counts.by_max_grade.get(grade, 0) for grade in (1, 2, 3, 4, 5)]
    return [name, _percent(counts.any_grade, total), _percent(counts.grade_3_or_more, total), *grades]


def _safety(analyses: TrialAnalyses) -> list[Flowable]:
    styles, tables = layout.styles(), analyses.safety
    total = tables.subjects
    story: list[Flowable] = [
        Paragraph(SECTIONS[1], styles["h1"]),
        Paragraph(
            f"Safety population: {total} infused subject(s). Subjects are counted once per row, at their "
            "highest grade (CTCAE v5.0 for adverse events, ASTCT consensus for CRS and ICANS).",
            styles["body"],
        ),
        Paragraph("2.1 Adverse events by system organ class and term, by maximum grade", styles["h2"]),
    ]
    header: list[object] = ["SOC / term", "any grade", "grade ≥ 3", "1", "2", "3", "4", "5"]
    widths = [66 * mm, 22 * mm, 22 * mm, 12 * mm, 12 * mm, 12 * mm, 12 * mm, 12 * mm]
    rows: list[list[object]] = [header]
    soc_rows = []
    for soc in tables.adverse_events:
        soc_rows.append(len(rows))
        rows.append(_grade_rows(soc.soc, soc, total))
        rows += [
            _grade_rows(Paragraph(layout.escape(term.term), styles["term"]), term, total)
            for term in soc.terms
        ]
    if len(rows) == 1:
        rows.append(["No adverse event recorded", "", "", "", "", "", "", ""])
    story.append(layout.table(rows, widths, bold_rows=soc_rows))
    story.append(Paragraph("2.2 Cytokine release syndrome and ICANS", styles["h2"]))
    syndrome_rows: list[list[object]] = [["", "CRS", "ICANS"]]
    crs, icans = tables.crs, tables.icans
    syndrome_rows.append(
        ["Subjects, any grade", _percent(crs.any_grade, total), _percent(icans.any_grade, total)]
    )
    syndrome_rows.append(
        ["Subjects, grade ≥ 3", _percent(crs.grade_3_or_more, total), _percent(icans.grade_3_or_more, total)]
    )
    for grade in (1, 2, 3, 4, 5):
        syndrome_rows.append(
            [
                f"Maximum grade {grade}",
                _percent(crs.by_max_grade.get(grade, 0), total),
                _percent(icans.by_max_grade.get(grade, 0), total),
            ]
        )
    for label, attribute in (
        ("Onset, day after infusion", "time_to_onset_days"),
        ("Duration of resolved episodes, days", "duration_days"),
    ):
        values = []
        for syndrome in (crs, icans):
            summary = getattr(syndrome, attribute)
            values.append(
                "—"
                if summary.median is None
                else f"median {summary.median:g} (range {summary.minimum}–{summary.maximum}), n = {summary.n}"
            )
        syndrome_rows.append([label, *values])
    syndrome_rows.append(
        [
            "Episodes (ongoing, fatal)",
            f"{crs.episodes} ({crs.ongoing_episodes}, {crs.fatal_episodes})",
            f"{icans.episodes} ({icans.ongoing_episodes}, {icans.fatal_episodes})",
        ]
    )
    syndrome_rows.append(
        [
            "Subjects given tocilizumab",
            _percent(crs.subjects_given_tocilizumab, total),
            _percent(icans.subjects_given_tocilizumab, total),
        ]
    )
    syndrome_rows.append(
        [
            "Subjects given corticosteroids",
            _percent(crs.subjects_given_corticosteroids, total),
            _percent(icans.subjects_given_corticosteroids, total),
        ]
    )
    story.append(layout.table(syndrome_rows, [62 * mm, 56 * mm, 56 * mm]))
    story.append(Paragraph("2.3 Deaths", styles["h2"]))
    death_rows: list[list[object]] = [["Subject", "Date", "Day after infusion", "Cause", "Treatment-related"]]
    death_rows += [
        [d.label, d.on.isoformat(), d.day, d.cause, "yes" if d.treatment_related else "no"]
        for d in tables.deaths
    ]
    if len(death_rows) == 1:
        death_rows.append(["No death", "", "", "", ""])
    story.append(layout.table(death_rows, [26 * mm, 24 * mm, 28 * mm, 66 * mm, 30 * mm]))
    story.append(Paragraph("2.4 Adverse events of special interest", styles["h2"]))
    aesi_rows: list[list[object]] = [["AESI", "any grade", "grade ≥ 3", "1", "2", "3", "4", "5", "serious"]]
    aesi_rows += [[*_grade_rows(AESI_LABELS[row.aesi], row, total), row.serious] for row in tables.aesi]
    story.append(
        layout.table(
            aesi_rows, [56 * mm, 22 * mm, 22 * mm, 11 * mm, 11 * mm, 11 * mm, 11 * mm, 11 * mm, 19 * mm]
        )
    )
    story += [
        CondPageBreak(120 * mm),
        Paragraph("2.5 CRS and ICANS timeline", styles["h2"]),
        _figure(analyses, "crs-icans", max_height=200 * mm),
        PageBreak(),
    ]
    return story


def _stopping(analyses: TrialAnalyses) -> list[Flowable]:
    styles, status = layout.styles(), analyses.stopping
    rule, decision = status.rule, status.decision
    verdict = (
        "STOP: the rule's boundary is crossed"
        if decision.stop
        else "continue"
        if decision.rule_applies
        else f"not applied yet (first look after {rule.first_look_after} evaluable subjects)"
    )
    to_stop = "—" if status.events_to_stop_now is None else str(status.events_to_stop_now)
    rows: list[list[object]] = [
        ["", ""],
        ["Event", status.event_definition],
        [
            "Rule",
            f"stop when P(rate > {rule.rate_threshold:.0%} | data) > {rule.posterior_cutoff:.0%}, "
            f"Beta({rule.prior_alpha:g}, {rule.prior_beta:g}) prior, up to {rule.max_subjects} subjects",
        ],
        ["Evaluated as of", status.as_of.isoformat()],
        ["Evaluable subjects", status.evaluable],
        ["Subjects with the event", status.events],
        ["Awaiting the end of the DLT window", status.awaiting],
        ["Not evaluable", status.not_evaluable],
        ["P(rate > threshold | data)", f"{decision.posterior_probability:.3f}"],
        ["Events that would stop the trial at this look", to_stop],
        ["Status", verdict],
    ]
    oc_rows: list[list[object]] = [["True event rate", "P(stop)", "Expected evaluable subjects"]]
    oc_rows += [
        [f"{item.true_rate:.0%}", f"{item.probability_of_stopping:.3f}", f"{item.expected_sample_size:.1f}"]
        for item in analyses.operating_characteristics
    ]
    subject_rows: list[list[object]] = [["Subject", "DLT-window status", "Event", "Evidence"]]
    subject_rows += [
        [
            s.subject,
            _DLT_STATUS.get(s.status.value, s.status.value),
            "yes" if s.event else "no",
            "; ".join(s.evidence),
        ]
        for s in status.subjects
    ]
    return [
        Paragraph(SECTIONS[2], styles["h1"]),
        layout.table(rows, [62 * mm, 112 * mm]),
        Paragraph("3.1 Operating characteristics (exact)", styles["h2"]),
        layout.table(oc_rows, [40 * mm, 30 * mm, 50 * mm]),
        Spacer(1, 3 * mm),
        _figure(analyses, "stopping-rule", max_height=80 * mm),
        Paragraph("3.2 Subjects in the rule", styles["h2"]),
        layout.table(subject_rows, [22 * mm, 46 * mm, 12 * mm, 94 * mm]),
        PageBreak(),
    ]


def _rate_table(rows: Sequence[RateRow]) -> Table:
    cells: list[list[object]] = [["Endpoint", "Population", "n/N", "Rate", "95% CI (Clopper–Pearson)"]]
    cells += [[row.endpoint, row.population, *_ci(row.estimate)] for row in rows]
    return layout.table(cells, [40 * mm, 66 * mm, 16 * mm, 16 * mm, 36 * mm])


def _efficacy(analyses: TrialAnalyses) -> list[Flowable]:
    styles = layout.styles()
    return [
        Paragraph(SECTIONS[3], styles["h1"]),
        Paragraph(
            "Response at the visit of each time point; subjects who reached the time point without an "
            "assessment (died, missed) count as non-responders.",
            styles["body"],
        ),
        _rate_table(analyses.rates),
        Paragraph("4.1 Subgroups", styles["h2"]),
        _rate_table(analyses.subgroup_rates),
        CondPageBreak(120 * mm),
        Paragraph("4.2 Swimmer plot", styles["h2"]),
        _figure(analyses, "swimmer", max_height=190 * mm),
        PageBreak(),
    ]


def _survival_rows(name: str, summary: KaplanMeierSummary | None) -> list[object]:
    if summary is None:
        return [name, "0", "0", "—", "—", "—", "—"]
    landmarks = []
    for landmark in summary.landmarks[:3]:
        if landmark.survival is None:
            landmarks.append("—")
        else:
            limits = (
                ""
                if landmark.lower is None or landmark.upper is None
                else f" ({100 * landmark.lower:.0f}–{100 * landmark.upper:.0f})"
            )
            landmarks.append(f"{100 * landmark.survival:.0f}%{limits}")
    landmarks += ["—"] * (3 - len(landmarks))
    return [name, summary.n, summary.events, _median(summary.median), *landmarks]


def _time_to_event(analyses: TrialAnalyses) -> list[Flowable]:
    styles = layout.styles()
    os_summary = analyses.endpoint("os").summary
    landmarks = [f"{m:g} months" for m in (s.month for s in (os_summary.landmarks if os_summary else ()))][:3]
    landmarks += ["—"] * (3 - len(landmarks))
    rows: list[list[object]] = [
        ["Endpoint", "N", "Events", "Median, months (95% CI)", *[f"at {m}" for m in landmarks]]
    ]
    rows += [_survival_rows(e.name, e.summary) for e in analyses.survival]
    rows += [
        _survival_rows(f"Overall survival, {group}", summary)
        for group, summary in analyses.survival_by_disease.items()
    ]
    rows += [
        _survival_rows(f"Overall survival, {group}", summary)
        for group, summary in analyses.survival_by_prior_hsct.items()
    ]
    follow_up = _median(os_summary.median_follow_up) if os_summary else "—"
    story: list[Flowable] = [
        Paragraph(SECTIONS[4], styles["h1"]),
        Paragraph(
            "Kaplan–Meier estimates from the day of infusion (months of 30.4375 days); 95% CIs by "
            "Greenwood's variance on the log(−log) scale, the median's by Brookmeyer–Crowley. NR: not "
            f"reached. Median follow-up (reverse Kaplan–Meier): {follow_up} months.",
            styles["body"],
        ),
        layout.table(rows, [50 * mm, 10 * mm, 14 * mm, 34 * mm, 22 * mm, 22 * mm, 22 * mm]),
        Spacer(1, 2 * mm),
    ]
    story += [
        Paragraph(f"<b>{layout.escape(e.name)}</b>: {layout.escape(e.definition)}.", styles["small"])
        for e in analyses.survival
    ]
    for key in ("os", "efs", "dor", "os-by-disease"):
        story += [CondPageBreak(110 * mm), _figure(analyses, key, max_height=105 * mm)]
    story.append(PageBreak())
    return story


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"


def _kinetics(analyses: TrialAnalyses) -> list[Flowable]:
    styles = layout.styles()
    summary: list[list[object]] = [["Parameter", "Unit", "n", "Median", "Range", "Geometric mean"]]
    summary += [
        [
            row.parameter,
            row.unit,
            row.n,
            _number(row.median),
            f"{_number(row.minimum)}–{_number(row.maximum)}",
            _number(row.geometric_mean),
        ]
        for row in analyses.kinetics_summary
    ]
    subjects: list[list[object]] = [["Subject", "Samples (BLQ)", "Cmax", "Tmax, d", "AUC d0–28", "Tlast, d"]]
    subjects += [
        [
            label,
            f"{p.samples} ({p.blq_samples})",
            _number(p.cmax),
            _number(p.tmax),
            _number(p.auc),
            _number(p.tlast),
        ]
        for label, p in analyses.kinetics.items()
    ]
    return [
        Paragraph(SECTIONS[5], styles["h1"]),
        Paragraph(
            "Peripheral-blood CAR transgene (qPCR, copies/µg genomic DNA) by non-compartmental analysis: "
            f"linear-up/log-down AUC from the first sample to day 28; LLOQ {analyses.lloq:g} copies/µg; "
            "values below it set to 0 up to Tmax and left out after it.",
            styles["body"],
        ),
        layout.table(summary, [40 * mm, 40 * mm, 10 * mm, 26 * mm, 36 * mm, 26 * mm]),
        Spacer(1, 3 * mm),
        _figure(analyses, "expansion", max_height=110 * mm),
        CondPageBreak(60 * mm),
        Paragraph("6.1 Per subject", styles["h2"]),
        layout.table(subjects, [26 * mm, 26 * mm, 28 * mm, 20 * mm, 30 * mm, 20 * mm]),
        PageBreak(),
    ]


_DEFINITIONS = (
    "Day 0 is the day of CAR-T infusion. The safety and efficacy populations are the subjects infused "
    "on or before the data cut-off; nothing dated after the cut-off is used.",
    "Response categories come from the response CRF: leukaemia CR, CRi, MLFS, PR, no response, "
    "progression, or relapse after CR/CRi (ELN 2017, NCCN ALL); lymphoma by Lugano 2014 (PET-CT: "
    "CMR, PMR, NMR, PMD). ORR counts CR, CRi, MLFS, PR, CMR and PMR; CR/CRi counts CR, CRi and CMR. "
    "MRD-negative: flow MRD below 0.01%.",
    "Response rates use the assessment of the visit at each time point; the denominator is every "
    "subject infused at least that many days before the cut-off. Intervals are exact "
    "(Clopper & Pearson, Biometrika 1934;26:404).",
    "Safety tables follow ICH E3 12.2: each subject counted once per row at the highest grade; CRS "
    "and ICANS episodes from the daily ASTCT grades (Lee et al., Biol Blood Marrow Transplant "
    "2019;25:625). An adverse event that began after the cut-off is left out; one resolved after it "
    "is ongoing at it.",
    "The safety stopping rule is a beta-binomial monitoring rule (Thall, Simon & Estey, Stat Med "
    "1995;14:357); its operating characteristics are exact.",
    "Kaplan–Meier estimation with lifelines (Kaplan & Meier, J Am Stat Assoc 1958;53:457); median "
    "follow-up by reverse Kaplan–Meier (Schemper & Smith, Control Clin Trials 1996;17:343).",
    "Kinetics by non-compartmental analysis (Gabrielsson & Weiner, 5th ed. 2016, ch. 2).",
)


def _definitions() -> list[Flowable]:
    styles = layout.styles()
    return [Paragraph(SECTIONS[6], styles["h1"])] + [
        Paragraph(layout.escape(text), styles["body"]) for text in _DEFINITIONS
    ]


def _page_decoration(analyses: TrialAnalyses) -> Any:
    def decorate(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(layout.FONT, 7.5)
        draft = " · DRAFT (data not locked)" if analyses.draft else ""
        canvas.drawString(
            18 * mm,
            10 * mm,
            f"{analyses.nct_id} DSMB report · data cut-off {analyses.cutoff.isoformat()}{draft}",
        )
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {document.page}")
        canvas.restoreState()

    return decorate


@dataclass(frozen=True)
class DsmbReport:
    """A rendered report: the PDF and its number of pages."""

    pdf: bytes
    pages: int
    cutoff: date
    draft: bool


def render_dsmb_report(analyses: TrialAnalyses) -> DsmbReport:
    """The DSMB report of ``analyses`` as a PDF."""
    layout.register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{analyses.nct_id} DSMB report, data cut-off {analyses.cutoff.isoformat()}",
        author="celltrial",
        subject=analyses.title,
        invariant=1,
    )
    story = [
        *_cover(analyses),
        *_enrolment(analyses),
        *_safety(analyses),
        *_stopping(analyses),
        *_efficacy(analyses),
        *_time_to_event(analyses),
        *_kinetics(analyses),
        KeepTogether(_definitions()),
    ]
    decorate = _page_decoration(analyses)
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return DsmbReport(
        pdf=buffer.getvalue(), pages=document.page, cutoff=analyses.cutoff, draft=analyses.draft
    )


def write_dsmb_report(analyses: TrialAnalyses, path: Path) -> DsmbReport:
    """Write the DSMB report to ``path``."""
    report = render_dsmb_report(analyses)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(report.pdf)
    return report


def record_dsmb_report(
    session: Session, *, by: User, analyses: TrialAnalyses, target: str, pages: int
) -> None:
    """The audit entry of a DSMB report handed out (CLI file or web download), like an export's."""
    audit.record(
        session,
        actor=by.username,
        action="export",
        entity="export",
        entity_id="dsmb-report",
        new={
            "study": analyses.nct_id,
            "target": target,
            "draft": analyses.draft,
            "cutoff": analyses.cutoff.isoformat(),
            "pages": pages,
        },
    )
