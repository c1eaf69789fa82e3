"""Shared set-up of the report tests (a course with sessions and entries, built through the API)
and the PDF text reader they use, with a test of that reader."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.tracker.helpers import ClinicWorld, client_for, items_with_total, submit

# CLINICAL.md §2 worked example: BDI-II weekly from the course start (days 0, 7, ..., 63).
WORKED_BDI2 = [48, 47, 46, 44, 30, 12, 4, 3, 4, 3]


@dataclass
class Course:
    id: str
    start: date
    entry_ids: dict[str, list[str]] = field(default_factory=dict)


def make_course(staff: APIClient, patient_id: Any, modality: str, start: date, with_therapy: bool = False) -> Course:
    r = staff.post(
        f"/api/v1/patients/{patient_id}/courses/",
        {"modality": modality, "with_therapy": with_therapy, "start_date": start.isoformat()},
        format="json",
    )
    assert r.status_code == 201, r.content
    return Course(id=r.json()["id"], start=start)


def add_sessions(staff: APIClient, course: Course, days: list[int], dose: str | None = "35.5") -> None:
    for day in days:
        body: dict[str, Any] = {"date": (course.start + timedelta(days=day)).isoformat()}
        if dose is not None:
            body["dose_mg"] = dose
        r = staff.post(f"/api/v1/courses/{course.id}/sessions/", body, format="json")
        assert r.status_code == 201, r.content


def add_entries(
    client: APIClient, course: Course, scale: str, days_totals: list[tuple[int, int]], patient: Any = None
) -> None:
    for day, total in days_totals:
        r = submit(client, scale, course.start + timedelta(days=day), total, patient=patient)
        assert r.status_code == 201, r.content
        course.entry_ids.setdefault(scale, []).append(r.json()["id"])


def worked_example(world: ClinicWorld, start: date | None = None) -> Course:
    """IV ketamine from ``start`` (default 120 days ago): 6 infusions in 12 days, the worked
    BDI-II example, and one BDI-II entry first entered wrong (48 -> 50) and amended back to 48."""
    start = start or date.today() - timedelta(days=120)
    staff = client_for(world.clinician)
    course = make_course(staff, world.patient.pk, "iv_ketamine", start)
    add_sessions(staff, course, [0, 2, 4, 7, 9, 11])
    me = client_for(world.patient_user)
    add_entries(me, course, "bdi2", [(0, 50)])
    wrong = course.entry_ids["bdi2"].pop()
    r = staff.post(
        f"/api/v1/assessments/{wrong}/amend/",
        {"items": items_with_total("bdi2", 48), "reason": "transcription error"},
        format="json",
    )
    assert r.status_code == 201, r.content
    course.entry_ids["bdi2"].append(r.json()["id"])
    course.entry_ids["superseded"] = [wrong]
    add_entries(me, course, "bdi2", [(7 * k, total) for k, total in enumerate(WORKED_BDI2) if k > 0])
    return course


def squash(text: str) -> str:
    """Text without whitespace: PDF text comes in fragments and wrapped lines."""
    return re.sub(r"\s+", "", text)


_LITERAL = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.DOTALL)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, literal)


def pdf_strings(content: bytes) -> str:
    """The text shown by an uncompressed PDF's content streams (standard fonts' literal strings).

    Needs page compression off (``reportlab.rl_config.pageCompression = 0``): independent of any
    PDF tool being installed."""
    return "\n".join(_unescape(m.group(1)).decode("cp1252") for m in _LITERAL.finditer(content))


def pdf_pages(content: bytes) -> list[list[str]]:
    """Each page's text lines as a PDF reader extracts them (pypdf), whitespace runs made one space."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return [
        [re.sub(r"\s+", " ", line).strip() for line in page.extract_text().splitlines() if line.strip()]
        for page in reader.pages
    ]


def pdftotext(content: bytes) -> str | None:
    """poppler's text of the PDF, or None where poppler-utils is not installed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    done = subprocess.run([tool, "-", "-"], input=content, capture_output=True, check=True)
    return done.stdout.decode()


def write_uncompressed_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """reportlab writes the calling test's PDFs with uncompressed page streams, for ``pdf_strings``."""
    from reportlab import rl_config

    monkeypatch.setattr(rl_config, "pageCompression", 0)
    monkeypatch.setattr(rl_config, "invariant", 1)


@pytest.fixture
def uncompressed_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    write_uncompressed_pdfs(monkeypatch)


def test_pdf_strings_reads_what_reportlab_wrote(uncompressed_pdf: None) -> None:
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    buffer = io.BytesIO()
    text = "Baseline (48) &lt;= 13 \\ Åsberg " * 3
    SimpleDocTemplate(buffer).build([Paragraph(text, getSampleStyleSheet()["BodyText"])])
    assert squash("Baseline (48) <= 13 \\ Åsberg " * 3) in squash(pdf_strings(buffer.getvalue()))
