"""The insurance response report of a patient's current course (CLINICAL.md §5), as PDF.

For each scale: who rated it, the baseline and whether it meets the payer's window and severity
floor, the score at the end of induction, points and percent change, the response category and
remission status as ``scoring`` classified them, the dosing history, the rules applied in words,
the progress chart, and the treating clinician's attestation.

Outcome thresholds come from the outcome's ``rules`` (``scoring``). The payer criteria below are
not clinical rules and are not in ``scoring``: they are what payers ask for, kept here once, with
their source, and printed on every report. No item of any scale is printed (BDI-II and MADRS
item text is copyrighted), only totals.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

import scoring
from projections.outcomes import classify_rows
from tracker.records.models import TreatmentCourse, TreatmentSession, User
from tracker.reports.charts import render_patient_chart
from tracker.reports.read_model import PatientOutcomes, ScaleOutcome

# --------------------------------------------------------------------------- payer rules

#: Baseline severity floors payers commonly require before covering ketamine or esketamine
#: (CLINICAL.md §5): MADRS >= 28, HAM-D >= 17, PHQ-9 >= 15. The BDI-II has no common floor.
#: Payer criteria, not clinical rules: policies vary, and the report prints the one it applied.
PAYER_SEVERITY_FLOORS: Mapping[str, int] = MappingProxyType({"madrs": 28, "hamd17": 17, "phq9": 15})
PAYER_SEVERITY_FLOORS_SOURCE = "common payer criteria for ketamine/esketamine coverage (CLINICAL.md §5); policies vary"
#: Payers want the baseline within about four weeks before the course start (CLINICAL.md §5).
PAYER_BASELINE_WINDOW_DAYS = 28

#: End of induction. Esketamine: its label evaluates benefit at the end of the induction phase,
#: dosing twice weekly in weeks 1-4 and weekly in weeks 5-8: the end of week 8.
ESKETAMINE_INDUCTION_DAYS = 56
#: IV, IM, oral ketamine and other treatments: an induction series of 6 sessions (Phillips et al.
#: 2019: 6 infusions over 2 weeks; KetECT: thrice weekly), ending at the 6th session, or 21 days
#: after the start if fewer than 6 sessions were given by then (whichever comes first).
KETAMINE_INDUCTION_SESSIONS = 6
KETAMINE_INDUCTION_DAYS = 21
#: The end-of-induction score is the latest assessment dated on or before the end of induction
#: plus this many days, so that the rating at the visit after the last induction dose counts.
INDUCTION_RATING_WINDOW_DAYS = 7

#: Short display names of the scales (labels only; every number comes from ``scoring``).
SHORT_NAMES = {"bdi2": "BDI-II", "madrs": "MADRS", "hamd17": "HAM-D", "phq9": "PHQ-9"}
RATED_BY = {"patient": "the patient (self-report)", "clinician": "a clinician (clinician-rated)"}
CATEGORY = {"response": "Response", "partial": "Partial response", "none": "Non-response"}
STATE = {
    "not_remitted": "Not in remission",
    "remission_pending": "In remission range, not yet sustained",
    "remission": "In remission (sustained)",
    "recovered": "Recovered",
}

# Characters outside the standard PDF fonts' encoding are set in DejaVu Sans (shipped with
# matplotlib), so any patient or clinic name prints; everything else stays in Helvetica.
UNICODE_FONT = "DejaVuSans"
STANDARD_ENCODING = "cp1252"


@dataclass(frozen=True)
class Induction:
    end: date
    rule: str


def induction_end(course: TreatmentCourse, sessions: Sequence[TreatmentSession]) -> Induction:
    """The end of the induction phase of ``course`` and the rule that gave it, in words."""
    if course.modality == "esketamine":
        return Induction(
            end=course.start_date + timedelta(days=ESKETAMINE_INDUCTION_DAYS),
            rule=(
                f"esketamine induction ends {ESKETAMINE_INDUCTION_DAYS} days after the start (end of week 8: "
                "twice-weekly dosing in weeks 1-4, weekly in weeks 5-8, as on the label)"
            ),
        )
    limit = course.start_date + timedelta(days=KETAMINE_INDUCTION_DAYS)
    dated = sorted(s.date for s in sessions if s.date >= course.start_date)
    if len(dated) >= KETAMINE_INDUCTION_SESSIONS and dated[KETAMINE_INDUCTION_SESSIONS - 1] <= limit:
        end = dated[KETAMINE_INDUCTION_SESSIONS - 1]
        which = f"the {KETAMINE_INDUCTION_SESSIONS}th session"
    else:
        end = limit
        which = f"{KETAMINE_INDUCTION_DAYS} days after the start"
    return Induction(
        end=end,
        rule=(
            f"induction is the first {KETAMINE_INDUCTION_SESSIONS} sessions or the first {KETAMINE_INDUCTION_DAYS} days, "
            f"whichever ends first; here it ended at {which}"
        ),
    )


# --------------------------------------------------------------------------- text helpers


def _register_unicode_font() -> None:
    if UNICODE_FONT in pdfmetrics.getRegisteredFontNames():
        return
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdfmetrics.registerFont(TTFont(UNICODE_FONT, str(path)))


def _markup(text: object) -> str:
    """Paragraph markup for plain text: escaped, with unencodable runs in the Unicode font."""
    out: list[str] = []
    for char in str(text):
        try:
            char.encode(STANDARD_ENCODING)
            out.append(escape(char))
        except UnicodeEncodeError:
            out.append(f'<font name="{UNICODE_FONT}">{escape(char)}</font>')
    return "".join(out).replace(f'</font><font name="{UNICODE_FONT}">', "")


def _short(scale: str) -> str:
    return SHORT_NAMES.get(scale, scale)


def _pct(value: float) -> str:
    return f"{value * 100:g} %"


def _styles() -> StyleSheet1:
    styles = getSampleStyleSheet()
    styles.add(ParagraphStyle("Cell", parent=styles["BodyText"], fontSize=9, leading=11.5))
    styles.add(ParagraphStyle("CellBold", parent=styles["Cell"], fontName="Helvetica-Bold"))
    styles.add(
        ParagraphStyle("Small", parent=styles["BodyText"], fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
    )
    styles.add(ParagraphStyle("Rule", parent=styles["BodyText"], fontSize=8.5, leading=11))
    return styles


def _table(rows: list[list[Any]], widths: list[float], header: bool = False) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf4")))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f5f9")))
    table.setStyle(TableStyle(style))
    return table


# --------------------------------------------------------------------------- the report


def render_response_report(data: PatientOutcomes, *, actor: User) -> bytes:
    """The payer response report of the patient's current course, as PDF bytes: the tables and the
    chart from the one read of the course the caller made."""
    _register_unicode_font()
    styles = _styles()
    today = timezone.localdate()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.7 * inch,
        title="Treatment response report",
        author=data.clinic.name,
        subject="Depression treatment response",
        creator="depression-outcomes-tracker",
    )
    story: list[Flowable] = []
    story += _header(data, today, styles, doc.width)
    if not data.scales:
        story.append(Paragraph("No assessments are recorded for this course.", styles["BodyText"]))
    for scale_data in data.scales:
        story += _scale_section(data, scale_data, today, styles, doc.width)
    story += _dosing(data, styles, doc.width)
    story += _payer_rules(data, styles)
    story += _attestation(actor, styles)
    if data.scales:
        story += _chart(data, styles, doc)

    def footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(doc.leftMargin, 0.45 * inch, f"Treatment response report - {today.isoformat()}")
        canvas.drawRightString(doc.leftMargin + doc.width, 0.45 * inch, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _header(data: PatientOutcomes, today: date, styles: StyleSheet1, width: float) -> list[Flowable]:
    patient, course = data.patient, data.course
    cell = styles["Cell"]
    rows = [
        ["Clinic", data.clinic.name],
        ["Patient", patient.name],
        ["Date of birth", patient.date_of_birth.isoformat() if patient.date_of_birth else "not recorded"],
        ["External id", patient.external_id or "not recorded"],
        ["Report date", today.isoformat()],
    ]
    if course is not None:
        therapy = "with psychotherapy" if course.with_therapy else "without psychotherapy"
        rows.append(
            ["Treatment course", f"{course.get_modality_display()}, {therapy}, started {course.start_date.isoformat()}"]
        )
        rows.append(["Sessions recorded", str(len(data.sessions))])
    else:
        rows.append(["Treatment course", "none recorded: outcomes are computed from the first assessment"])
    table = _table(
        [[Paragraph(_markup(k), styles["CellBold"]), Paragraph(_markup(v), cell)] for k, v in rows],
        [1.6 * inch, width - 1.6 * inch],
    )
    return [Paragraph("Treatment response report", styles["Title"]), table, Spacer(1, 10)]


def _change(baseline: int, total: int, improvement: float | None) -> str:
    points = total - baseline
    if improvement is None:
        return f"{points:+d} points (percent change undefined: baseline 0)"
    return f"{points:+d} points ({-improvement * 100:+.1f} %)"


def _category(response: str | None, rules: Mapping[str, Any]) -> str:
    if response is None:
        return "undefined (baseline 0)"
    response_min = _pct(rules["response_min_improvement"])
    partial_above = _pct(rules["partial_above_improvement"])
    limits = {
        "response": f"improvement >= {response_min}",
        "partial": f"improvement > {partial_above} and < {response_min}",
        "none": f"improvement <= {partial_above}",
    }
    return f"{CATEGORY[response]} ({limits[response]})"


def _remission(outcome: Mapping[str, Any], rules: Mapping[str, Any]) -> str:
    lines = [STATE.get(outcome["state"], outcome["state"])]
    if outcome.get("remission_pending_since"):
        lines.append(
            f"remission range entered {outcome['remission_pending_since']}; confirmed once sustained "
            f"{rules['sustain_days']} days"
        )
    for event in outcome.get("events", []):
        if event["type"] == "recovery":
            lines.append(f"recovery {event['date']}")
        else:
            lines.append(f"{event['type']}: onset {event['onset']}, confirmed {event['confirmed']}")
    return "; ".join(lines)


def _scale_section(
    data: PatientOutcomes, scale_data: ScaleOutcome, today: date, styles: StyleSheet1, width: float
) -> list[Flowable]:
    scale = scoring.SCALES[scale_data.scale]
    outcome = scale_data.outcome
    rules = outcome["rules"]
    course = data.course
    rows: list[list[str]] = [
        ["Scale", f"{scale.name} (key {scale.key}, version {scale.version})"],
        ["Rated by", RATED_BY[scale.rated_by]],
    ]
    baseline = outcome.get("baseline")
    classification = classify_rows(course, data.clinic, scale.key, scale_data.rows)
    if baseline is None:
        rows.append(["Baseline", "none"])
    else:
        b_date = date.fromisoformat(baseline["date"])
        rows.append(
            [
                "Baseline",
                f"{baseline['total']} on {baseline['date']} ({scale.severity(baseline['total']).replace('_', ' ')})",
            ]
        )
        if course is not None:
            before = (course.start_date - b_date).days
            if 0 <= before <= PAYER_BASELINE_WINDOW_DAYS:
                window = f"yes: {before} days before the course start (within {PAYER_BASELINE_WINDOW_DAYS} days)"
            elif before < 0:
                window = f"no: {-before} days after the course start"
            else:
                window = f"no: {before} days before the course start (more than {PAYER_BASELINE_WINDOW_DAYS} days)"
            rows.append(["Baseline within 4 weeks before start", window])
        floor = PAYER_SEVERITY_FLOORS.get(scale.key)
        if floor is None:
            rows.append(["Payer severity floor", f"none: payers set no common floor for the {_short(scale.key)}"])
        else:
            met = "met" if baseline["total"] >= floor else "NOT met"
            rows.append(["Payer severity floor", f"{met}: baseline {baseline['total']}, floor >= {floor}"])
        if course is not None:
            rows += _induction_rows(data, classification, baseline["total"], today, rules)
        latest = outcome.get("latest") or {}
        if latest:
            rows.append(["Latest score", f"{latest['total']} on {latest['date']}"])
            rows.append(
                ["Change since baseline", _change(baseline["total"], latest["total"], latest.get("improvement"))]
            )
            rows.append(["Category (latest)", _category(latest.get("response"), rules)])
        rows.append(["First response", outcome.get("first_response_date") or "not reached"])
    rows.append(["Remission status", _remission(outcome, rules)])
    reliable = outcome.get("reliable_change")
    if reliable:
        verdict = "reliable" if reliable["reliable"] else "not reliable"
        rows.append(["Reliable change", f"{verdict} ({reliable['direction']}, Jacobson & Truax)"])
    projection = outcome.get("projection") or {}
    if projection.get("percentile") is not None:
        rows.append(
            [
                "Against the expected curve",
                f"{projection['percentile']}th percentile at week {projection['week']} ({projection['signal'].replace('_', ' ')}; "
                f"reference {projection['reference']})",
            ]
        )
    table = _table(
        [[Paragraph(_markup(k), styles["CellBold"]), Paragraph(_markup(v), styles["Cell"])] for k, v in rows],
        [1.9 * inch, width - 1.9 * inch],
    )
    rule = Paragraph(_markup("Rule applied: " + _rule_text(scale, rules)), styles["Rule"])
    return [
        KeepTogether([Paragraph(_markup(scale.name), styles["Heading2"]), table]),
        Spacer(1, 4),
        rule,
        Spacer(1, 8),
    ]


def _induction_rows(
    data: PatientOutcomes,
    classification: scoring.Classification,
    baseline_total: int,
    today: date,
    rules: Mapping[str, Any],
) -> list[list[str]]:
    assert data.course is not None
    induction = induction_end(data.course, data.sessions)
    until = induction.end + timedelta(days=INDUCTION_RATING_WINDOW_DAYS)
    rows = [["End of induction", f"{induction.end.isoformat()} ({induction.rule})"]]
    # Graded rows from the baseline on (entries before the baseline carry no state).
    graded = [row for row in classification.rows if row.state is not None]
    candidates = [row for row in graded[1:] if row.date <= until]
    if not candidates:
        pending = " (induction not yet complete)" if today < until else ""
        rows.append(["Score at end of induction", f"no assessment after the baseline by {until.isoformat()}{pending}"])
        return rows
    row = candidates[-1]
    improvement = None if row.improvement is None else float(row.improvement)
    rows.append(["Score at end of induction", f"{row.total} on {row.date.isoformat()}"])
    rows.append(["Change at end of induction", _change(baseline_total, row.total, improvement)])
    rows.append(["Category at end of induction", _category(row.response, rules)])
    return rows


def _rule_text(scale: scoring.Scale, rules: Mapping[str, Any]) -> str:
    response_min = _pct(rules["response_min_improvement"])
    partial_above = _pct(rules["partial_above_improvement"])
    if rules["remission_max"] == scale.remission_max:
        remission_source = scale.remission_source
    else:
        remission_source = f"clinic setting; the scale's default is <= {scale.remission_max}: {scale.remission_source}"
    if rules["relapse_min"] == scale.relapse_min:
        relapse_source = scale.relapse_source
    else:
        relapse_source = f"clinic setting; the scale's default is >= {scale.relapse_min}: {scale.relapse_source}"
    sources = rules.get("sources", {})
    return (
        f"baseline = the latest assessment on or before the course start and at most {rules['baseline_window_days']} days "
        "before it (otherwise the first assessment), unless a clinician marked another; "
        "improvement = (baseline - score) / baseline; "
        f"response = improvement >= {response_min}, partial = above {partial_above} and below {response_min}, "
        f"non-response = {partial_above} or less. "
        f"Remission = score <= {rules['remission_max']} ({remission_source}), confirmed after {rules['sustain_days']} days "
        f"in range with no gap over {rules['max_gap_days']} days, dated from its onset; relapse = two consecutive scores "
        f">= {rules['relapse_min']} after remission ({relapse_source}); recovery = {rules['recovery_days']} days after "
        f"remission onset without relapse ({sources.get('durations', '')})."
    )


def _dosing(data: PatientOutcomes, styles: StyleSheet1, width: float) -> list[Flowable]:
    if data.course is None:
        return []
    heading = Paragraph("Dosing history", styles["Heading2"])
    if not data.sessions:
        return [heading, Paragraph("No treatment sessions recorded.", styles["BodyText"])]
    rows: list[list[Any]] = [["#", "Date", "Dose (mg)"]]
    for number, session in enumerate(data.sessions, start=1):
        rows.append(
            [
                str(number),
                session.date.isoformat(),
                "not recorded" if session.dose_mg is None else f"{session.dose_mg.normalize():f}",
            ]
        )
    return [heading, _table(rows, [0.5 * inch, 1.4 * inch, 1.4 * inch], header=True), Spacer(1, 8)]


def _payer_rules(data: PatientOutcomes, styles: StyleSheet1) -> list[Flowable]:
    floors = ", ".join(f"{_short(k)} >= {v}" for k, v in PAYER_SEVERITY_FLOORS.items())
    without = ", ".join(_short(k) for k in scoring.SCALES if k not in PAYER_SEVERITY_FLOORS)
    lines = [
        f"Baseline window: within {PAYER_BASELINE_WINDOW_DAYS} days before the course start.",
        f"Baseline severity floors: {floors}; none for the {without} ({PAYER_SEVERITY_FLOORS_SOURCE}).",
        (
            f"Score at the end of induction: the latest assessment dated on or before the end of induction plus "
            f"{INDUCTION_RATING_WINDOW_DAYS} days. Esketamine: induction ends {ESKETAMINE_INDUCTION_DAYS} days after the start. "
            f"Ketamine and other treatments: after {KETAMINE_INDUCTION_SESSIONS} sessions or {KETAMINE_INDUCTION_DAYS} days, "
            "whichever comes first."
        ),
        "Categories and remission are those of the rules stated under each scale. Policies vary: check the payer's own.",
    ]
    return (
        [Paragraph("Payer criteria applied", styles["Heading2"])]
        + [Paragraph(_markup(line), styles["Rule"]) for line in lines]
        + [Spacer(1, 10)]
    )


def _attestation(actor: User, styles: StyleSheet1) -> list[Flowable]:
    name = actor.get_full_name() or actor.username
    text = (
        "I attest that the scores above were obtained with the named validated scales, that the dosing history "
        "reflects the treatment given, and that this report was generated from the patient's record."
    )
    rows = [
        [Paragraph("Treating clinician", styles["CellBold"]), Paragraph(_markup(name), styles["Cell"])],
        [Paragraph("Signature", styles["CellBold"]), ""],
        [Paragraph("Date", styles["CellBold"]), ""],
    ]
    table = Table(rows, colWidths=[1.6 * inch, 3.2 * inch], rowHeights=[None, 0.5 * inch, 0.4 * inch], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 1), (1, 2), 0.8, colors.black),
            ]
        )
    )
    return [
        KeepTogether(
            [
                Paragraph("Attestation", styles["Heading2"]),
                Paragraph(_markup(text), styles["BodyText"]),
                Spacer(1, 4),
                table,
            ]
        )
    ]


def _chart(data: PatientOutcomes, styles: StyleSheet1, doc: SimpleDocTemplate) -> list[Flowable]:
    png = render_patient_chart(data, fmt="png", scale=None)
    width_px, height_px = ImageReader(io.BytesIO(png)).getSize()
    width = doc.width
    height = width * height_px / width_px
    room = doc.height - 0.6 * inch
    if height > room:
        width, height = width * room / height, room
    return [
        PageBreak(),
        Paragraph("Progress chart", styles["Heading2"]),
        Image(io.BytesIO(png), width=width, height=height),
        Paragraph(
            _markup(
                "Total scores over time with the scale's severity bands, the remission and relapse levels applied, "
                "treatment sessions, and the band of scores expected under the course's reference curve."
            ),
            styles["Small"],
        ),
    ]
