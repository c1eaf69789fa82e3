"""Progress in plain words over generated trajectories: a text for every state, no diagnosis or
promise, and words that agree with the numbers (which agree with the outcome the API answers).

The outcome is computed by ``projections.outcomes.outcome_data``, the function the read model and the
workers use, on unsaved course and clinic rows (no database: hypothesis runs many examples)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from typing import Any

import pytest
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import scoring
from projections.math.reference_sets import load_reference_sets
from projections.math.signals import SIGNALS
from projections.outcomes import EntryRow, outcome_data
from tests.scoring.helpers import day
from tests.scoring.strategies import Course, courses, options_for, scale_keys
from tracker.records.models import DEFAULT_REFERENCE_SET, Clinic, TreatmentCourse
from tracker.reports.progress import CHANGES, STATUSES, ScaleProgress, scale_progress
from tracker.reports.read_model import ScaleOutcome

TYPICAL_BASELINE = load_reference_sets()[DEFAULT_REFERENCE_SET].typical_baselines
TEXTS = ("headline", "where_you_are", "what_it_means", "next_step")
# Words a progress text must never contain: a diagnosis, a promise, an alarm (English, then Spanish).
FORBIDDEN = {
    "en": [r"\bcure", r"diagnos", r"guarantee", r"\bwill\b", r"\bdefinitely\b", r"\bdisorder", r"\bfail",
           r"\bdanger", r"\balarm", r"\bworse", r"\bsevere\b", r"\bpromise"],
    "es": [r"\bcura", r"diagn[oó]st", r"garantiz", r"\bseguro\b", r"trastorno", r"fracas", r"peligr", r"alarm",
           r"\bpeor", r"\bgrave", r"promet"],
}  # fmt: skip


def _progress(
    scale: str,
    entries: list[scoring.Entry],
    course_start: dt.date | None,
    baseline_key: Any = None,
    options: dict[str, Any] | None = None,
) -> tuple[ScaleProgress, dict[str, Any]]:
    clinic = Clinic(name="Clinic", scoring_options={scale: options or {}})
    course = (
        None
        if course_start is None
        else TreatmentCourse(id=uuid.uuid4(), start_date=course_start, modality="iv_ketamine", with_therapy=False)
    )
    rows = tuple(
        EntryRow(
            id=e.key,
            scale=scale,
            administered_on=e.date,
            total=e.total,
            seq=i,
            is_baseline=baseline_key is not None and e.key == baseline_key,
            timing=e.timing,
            administered_time=e.time,
        )
        for i, e in enumerate(entries)
    )
    outcome = outcome_data(course, clinic, scale, rows)
    return scale_progress(ScaleOutcome(scale, rows, outcome, "", True)), outcome


def _check_words(p: ScaleProgress, language: str) -> None:
    for name in TEXTS:
        text = getattr(p, name)
        assert isinstance(text, str) and text.strip(), (name, p.status)
        assert "%(" not in text and "%d" not in text, (name, text)  # every placeholder filled
        for pattern in FORBIDDEN[language]:
            assert not re.search(pattern, text, re.IGNORECASE), (pattern, name, text)


@st.composite
def trajectories(draw: st.DrawFn) -> tuple[str, Any, scoring.Options]:
    key = draw(scale_keys)
    options = draw(options_for(key, keep_order_of_events=True))
    if options.remission_max is not None and options.remission_max >= TYPICAL_BASELINE[key]:
        # The expected curve refuses a remission level at or above the typical baseline (it has no
        # remission curve there); the outcome cannot be computed, so such levels are not drawn.
        options = dataclasses.replace(options, remission_max=None, relapse_min=None)
    return key, draw(courses(key, options, max_size=16)), options


@st.composite
def remission_paths(draw: st.DrawFn) -> tuple[str, Any, scoring.Options]:
    """Default rules: a high baseline, a run of low scores, then anything: reaches remission, recovery,
    relapse watches and relapses, which random trajectories rarely do."""
    key = draw(scale_keys)
    scale = scoring.get_scale(key)
    low = st.integers(0, scale.remission_max)
    tail = st.integers(0, scale.total_max)
    totals = [draw(st.integers(scale.relapse_min, scale.total_max))]
    totals += draw(st.lists(low, min_size=1, max_size=24)) + draw(st.lists(tail, max_size=6))
    steps = draw(st.lists(st.sampled_from([1, 5, 6, 7, 7, 7, 14, 15]), min_size=len(totals), max_size=len(totals)))
    timings = draw(
        st.lists(st.sampled_from([None, None, None, "post_dose"]), min_size=len(totals), max_size=len(totals))
    )
    days = [sum(steps[:i]) for i in range(len(totals))]
    entries = [
        scoring.Entry(day(d), t, key=i, timing=m) for i, (d, t, m) in enumerate(zip(days, totals, timings, strict=True))
    ]  # type: ignore[arg-type]
    return key, Course(entries, day(0), None), scoring.Options()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(trajectories(), remission_paths()), st.sampled_from(["en", "es"]))
def test_words_exist_never_diagnose_and_match_the_numbers(case: Any, language: str) -> None:
    key, course, options = case
    with translation.override(language):
        p, outcome = _progress(
            key, course.entries, course.course_start, course.baseline_key, dataclasses.asdict(options)
        )
    event(p.status)
    _check_words(p, language)
    n = p.numbers
    latest = outcome["latest"] or {}
    rules = outcome["rules"]
    assert p.status in STATUSES and p.change in CHANGES
    # The numbers are the outcome's own.
    assert n["state"] == outcome["state"]
    assert n["response"] == latest.get("response")
    assert n["improvement"] == latest.get("improvement")
    assert n["latest_total"] == latest.get("total")
    assert n["baseline_total"] == (outcome["baseline"] or {}).get("total")
    assert n["remission_max"] == rules["remission_max"]
    assert n["signal"] is None or n["signal"] in SIGNALS
    assert n["post_dose_excluded"] == sum(e.timing == scoring.POST_DOSE for e in course.entries)
    # The headline's words follow the response category, and only it.
    if language == "en":
        assert ("half" in p.headline) == (n["response"] == "response")
        assert ("quarter" in p.headline) == (n["response"] == "partial")
    else:
        assert ("mitad" in p.headline) == (n["response"] == "response")
        assert ("cuarta parte" in p.headline) == (n["response"] == "partial")
    # The status follows the state; remission's words appear with it.
    if p.status == "remission_pending":
        assert n["state"] == "remission_pending"
        days_in, until = n["days_in_remission_range"], n["days_until_confirmation"]
        assert 0 <= days_in < rules["sustain_days"] and until == rules["sustain_days"] - days_in > 0
        assert n["weeks_in_remission_range"] == days_in // 7
        assert n["latest_in_remission_range"] is True
    else:
        assert n["days_until_confirmation"] is None
    if p.status in ("remission", "recovered", "relapse_watch"):
        assert n["state"] in ("remission", "recovered") and n["remission_confirmed"] is not None
    assert n["relapse_watch"] == (p.status == "relapse_watch")
    if p.status == "relapse_watch":
        assert n["latest_total"] >= rules["relapse_min"]
    if p.status in ("no_entries", "not_assessable"):
        assert n["assessable"] is False and n["response"] is None
    else:
        assert str(n["latest_total"]) in p.where_you_are
    if not latest and p.status == "no_entries":
        assert outcome["baseline"] is None


WEEK = 7


def _weekly(totals: list[int], timings: dict[int, str] | None = None) -> list[scoring.Entry]:
    return [
        scoring.Entry(day(WEEK * i), t, key=i, timing=(timings or {}).get(i))  # type: ignore[arg-type]
        for i, t in enumerate(totals)
    ]


# One trajectory (BDI-II, course from day 0) per status; the seed article's example is the first rows.
SEED = [48, 47, 46, 44, 30, 12, 4, 3, 4, 3]
BY_STATUS = {
    "no_entries": _weekly([30, 28], {0: "post_dose", 1: "post_dose"}),
    "not_assessable": _weekly([48]),
    "not_remitted": _weekly([48, 47, 46]),
    "baseline_in_remission_range": _weekly([10, 15, 16]),
    "remission_pending": _weekly(SEED[:8]),
    "remission": _weekly(SEED),
    "recovered": _weekly(SEED + [3] * 15),
    "relapse_watch": _weekly([*SEED, 25]),
    "relapse": _weekly([*SEED, 25, 26]),
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_status_has_its_words(status: str, language: str) -> None:
    with translation.override(language):
        p, _ = _progress("bdi2", BY_STATUS[status], day(0))
    assert p.status == status
    _check_words(p, language)


def test_seed_example_in_the_three_week_rule() -> None:
    # Day 49 of the seed article: in range since day 35 (2 weeks); one more week confirms remission.
    with translation.override("en"):
        p, _ = _progress("bdi2", _weekly(SEED[:8]), day(0))
    assert p.headline == "Your scores have dropped by half or more since you started"
    assert "for 2 weeks" in p.where_you_are and "for 1 week more" in p.where_you_are
    assert p.numbers["weeks_in_remission_range"] == 2 and p.numbers["days_until_confirmation"] == WEEK
    assert "Scores often improve before daily life feels different." in p.what_it_means


def test_thresholds_in_the_words_are_the_clinics_own() -> None:
    # A clinic's remission level and sustain days (scoring options) are what the words say.
    with translation.override("en"):
        p, _ = _progress("bdi2", _weekly(SEED[:7]), day(0), options={"remission_max": 12, "sustain_days": 28})
    assert "12 or below" in p.where_you_are and "13 or below" not in p.where_you_are
    assert "stay there for 4 weeks" in p.what_it_means
    assert p.numbers["days_until_confirmation"] == 28 - WEEK


def test_post_dose_entries_are_named_and_not_counted() -> None:
    # A 24-hour post-dose dip to 5 would be a response; it is neither the latest score nor a response.
    entries = [*_weekly([40, 38]), scoring.Entry(day(8), 5, key=9, timing="post_dose")]
    with translation.override("en"):
        p, _ = _progress("bdi2", entries, day(0))
    assert p.numbers["latest_total"] == 38 and p.numbers["response"] == "none"
    assert p.numbers["post_dose_excluded"] == 1
    assert "after a treatment session" in p.where_you_are and "half" not in p.headline


def test_clinician_ratings_are_not_the_patients_to_fill_in() -> None:
    with translation.override("en"):
        p, _ = _progress("madrs", _weekly([34, 30, 28]), day(0))
    assert p.next_step.startswith("Your care team makes this rating")


def test_spanish_progress_text() -> None:
    with translation.override("es"):
        p, _ = _progress("bdi2", _weekly(SEED[:8]), day(0))
    assert p.headline == "Tus puntuaciones han bajado la mitad o más desde que empezaste"
    assert "desde hace 2 semanas" in p.where_you_are and "1 semana más" in p.where_you_are
    assert "Las puntuaciones suelen mejorar antes de que la vida diaria se sienta distinta." in p.what_it_means
