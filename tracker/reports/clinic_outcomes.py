"""A clinic's outcomes on one page: the stored Kaplan–Meier cohort beside the reference curves (drawn
here, computed by the workers), response and remission shares and completion rates by modality, and
the patients off track. Each figure is one aggregate query, whatever the clinic's size.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib as mpl
from django.core.cache import cache
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from matplotlib.figure import Figure
from redis.exceptions import RedisError

import scoring
from projections.models import OutcomeSnapshot
from scoring.outcomes import RECOVERED, REMISSION
from tracker.records.models import Assessment, Clinic, Modality, Patient, TreatmentCourse, schedule_from
from tracker.records.selectors.schedule import DEFAULT_SCHEDULE

# Colours of the modalities' curves (not clinical values).
MODALITY_COLOURS = ("#1f3b73", "#b42318", "#1a7f37", "#9c6500", "#6a51a3", "#0b7285")
REFERENCE_WEEKS = 26
IN_REMISSION = (REMISSION, RECOVERED)


def modality_label(key: str) -> str:
    try:
        return str(Modality(key).label)
    except ValueError:
        return key


def _current_course_ids(clinic: Clinic) -> Subquery:
    latest = TreatmentCourse.objects.filter(patient=OuterRef("patient_id")).order_by("-start_date", "-created_at")
    return Subquery(latest.values("id")[:1])


def _current_snapshots(clinic: Clinic) -> Any:
    """The snapshots of each patient's current course (the latest start, as the patient page reads it)."""
    return OutcomeSnapshot.objects.filter(clinic=clinic, course__isnull=False).filter(
        course_id=_current_course_ids(clinic)
    )


@dataclass(frozen=True)
class Share:
    modality: str
    label: str
    scale: str
    short: str
    courses: int
    responders: int
    remissions: int

    @property
    def response_pct(self) -> str:
        return f"{100 * self.responders / self.courses:.0f} %" if self.courses else "–"

    @property
    def remission_pct(self) -> str:
        return f"{100 * self.remissions / self.courses:.0f} %" if self.courses else "–"


def outcome_shares(clinic: Clinic) -> list[Share]:
    """Per modality and scale, of the current courses with an outcome: how many respond now (latest entry
    at least 50 % below baseline, scoring's rule) and how many are in confirmed remission or recovered now
    (a relapse takes a course out again)."""
    rows = (
        _current_snapshots(clinic)
        .filter(latest_total__isnull=False)
        .values(modality=F("course__modality"), scale_key=F("scale"))
        .annotate(
            courses=Count("id"),
            responders=Count("id", filter=Q(response="response")),
            remissions=Count("id", filter=Q(state__in=IN_REMISSION)),
        )
        .order_by("modality", "scale_key")
    )
    return [
        Share(
            modality=r["modality"],
            label=modality_label(r["modality"]),
            scale=r["scale_key"],
            short=scoring.SCALES[r["scale_key"]].short_name or r["scale_key"],
            courses=r["courses"],
            responders=r["responders"],
            remissions=r["remissions"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Completion:
    modality: str
    label: str
    patients: int
    received: int
    due: int

    @property
    def pct(self) -> str:
        return f"{100 * self.received / self.due:.0f} %" if self.due else "–"


def completion_rates(clinic: Clinic, today: date | None = None) -> list[Completion]:
    """Self-report entries received against those due, per modality of the current course, since each
    patient's first course start: due is one per scheduled questionnaire per interval (the due rule's
    schedule), received counts entries of those questionnaires, at most as many as were due."""
    today = today or timezone.now().date()
    counts = (
        Assessment.objects.filter(
            patient__clinic=clinic,
            is_superseded=False,
            scale__in=list(DEFAULT_SCHEDULE),
            patient__first_course_start__isnull=False,
            administered_on__gte=F("patient__first_course_start"),
        )
        .values("patient_id", "scale")
        .annotate(n=Count("id"))
        .order_by()
    )
    received: dict[Any, dict[str, int]] = defaultdict(dict)
    for row in counts:
        received[row["patient_id"]][row["scale"]] = row["n"]
    patients = (
        Patient.objects.filter(clinic=clinic, first_course_start__isnull=False)
        .annotate(
            modality=Subquery(
                TreatmentCourse.objects.filter(patient=OuterRef("pk"))
                .order_by("-start_date", "-created_at")
                .values("modality")[:1]
            )
        )
        .values_list("pk", "first_course_start", "modality", "schedule")
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for pk, start, modality, schedule in patients:
        days = (today - start).days if start is not None else -1
        if days < 0:
            continue
        got = received.get(pk, {})
        due = 0
        done = 0
        for scale, interval in schedule_from(schedule).items():
            scale_due = days // interval + 1
            due += scale_due
            done += min(got.get(scale, 0), scale_due)
        total = totals[modality]
        total[0] += 1
        total[1] += done
        total[2] += due
    return [
        Completion(modality=m, label=modality_label(m), patients=t[0], received=t[1], due=t[2])
        for m, t in sorted(totals.items())
    ]


def patients_off_track(clinic: Clinic) -> list[dict[str, Any]]:
    """The patients whose current course has a scale off track, with those scales, by name."""
    rows = (
        _current_snapshots(clinic)
        .filter(signal="off_track")
        .values("patient_id", "patient__name", "patient__date_of_birth", "scale", "course__modality")
        .annotate(latest=Max("latest_date"))
        .order_by("patient__name", "patient_id", "scale")
    )
    by_patient: dict[Any, dict[str, Any]] = {}
    for r in rows:
        entry = by_patient.setdefault(
            r["patient_id"],
            {
                "id": r["patient_id"],
                "name": r["patient__name"],
                "date_of_birth": r["patient__date_of_birth"],
                "modality": modality_label(r["course__modality"]),
                "scales": [],
            },
        )
        entry["scales"].append(scoring.SCALES[r["scale"]].short_name or r["scale"])
    return list(by_patient.values())


# --------------------------------------------------------------------------- the picture


COHORT_CHART_VERSION = "2"
COHORT_CHART_SECONDS = 24 * 3600


def cohort_chart(results: Sequence[Mapping[str, Any]], *, clinic_id: Any, scale: str, reference: str) -> bytes:
    """``render_cohort_chart``, cached until the workers store new results (their time is in the key)."""
    stamp = max((str(r.get("computed_at")) for r in results), default="none")
    digest = hashlib.sha256(f"{COHORT_CHART_VERSION}|{clinic_id}|{scale}|{reference}|{stamp}".encode()).hexdigest()
    key = f"cohort-chart:{digest}"
    try:
        cached = cache.get(key)
    except RedisError:  # the cache is down: draw the chart anyway
        cached = None
    if isinstance(cached, bytes):
        return cached
    content = render_cohort_chart(results, scale=scale, reference=reference)
    with contextlib.suppress(RedisError):
        cache.set(key, content, COHORT_CHART_SECONDS)
    return content


def render_cohort_chart(results: Sequence[Mapping[str, Any]], *, scale: str, reference: str) -> bytes:
    """Kaplan–Meier cumulative confirmed remission by modality (step line, its confidence band shaded)
    beside the reference set's expected cumulative remission (dashed, same colour), as SVG."""
    fig = Figure(figsize=(9.0, 5.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    drawn = 0
    for result in results:
        if result.get("scale") != scale:
            continue
        km = result.get("kaplan_meier")
        colour = MODALITY_COLOURS[drawn % len(MODALITY_COLOURS)]
        label = modality_label(str(result.get("modality")))
        if km:
            events = km["n_events"]
            weeks = [0.0, *km["weeks"]]
            incidence = [0.0, *km["cumulative_incidence"]]
            lower = [0.0, *km["incidence_lower"]]
            upper = [0.0, *km["incidence_upper"]]
            ax.step(
                weeks,
                [100 * v for v in incidence],
                where="post",
                color=colour,
                linewidth=2,
                label=f"{label}: this clinic (n={km['n']}, {events} remission{'' if events == 1 else 's'})",
            )
            ax.fill_between(
                weeks,
                [100 * v for v in lower],
                [100 * v for v in upper],
                step="post",
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
        ref = next((r for r in result.get("references", []) if r.get("reference") == reference), None)
        if ref is not None:
            weeks_ref = [w for w in ref["weeks"] if w <= REFERENCE_WEEKS]
            ax.plot(
                weeks_ref,
                [100 * v for v in ref["remission_cumulative"][: len(weeks_ref)]],
                linestyle="--",
                color=colour,
                linewidth=1.4,
                label=f"{label}: expected",
            )
        drawn += 1
    ax.set_xlim(0, REFERENCE_WEEKS)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Weeks since course start")
    ax.set_ylabel("Confirmed remission (%)")
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.tick_params(labelsize=10)
    if drawn:
        # Below the axes: inside, it would hide the curves it names.
        fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    buffer = io.BytesIO()
    # Text as <text> (searchable, read by assistive technology), fixed ids for reproducible bytes.
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tracker-cohort-chart"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


@dataclass(frozen=True)
class CohortRow:
    modality: str
    label: str
    scale: str
    short: str
    courses: int
    remissions: int
    at: list[tuple[int, str, str]]  # (week, this clinic, expected)


def _step_at(weeks: Sequence[float], values: Sequence[float], week: float) -> float:
    value = 0.0
    for w, v in zip(weeks, values, strict=True):
        if w > week:
            break
        value = v
    return value


def cohort_table(
    results: Sequence[Mapping[str, Any]], *, reference: str, weeks: Sequence[int] = (4, 8, 12, 26)
) -> list[CohortRow]:
    """The stored Kaplan–Meier cumulative confirmed remission at a few weeks, beside the reference set's
    expected cumulative remission at the same weeks (read off the stored curves, nothing recomputed)."""
    rows = []
    for result in results:
        km = result.get("kaplan_meier")
        ref = next((r for r in result.get("references", []) if r.get("reference") == reference), None)
        at = []
        for week in weeks:
            clinic_value = f"{100 * _step_at(km['weeks'], km['cumulative_incidence'], week):.0f} %" if km else "–"
            expected = "–"
            if ref is not None and week < len(ref["remission_cumulative"]):
                expected = f"{100 * ref['remission_cumulative'][week]:.0f} %"
            at.append((week, clinic_value, expected))
        scale = str(result.get("scale"))
        rows.append(
            CohortRow(
                modality=str(result.get("modality")),
                label=modality_label(str(result.get("modality"))),
                scale=scale,
                short=scoring.SCALES[scale].short_name or scale if scale in scoring.SCALES else scale,
                courses=int(result.get("courses") or 0),
                remissions=int(km["n_events"]) if km else 0,
                at=at,
            )
        )
    return rows
