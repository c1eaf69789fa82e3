"""The payer's response report of a patient's current course, as PDF: the layout only.

What each line says (the payer criteria of the applied profile, the end of induction, the score at
its end, the categories, numbers in words) comes from ``tracker.reports.payer``; outcomes come from
``scoring`` through the course's snapshots. The report shows no projection, and no item of any
scale (BDI-II and MADRS item text is copyrighted), only totals. Every page is headed with the
patient's name, date of birth, external id and its page number out of the total.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

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
from tracker.records.models import Modality, Patient, User
from tracker.records.services.patients import patient_local_today
from tracker.reports import payer
from tracker.reports.charts import render_patient_chart
from tracker.reports.profiles import payer_profile_for
from tracker.reports.read_model import PatientOutcomes, ScaleOutcome

# Characters outside the standard PDF fonts' encoding are set in DejaVu Sans (shipped with
# matplotlib), so any patient or clinic name prints; everything else stays in Helvetica.
UNICODE_FONT = "DejaVuSans"
STANDARD_ENCODING = "cp1252"
MARGIN = 0.75 * inch
HEADER_SPACE = 0.95 * inch


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


def _styles() -> StyleSheet1:
    styles = getSampleStyleSheet()
    styles.add(ParagraphStyle("Cell", parent=styles["BodyText"], fontSize=9, leading=11.5))
    styles.add(ParagraphStyle("CellBold", parent=styles["Cell"], fontName="Helvetica-Bold"))
    styles.add(
        ParagraphStyle("Small", parent=styles["BodyText"], fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
    )
    styles.add(ParagraphStyle("Rule", parent=styles["BodyText"], fontSize=8.5, leading=11))
    styles.add(ParagraphStyle("PageHead", parent=styles["BodyText"], fontSize=8.5, leading=11))
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


def _lines_table(lines: list[tuple[str, str]], styles: StyleSheet1, width: float, label: float) -> Table:
    return _table(
        [[Paragraph(_markup(k), styles["CellBold"]), Paragraph(_markup(v), styles["Cell"])] for k, v in lines],
        [label, width - label],
    )


def _person(user: User | None) -> str:
    if user is None:
        return "not recorded for this course"
    return user.get_full_name() or user.username


# --------------------------------------------------------------------------- every page's header


def _numbered_canvas(head: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that keeps its pages until the document is complete, then heads each with
    ``head(canvas, page, pages)``: the total page count is only known at the end. Pages are counted
    per report: a ``_ReportStart`` drawn on a page starts a new count there (a combined document)."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.report_index: int | None = None

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            keys = [state["report_index"] for state in self._pages]
            totals = Counter(keys)
            seen: Counter[int | None] = Counter()
            for state, key in zip(self._pages, keys, strict=True):
                seen[key] += 1
                self.__dict__.update(state)
                head(self, seen[key], totals[key])
                super().showPage()
            super().save()

    return NumberedCanvas


class _ReportStart(Flowable):
    """Marks where one patient's report begins in a combined document (draws nothing)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv.report_index = self.index  # type: ignore[attr-defined]


def _patient_line(patient: Patient) -> str:
    born = patient.date_of_birth.isoformat() if patient.date_of_birth else "not recorded"
    external = patient.external_id or "not recorded"
    return f"Patient: {patient.name}  \u00b7  Date of birth: {born}  \u00b7  External id: {external}"


def _draw_head(canvas: Canvas, doc: SimpleDocTemplate, styles: StyleSheet1, title: str, who: str, number: str) -> None:
    canvas.saveState()
    top = doc.pagesize[1] - 0.5 * inch
    heading = Paragraph(f"<b>{escape(title)}</b>", styles["PageHead"])
    right = Paragraph(number, ParagraphStyle("Right", styles["PageHead"], alignment=2))
    line = Paragraph(_markup(who), styles["PageHead"])
    for flowable, x, width in ((heading, doc.leftMargin, doc.width), (right, doc.leftMargin, doc.width)):
        _, height = flowable.wrapOn(canvas, width, inch)
        flowable.drawOn(canvas, x, top - height)
    _, height = line.wrapOn(canvas, doc.width, inch)
    line.drawOn(canvas, doc.leftMargin, top - 12 - height)
    canvas.setStrokeColor(colors.HexColor("#888888"))
    canvas.setLineWidth(0.5)
    rule_y = top - 16 - height
    canvas.line(doc.leftMargin, rule_y, doc.leftMargin + doc.width, rule_y)
    canvas.restoreState()


def _page_head(patient: Patient, styles: StyleSheet1, doc: SimpleDocTemplate) -> Callable[[Canvas, int, int], None]:
    who = _patient_line(patient)

    def head(canvas: Canvas, page: int, pages: int) -> None:
        _draw_head(canvas, doc, styles, "Treatment response report", who, f"page {page} of {pages}")

    return head


def _combined_head(
    patients: Sequence[Patient], clinic_name: str, styles: StyleSheet1, doc: SimpleDocTemplate
) -> Callable[[Canvas, int, int], None]:
    """Each patient's pages headed and numbered as their own report; the cover as the cover."""
    lines = [_patient_line(p) for p in patients]

    def head(canvas: Canvas, page: int, pages: int) -> None:
        index = getattr(canvas, "report_index", None)
        if index is None:
            who, number = f"Clinic: {clinic_name}", f"cover, page {page} of {pages}"
        else:
            who, number = lines[index], f"report {index + 1} of {len(lines)}, page {page} of {pages}"
        _draw_head(canvas, doc, styles, "Treatment response report", who, number)

    return head


# --------------------------------------------------------------------------- the report


def _payer_entries(data: PatientOutcomes) -> dict[str, list[payer.Entry]]:
    """The course's entries as the payer's rules read them, by scale, with their timing against the
    dose and time of day (from the read model's rows: no query of its own)."""
    return {
        scale_data.scale: [
            payer.Entry(
                key=row.id,
                date=row.administered_on,
                total=row.total,
                seq=row.seq,
                timing=row.timing,
                time=row.administered_time,
                is_baseline=row.is_baseline,
            )
            for row in scale_data.rows
        ]
        for scale_data in data.scales
    }


def _document(buffer: io.BytesIO, title: str, author: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=HEADER_SPACE,
        bottomMargin=0.7 * inch,
        title=title,
        author=author,
        subject="Depression treatment response",
        creator="depression-outcomes-tracker",
    )


def _report_story(
    data: PatientOutcomes, actor: User, profile: payer.Profile, styles: StyleSheet1, doc: SimpleDocTemplate
) -> list[Flowable]:
    """One patient's report, from the caller's one read of the course (tables and chart drawn from it)."""
    entries = _payer_entries(data)
    today = patient_local_today(data.patient)
    course = None
    if data.course is not None:
        course = payer.Course(
            treatment=data.course.modality,
            treatment_name=data.course.get_modality_display(),
            start=data.course.start_date,
            session_dates=[s.date for s in data.sessions],
        )
    story: list[Flowable] = []
    story += _details(data, profile, styles, doc.width)
    if not data.scales:
        story.append(Paragraph("No assessments are recorded for this course.", styles["BodyText"]))
    for scale_data in data.scales:
        story += _scale_section(scale_data, entries[scale_data.scale], course, profile, today, styles, doc.width)
    story += _dosing(data, styles, doc.width)
    story += _criteria(profile, data.course.modality if data.course is not None else None, styles)
    story += _attestation(data, actor, styles)
    if data.scales:
        story += _chart(data, styles, doc)
    return story


def render_response_report(data: PatientOutcomes, *, actor: User, profile: payer.Profile | None = None) -> bytes:
    """The payer response report of the patient's current course, as PDF bytes, under ``profile``
    (default: the clinic's default payer profile, else the built-in one)."""
    _register_unicode_font()
    styles = _styles()
    profile = profile or payer_profile_for(data.clinic)
    buffer = io.BytesIO()
    doc = _document(buffer, "Treatment response report", data.clinic.name)
    story = _report_story(data, actor, profile, styles, doc)
    doc.build(story, canvasmaker=_numbered_canvas(_page_head(data.patient, styles, doc)))
    return buffer.getvalue()


def render_response_reports(
    reports: Sequence[PatientOutcomes], *, actor: User, profile: payer.Profile | None = None
) -> bytes:
    """Several patients' payer reports in one PDF: a cover listing them, then each patient's report as
    ``render_response_report`` builds it, starting on a new page, headed and numbered as its own."""
    if not reports:
        raise ValueError("A combined report needs at least one patient.")
    _register_unicode_font()
    styles = _styles()
    clinic = reports[0].clinic
    profile = profile or payer_profile_for(clinic)
    buffer = io.BytesIO()
    doc = _document(buffer, "Treatment response reports", clinic.name)
    story = _cover(reports, actor, profile, styles, doc.width)
    for index, data in enumerate(reports):
        story += [PageBreak(), _ReportStart(index), *_report_story(data, actor, profile, styles, doc)]
    patients = [data.patient for data in reports]
    doc.build(story, canvasmaker=_numbered_canvas(_combined_head(patients, clinic.name, styles, doc)))
    return buffer.getvalue()


def _cover(
    reports: Sequence[PatientOutcomes], actor: User, profile: payer.Profile, styles: StyleSheet1, width: float
) -> list[Flowable]:
    clinic = reports[0].clinic
    rows: list[list[Any]] = [["#", "Patient", "Date of birth", "External id"]]
    for number, data in enumerate(reports, start=1):
        patient = data.patient
        rows.append(
            [
                str(number),
                Paragraph(_markup(patient.name), styles["Cell"]),
                patient.date_of_birth.isoformat() if patient.date_of_birth else "not recorded",
                Paragraph(_markup(patient.external_id or "not recorded"), styles["Cell"]),
            ]
        )
    zone = clinic.timezone or "UTC"
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    return [
        Paragraph("Treatment response reports", styles["Title"]),
        _lines_table(
            [
                ("Clinic", clinic.name),
                ("Patients", str(len(reports))),
                ("Criteria applied", profile.name),
                ("Generated", f"by {_person(actor)} on {today.isoformat()} ({zone})"),
            ],
            styles,
            width,
            1.6 * inch,
        ),
        Spacer(1, 10),
        Paragraph("Patients in this document, in order; each report starts on a new page.", styles["BodyText"]),
        _table(rows, [0.4 * inch, 3.0 * inch, 1.2 * inch, width - 4.6 * inch], header=True),
    ]


def _details(data: PatientOutcomes, profile: payer.Profile, styles: StyleSheet1, width: float) -> list[Flowable]:
    course = data.course
    rows = [("Clinic", data.clinic.name)]
    if course is not None:
        therapy = "with psychotherapy" if course.with_therapy else "without psychotherapy"
        rows.append(
            ("Treatment course", f"{course.get_modality_display()}, {therapy}, started {course.start_date.isoformat()}")
        )
        rows.append(("Sessions recorded", str(len(data.sessions))))
        rows.append(("Treating clinician", _person(course.treating_clinician)))
    else:
        rows.append(("Treatment course", "none recorded: outcomes are computed from the first assessment"))
    rows.append(("Criteria applied", profile.name))
    return [
        Paragraph("Treatment response report", styles["Title"]),
        _lines_table(rows, styles, width, 1.6 * inch),
        Spacer(1, 10),
    ]


def _scale_section(
    scale_data: ScaleOutcome,
    entries: list[payer.Entry],
    course: payer.Course | None,
    profile: payer.Profile,
    today: date,
    styles: StyleSheet1,
    width: float,
) -> list[Flowable]:
    scale = scoring.SCALES[scale_data.scale]
    outcome = scale_data.outcome
    lines = payer.scale_lines(scale, outcome, entries, course, profile, today)
    rule = Paragraph(_markup("Outcome rules: " + payer.outcome_rule_text(scale, outcome)), styles["Rule"])
    return [
        KeepTogether(
            [
                Paragraph(_markup(payer.scale_title(scale)), styles["Heading2"]),
                _lines_table(lines, styles, width, 1.9 * inch),
            ]
        ),
        Spacer(1, 4),
        rule,
        Spacer(1, 8),
    ]


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


def _criteria(profile: payer.Profile, treatment: str | None, styles: StyleSheet1) -> list[Flowable]:
    names = dict(Modality.choices)
    lines = [*payer.criteria_lines(profile, names, treatment), "Policies vary: check the payer's own criteria."]
    return (
        [Paragraph("Payer criteria applied", styles["Heading2"])]
        + [Paragraph(_markup(line), styles["Rule"]) for line in lines]
        + [Spacer(1, 10)]
    )


def _attestation(data: PatientOutcomes, actor: User, styles: StyleSheet1) -> list[Flowable]:
    clinician = data.course.treating_clinician if data.course is not None else None
    text = (
        "I attest that the scores above were obtained with the named validated scales, that the dosing history "
        "reflects the treatment given, and that this report was generated from the patient's record."
    )
    rows = [
        [Paragraph("Treating clinician", styles["CellBold"]), Paragraph(_markup(_person(clinician)), styles["Cell"])],
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
    # In the clinic's zone, named (the reader may be elsewhere).
    zone = data.clinic.timezone or "UTC"
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    generated = f"Generated by {_person(actor)} on {today.isoformat()} ({zone})."
    return [
        KeepTogether(
            [
                Paragraph("Attestation", styles["Heading2"]),
                Paragraph(_markup(text), styles["BodyText"]),
                Spacer(1, 4),
                table,
                Spacer(1, 12),
                Paragraph(_markup(generated), styles["Small"]),
            ]
        )
    ]


def _chart(data: PatientOutcomes, styles: StyleSheet1, doc: SimpleDocTemplate) -> list[Flowable]:
    png = render_patient_chart(data, fmt="png", scale=None, expected=False)
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
                "and the treatment sessions."
            ),
            styles["Small"],
        ),
    ]
