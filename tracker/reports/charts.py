"""The progress chart of a patient's current course, for psychiatrists (PNG or SVG).

One panel per scale: the total score over time, the scale's severity bands, the remission and
relapse levels the outcome was classified with, the course start and treatment sessions, the
outcome's events, and the expected-score band of the course's reference curve. Every threshold
comes from ``scoring`` (bands from ``scoring.SCALES``, levels from the outcome's ``rules``).

matplotlib's object API only (``Figure``, never ``pyplot``): no global state, safe in a server.
Rendered bytes are cached by content: the snapshot fingerprints (entries, course, clinic
settings), the sessions, the reference curve's parameters, the format and the scale.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
from django.core.cache import cache
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from redis.exceptions import RedisError

import scoring
from projections.compare import reference_set_for
from projections.math.model import improvement_quantiles
from scoring.scales import POST_DOSE, RATED_BY_LABELS
from tracker.reports.read_model import PatientOutcomes, ScaleOutcome

ChartFormat = Literal["png", "svg"]

# Bump when the drawing changes, so cached charts are redrawn.
CHART_VERSION = "4"
CACHE_SECONDS = 7 * 24 * 3600
DPI = 110
# 9 inches wide: shown 100 % wide (at most 1,100 px), the smallest text (9 pt) stays at 10 px or more
# on a tablet 820 px wide.
WIDTH_IN = 9.0
PANEL_HEIGHT_IN = 3.0
FONT_SMALL = 9  # ticks, labels, annotations, legend
# Fixed margins in inches instead of a layout engine, whose measuring pass costs a second drawing.
# They hold the longest texts each place has: the severity labels on the right, the score ticks and
# label on the left, a panel's title above it, the date ticks and the year under the last panel.
TOP_IN = 0.32
PANEL_TITLE_IN = 0.34
LEFT_IN = 0.75
RIGHT_IN = 1.45
AXIS_IN = 0.5
LEGEND_ROW_IN = 0.2
LEGEND_COLUMNS = 3
# The expected band reaches at least this many weeks, and a week past the last entry.
MIN_EXPECTED_WEEKS = 4
EXPECTED_SAMPLES_PER_WEEK = 7


# Colours (not thresholds): severity bands run from the colour map's green to its red.
BAND_CMAP = "RdYlGn_r"
SCORE_COLOUR = "#1f3b73"
EXPECTED_COLOUR = "#6a51a3"
REMISSION_COLOUR = "#1a7f37"
RELAPSE_COLOUR = "#b42318"
COURSE_COLOUR = "#444444"
SESSION_COLOUR = "#0b7285"
PENDING_COLOUR = "#52b788"
WARNING_COLOUR = "#e8590c"
RESPONSE_COLOUR = "#9c6500"
FLAG_COLOURS = {"urgent": "#c2255c", "review": "#e67700"}
FLAG_LABELS = {"urgent": "safety flag: urgent", "review": "safety flag: review"}

# How each event of the outcome is marked: (label, marker, colour, filled).
EVENT_STYLE: dict[tuple[str, str], tuple[str, str, str, bool]] = {
    ("remission", "onset"): ("remission onset", "o", REMISSION_COLOUR, False),
    ("remission", "confirmed"): ("remission confirmed", "*", REMISSION_COLOUR, True),
    ("relapse", "onset"): ("relapse onset", "v", RELAPSE_COLOUR, False),
    ("relapse", "confirmed"): ("relapse confirmed", "v", RELAPSE_COLOUR, True),
    ("recovery", "date"): ("recovery", "D", REMISSION_COLOUR, True),
    ("recurrence", "onset"): ("recurrence onset", "X", RELAPSE_COLOUR, False),
    ("recurrence", "confirmed"): ("recurrence confirmed", "X", RELAPSE_COLOUR, True),
    # Not events of §2, but worth seeing: a remission run not yet sustained, and a single
    # relapse-level score after remission (a warning, not a relapse).
    ("remission_pending", "since"): ("remission range entered (pending)", "o", PENDING_COLOUR, False),
    ("relapse_level_score", "date"): ("relapse-level score (warning)", "D", WARNING_COLOUR, False),
}


@dataclass
class ExpectedBand:
    dates: list[date]
    scores: dict[str, list[float]]  # p10..p90 as expected scores from the baseline
    reference: str
    identity: list[Any]


@dataclass
class Panel:
    scale: scoring.Scale
    dates: list[date]
    totals: list[int]
    post_dose: list[bool]  # taken after a dose: drawn hollow, off the line the rules read
    outcome: Mapping[str, Any]
    remission_max: int
    relapse_min: int
    expected: ExpectedBand | None = None
    events: list[tuple[str, date, int]] = field(default_factory=list)  # (label, date, score)
    flags: list[tuple[str, date, int]] = field(default_factory=list)  # (level, date, score) of flagged entries
    remission_periods: list[tuple[date, date]] = field(default_factory=list)  # confirmed remissions


def render_patient_chart(
    outcomes: PatientOutcomes,
    *,
    fmt: ChartFormat | str,
    scale: str | None,
    expected: bool = True,
    flags: Mapping[Any, str] | None = None,
) -> bytes:
    """The progress chart of the patient's current course (of one scale, or of all for None) as PNG
    or SVG bytes, cached by content; ``expected=False`` leaves out the expected band of the
    reference curves (the payer's report shows no projection). ``flags``: the safety-flag level of
    each flagged entry (``flag_levels_of_entries``), marked on the chart; the clinic's staff see
    them, the payer's report and the patient's own chart do not."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown chart format {fmt!r}")
    data = outcomes.only(scale)
    panels = [_panel(data, scale_data, expected=expected, flags=flags or {}) for scale_data in data.scales]
    key = _cache_key(data, panels, fmt, scale)
    try:
        cached = cache.get(key)
    except RedisError:  # the cache is down: draw the chart anyway
        cached = None
    if isinstance(cached, bytes):
        return cached
    content = _render(data, panels, fmt, scale)
    with contextlib.suppress(RedisError):
        cache.set(key, content, CACHE_SECONDS)
    return content


# --------------------------------------------------------------------------- data for the drawing


def _panel(
    data: PatientOutcomes, scale_data: ScaleOutcome, *, expected: bool = True, flags: Mapping[Any, str]
) -> Panel:
    scale = scoring.SCALES[scale_data.scale]
    outcome = scale_data.outcome
    rules = outcome["rules"]
    dates = [r.administered_on for r in scale_data.rows]
    totals = [r.total for r in scale_data.rows]
    panel = Panel(
        scale=scale,
        dates=dates,
        totals=totals,
        post_dose=[r.timing == POST_DOSE for r in scale_data.rows],
        outcome=outcome,
        remission_max=int(rules["remission_max"]),
        relapse_min=int(rules["relapse_min"]),
    )
    panel.expected = _expected_band(data, panel) if expected else None
    panel.events = _events(panel)
    panel.flags = [(flags[r.id], r.administered_on, r.total) for r in scale_data.rows if r.id in flags]
    panel.remission_periods = remission_periods(outcome, last=max(dates, default=None))
    return panel


def remission_periods(outcome: Mapping[str, Any], *, last: date | None) -> list[tuple[date, date]]:
    """Each confirmed remission of an outcome, from its onset to the onset of the relapse or
    recurrence that ended it, or to the ``last`` entry while it lasts (a recovery continues it)."""
    events = outcome.get("events", [])
    endings = sorted(date.fromisoformat(e["onset"]) for e in events if e["type"] in ("relapse", "recurrence"))
    periods = []
    for event in events:
        if event["type"] != "remission" or not event.get("confirmed") or not event.get("onset"):
            continue
        onset = date.fromisoformat(event["onset"])
        end = next((day for day in endings if day > onset), max(onset, last or onset))
        periods.append((onset, end))
    return periods


def _score_on(panel: Panel, day: date) -> int | None:
    """The score of the last entry dated ``day`` (events are dated by an entry)."""
    found = None
    for d, total in zip(panel.dates, panel.totals, strict=True):
        if d == day:
            found = total
    return found


def _events(panel: Panel) -> list[tuple[str, date, int]]:
    outcome = panel.outcome
    moments: list[tuple[str, str, str | None]] = []
    for event in outcome.get("events", []):
        moments += [(event["type"], moment, event.get(moment)) for moment in ("onset", "confirmed", "date")]
    moments.append(("remission_pending", "since", outcome.get("remission_pending_since")))
    moments += [(w.get("type", ""), "date", w.get("date")) for w in outcome.get("warnings", [])]
    marks = []
    for kind, moment, when in moments:
        style = EVENT_STYLE.get((kind, moment))
        if style is None or not when:
            continue
        day = date.fromisoformat(when)
        score = _score_on(panel, day)
        if score is not None:
            marks.append((style[0], day, score))
    return marks


def _expected_band(data: PatientOutcomes, panel: Panel) -> ExpectedBand | None:
    """Expected scores from the baseline: score = baseline x (1 - improvement percentile)."""
    course = data.course
    baseline = panel.outcome.get("baseline")
    if course is None or not baseline or not baseline["total"]:
        return None
    reference = reference_set_for(course, data.clinic)
    severity = panel.scale.severity(baseline["total"])
    curve = reference.curve(course.modality, panel.scale.key, with_therapy=course.with_therapy, severity=severity)
    last = max([*panel.dates, *(s.date for s in data.sessions), course.start_date])
    weeks_shown = max(MIN_EXPECTED_WEEKS, (last - course.start_date).days / 7 + 1)
    days = np.arange(0, int(np.ceil(weeks_shown * 7)) + 1)
    quantiles = improvement_quantiles(curve.params, days / 7)
    names = ["p10", "p25", "p50", "p75", "p90"]
    assert set(names) == set(curve.improvement_percentiles(0.0)), "percentile names changed in projections"
    scores = {name: [float(baseline["total"] * (1 - q)) for q in quantiles[:, i]] for i, name in enumerate(names)}
    return ExpectedBand(
        dates=[course.start_date + timedelta(days=int(d)) for d in days],
        scores=scores,
        reference=curve.reference_label or reference.title,
        identity=[reference.key, reference.version, curve.params.as_dict(), curve.basis],
    )


def _cache_key(data: PatientOutcomes, panels: list[Panel], fmt: str, scale: str | None) -> str:
    payload = {
        "v": CHART_VERSION,
        "mpl": mpl.__version__,
        "fmt": fmt,
        "scale": scale,
        "fingerprints": [s.fingerprint for s in data.scales],
        "course": str(data.course.pk) if data.course else None,
        "sessions": [s.date.isoformat() for s in data.sessions],
        "expected": [p.expected.identity if p.expected else None for p in panels],
        "flags": [p.flags for p in panels],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"tracker:chart:{digest}"


# --------------------------------------------------------------------------- drawing


def _title(data: PatientOutcomes) -> str:
    course = data.course
    if course is None:
        return "Progress: assessments without a treatment course"
    therapy = " with psychotherapy" if course.with_therapy else ""
    return f"Progress: {course.get_modality_display()}{therapy}, course started {course.start_date.isoformat()}"


def _render(data: PatientOutcomes, panels: list[Panel], fmt: str, scale: str | None) -> bytes:
    if not panels:
        fig = Figure(figsize=(WIDTH_IN, 2.0), dpi=DPI)
        fig.suptitle(_title(data), fontsize=12, fontweight="bold")
        which = f"{scoring.SCALES[scale].name} " if scale else ""
        fig.text(
            0.5, 0.5, f"No {which}assessments recorded for this course yet.", ha="center", va="center", fontsize=11
        )
        return _save(fig, fmt)
    fig = Figure(dpi=DPI)
    n = len(panels)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    legend: dict[str, Any] = {}
    for ax, panel in zip(axes, panels, strict=True):
        _draw_panel(ax, data, panel, legend)
    locator = AutoDateLocator(minticks=4, maxticks=9)
    axes[-1].xaxis.set_major_locator(locator)
    # The offset under the axis names the year only (the ticks name months and days).
    offsets = ["", "%Y", "%Y", "%Y", "%Y-%b-%d", "%Y-%b-%d %H:%M"]
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator, offset_formats=offsets))
    references = sorted({p.expected.reference for p in panels if p.expected})
    # The figure's height follows its content; the axes sit at fixed margins (no layout pass).
    rows = -(-len(legend) // LEGEND_COLUMNS) + (1 if references else 0)
    legend_in = rows * LEGEND_ROW_IN + 0.1
    height = TOP_IN + n * (PANEL_TITLE_IN + PANEL_HEIGHT_IN) + AXIS_IN + legend_in
    fig.set_size_inches(WIDTH_IN, height)
    fig.subplots_adjust(
        left=LEFT_IN / WIDTH_IN,
        right=1 - RIGHT_IN / WIDTH_IN,
        top=1 - (TOP_IN + PANEL_TITLE_IN) / height,
        bottom=(AXIS_IN + legend_in) / height,
        hspace=PANEL_TITLE_IN / PANEL_HEIGHT_IN,
    )
    fig.suptitle(_title(data), fontsize=12, fontweight="bold", y=1 - 0.1 / height, va="top")
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.04 / height),
        ncols=LEGEND_COLUMNS,
        fontsize=FONT_SMALL,
        frameon=False,
        borderaxespad=0,
        handletextpad=0.5,
        columnspacing=1.6,
        labelspacing=0.35,
        title=("Expected band: " + "; ".join(references)) if references else None,
        title_fontsize=FONT_SMALL,
    )
    return _save(fig, fmt)


def _y_top(panel: Panel) -> float:
    scale = panel.scale
    highest = float(max([*panel.totals, panel.relapse_min]))
    if panel.expected:
        highest = max(highest, *panel.expected.scores["p10"])
    top = min(scale.total_max, highest + 0.12 * scale.total_max)
    return float(min(scale.total_max, 5 * np.ceil(top / 5)))


def _draw_panel(ax: Axes, data: PatientOutcomes, panel: Panel, legend: dict[str, Any]) -> None:
    scale = panel.scale
    top = _y_top(panel)
    ax.set_ylim(0, top)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    colours = colormaps[BAND_CMAP](np.linspace(0.1, 0.9, len(scale.bands)))
    ticks, labels = [], []
    for band, colour in zip(scale.bands, colours, strict=True):
        if band.low > top:
            continue
        # Bands hold integer totals: shade each from half a point below to half above.
        ax.axhspan(max(band.low - 0.5, 0), min(band.high + 0.5, top), color=colour, alpha=0.16, linewidth=0, zorder=0)
        ticks.append((max(band.low - 0.5, 0) + min(band.high + 0.5, top)) / 2)
        labels.append(band.label.replace("_", " "))
    right = ax.twinx()
    right.set_ylim(0, top)
    right.set_yticks(ticks, labels, fontsize=FONT_SMALL, color="#555555")
    right.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        right.spines[side].set_visible(False)
        ax.spines[side].set_visible(False)

    course = data.course
    if course is not None:
        ax.axvline(float(date2num(course.start_date)), color=COURSE_COLOUR, linewidth=1.2, linestyle="-", zorder=2)
        legend.setdefault("course start", Line2D([], [], color=COURSE_COLOUR, linewidth=1.2))
    if data.sessions:
        ax.plot(
            date2num([s.date for s in data.sessions]),
            [0.035] * len(data.sessions),
            transform=ax.get_xaxis_transform(),
            linestyle="none",
            marker="^",
            markersize=6,
            color=SESSION_COLOUR,
            clip_on=False,
            zorder=4,
        )
        legend.setdefault("treatment session", Line2D([], [], linestyle="none", marker="^", color=SESSION_COLOUR))

    if panel.expected:
        # Lines and a sparse hatch, no fill: the severity colours under the band keep their hue.
        expected = panel.expected
        days = date2num(expected.dates)
        scores = expected.scores
        for outer in ("p10", "p90"):
            (outer_line,) = ax.plot(
                days, scores[outer], color=EXPECTED_COLOUR, linewidth=0.9, linestyle=(0, (4, 3)), zorder=2
            )
        for inner in ("p25", "p75"):
            ax.plot(days, scores[inner], color=EXPECTED_COLOUR, linewidth=1.1, zorder=2)
        (median,) = ax.plot(days, scores["p50"], color=EXPECTED_COLOUR, linewidth=1.4, linestyle=":", zorder=2)
        legend.setdefault("expected p10-p90", outer_line)
        # The hatch's colour and width are read when its artists are made.
        with mpl.rc_context({"hatch.color": EXPECTED_COLOUR, "hatch.linewidth": 0.5}):
            ax.fill_between(
                days, scores["p75"], scores["p25"], facecolor="none", hatch="////", linewidth=0, alpha=0.45, zorder=1
            )
            legend.setdefault(
                "expected p25-p75", Patch(facecolor="none", edgecolor=EXPECTED_COLOUR, hatch="////", linewidth=1.1)
            )
        legend.setdefault("expected median", median)

    for start, end in panel.remission_periods:
        # A light veil over the period, and a bar along the top that reads at a glance.
        ax.axvspan(float(date2num(start)), float(date2num(end)), color=REMISSION_COLOUR, alpha=0.08, linewidth=0,
                   zorder=0.5)  # fmt: skip
        ax.axvspan(float(date2num(start)), float(date2num(end)), ymin=0.955, ymax=1.0, color=REMISSION_COLOUR,
                   alpha=0.75, linewidth=0, zorder=3)  # fmt: skip
        legend.setdefault("sustained remission (confirmed)", Patch(color=REMISSION_COLOUR, alpha=0.75))

    for level, colour, text in (
        (panel.remission_max, REMISSION_COLOUR, f"remission \u2264 {panel.remission_max}"),
        (panel.relapse_min, RELAPSE_COLOUR, f"relapse level \u2265 {panel.relapse_min}"),
    ):
        ax.axhline(level, color=colour, linewidth=1.2, linestyle="--", zorder=2)
        ax.annotate(
            text,
            xy=(0, level),
            xycoords=("axes fraction", "data"),
            xytext=(4, 2),
            textcoords="offset points",
            fontsize=FONT_SMALL,
            color=colour,
            va="bottom",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
            zorder=6,
        )

    points = list(zip(panel.dates, panel.totals, panel.post_dose, strict=True))
    trough = [(day, total) for day, total, post in points if not post]
    if trough:
        days, totals = zip(*trough, strict=True)
        ax.plot(date2num(days), totals, color=SCORE_COLOUR, linewidth=1.8, marker="o", markersize=4, zorder=5)
        legend.setdefault("total score", Line2D([], [], color=SCORE_COLOUR, linewidth=1.8, marker="o", markersize=4))
    after_dose = [(day, total) for day, total, post in points if post]
    if after_dose:
        days, totals = zip(*after_dose, strict=True)
        ax.plot(
            date2num(days), totals, linestyle="none", marker="o", markersize=6, markeredgewidth=1.4,
            markerfacecolor="white", markeredgecolor=SCORE_COLOUR, zorder=5,
        )  # fmt: skip
        legend.setdefault(
            "after a dose (not used by the rules)",
            Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor=SCORE_COLOUR),
        )
    baseline = panel.outcome.get("baseline")
    if baseline and baseline["total"] > 0:
        # Response: a score at or below half the baseline (improvement of 50 % or more).
        half = baseline["total"] * (1 - float(scoring.RESPONSE))
        ax.axhline(half, color=RESPONSE_COLOUR, linewidth=1.0, linestyle=(0, (1, 2)), zorder=2)
        legend.setdefault("response (half the baseline)", Line2D([], [], color=RESPONSE_COLOUR, linestyle=(0, (1, 2))))
    if baseline:
        ax.plot(
            [date2num(date.fromisoformat(baseline["date"]))],
            [baseline["total"]],
            linestyle="none",
            marker="s",
            markersize=8,
            markerfacecolor="none",
            markeredgecolor=SCORE_COLOUR,
            zorder=6,
        )
        legend.setdefault(
            "baseline",
            Line2D([], [], linestyle="none", marker="s", markerfacecolor="none", markeredgecolor=SCORE_COLOUR),
        )
    for label, day, score in panel.events:
        _, marker, colour, filled = next(s for s in EVENT_STYLE.values() if s[0] == label)
        size = 13 if marker == "*" else 10
        face = colour if filled else "none"
        ax.plot(
            [date2num(day)],
            [score],
            linestyle="none",
            marker=marker,
            markersize=size,
            markerfacecolor=face,
            markeredgecolor=colour,
            markeredgewidth=1.6,
            zorder=7,
        )
        legend.setdefault(
            label,
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markerfacecolor=face,
                markeredgecolor=colour,
                markeredgewidth=1.6,
            ),
        )

    for flag_level in ("review", "urgent"):
        marks = [(day, score) for flagged, day, score in panel.flags if flagged == flag_level]
        if not marks:
            continue
        days, totals = zip(*marks, strict=True)
        (ring,) = ax.plot(date2num(days), totals, linestyle="none", marker="h", markersize=12, markerfacecolor="none",
                          markeredgewidth=2.0, markeredgecolor=FLAG_COLOURS[flag_level], zorder=8)  # fmt: skip
        legend.setdefault(FLAG_LABELS[flag_level], ring)

    state = panel.outcome.get("state", "").replace("_", " ")
    ax.set_title(f"{scale.name} ({RATED_BY_LABELS[scale.rated_by]}): {state}", fontsize=11, loc="left")
    ax.set_ylabel("total score", fontsize=FONT_SMALL)
    ax.tick_params(labelsize=FONT_SMALL)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=0)


def _save(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "svg":
        # Text as <text> (searchable, accessible); fixed ids and no date for reproducible bytes.
        with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tracker-chart"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    else:
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
