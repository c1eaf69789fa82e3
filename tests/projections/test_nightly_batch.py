"""The nightly job's shortcuts give what the per-patient path gives: the outcome JSON written from
scoring's batch arrays, the percentiles computed at once, the fingerprint, and (on PostgreSQL) the
pipelined ``recompute_all`` with COPY."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring
from benchmarks.scoring import synthetic_trajectories
from projections.batch import classification_json, percentiles_at_once
from projections.math.reference_sets import load_reference_sets
from projections.outcomes import EntryRow, fingerprint
from scoring.batch import NO_DAY, classify_batch
from tracker.records.models import Clinic, TreatmentCourse


def _assert_same_outcomes(result: scoring.batch.BatchResult) -> None:
    texts = classification_json(result)
    assert len(texts) == result.n_trajectories
    for k, text in enumerate(texts):
        assert json.loads(text) == result.classification(k).as_dict(), k


@pytest.mark.parametrize("seed", range(6))
def test_outcome_json_equals_the_classification_over_broad_random_courses(seed: int) -> None:
    rng = np.random.default_rng(seed)
    offsets, days, totals, course_start = synthetic_trajectories(6000, 400, seed=seed)
    n = len(offsets) - 1
    # Entries out of date order inside trajectories, clinician-marked baselines, empty trajectories.
    if seed % 2:
        for k in range(0, n, 7):
            lo, hi = offsets[k], offsets[k + 1]
            days[lo:hi] = rng.permutation(days[lo:hi])
    marked = np.full(n, -1)
    for k in rng.choice(n, size=n // 10, replace=False):
        if offsets[k + 1] > offsets[k]:
            marked[k] = rng.integers(offsets[k], offsets[k + 1])
    if seed >= 4:  # some trajectories without entries (and no marks: the indices move)
        lengths = np.diff(offsets)
        lengths[rng.choice(n, size=5, replace=False)] = 0
        keep = np.concatenate([np.arange(offsets[k], offsets[k] + lengths[k]) for k in range(n)]).astype(np.int64)
        offsets, days, totals = np.concatenate([[0], np.cumsum(lengths)]), days[keep], totals[keep]
        marked = np.full(n, -1)
    options = [
        None,
        {"remission_max": 10, "relapse_min": 25, "sustain_days": 14, "max_gap_days": 10},
        {"recovery_days": 60, "baseline_window_days": 7},
    ][seed % 3]
    result = classify_batch("bdi2", offsets, days, totals, course_start=course_start, baseline=marked, options=options)
    assert result.event_type.size > 0  # the data reach remissions, relapses and recoveries
    _assert_same_outcomes(result)


def _random_timings(rng: np.random.Generator, n: int, marked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per entry: a code of scoring.TIMINGS (unknown, post_dose, pre_dose; a marked baseline is
    never post_dose) and a time of day (minutes, -1 for none; some shared, so ties are kept)."""
    timing = rng.choice(len(scoring.TIMINGS), size=n, p=[0.4, 0.25, 0.35])
    timing[marked[marked >= 0]] = scoring.TIMINGS.index("pre_dose")
    time_of_day = np.where(rng.random(n) < 0.5, -1, rng.choice([480, 600, 600, 900, 1439], size=n))
    return timing, time_of_day


@pytest.mark.parametrize("seed", range(4))
def test_outcome_json_equals_the_classification_with_timings_and_times(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    offsets, days, totals, course_start = synthetic_trajectories(4000, 300, seed=100 + seed)
    n = len(offsets) - 1
    days = days - rng.integers(0, 2, size=days.size) * (seed % 2)  # more entries on one day
    marked = np.full(n, -1)
    for k in rng.choice(n, size=n // 8, replace=False):
        if offsets[k + 1] > offsets[k]:
            marked[k] = rng.integers(offsets[k], offsets[k + 1])
    timing, time_of_day = _random_timings(rng, days.size, marked)
    options = [None, {"remission_max": 10, "relapse_min": 25, "baseline_window_days": 45}][seed % 2]
    result = classify_batch(
        "bdi2", offsets, days, totals, course_start=course_start, baseline=marked, options=options,
        timing=timing, time_of_day=time_of_day,
    )  # fmt: skip
    assert result.assessable.any() and not result.assessable.all()
    _assert_same_outcomes(result)


def test_outcome_json_with_per_trajectory_levels() -> None:
    offsets, days, totals, course_start = synthetic_trajectories(3000, 200, seed=11)
    rng = np.random.default_rng(11)
    remission = rng.integers(5, 15, size=200)
    result = classify_batch(
        "bdi2",
        offsets,
        days,
        totals,
        course_start=course_start,
        remission_max=remission,
        relapse_min=remission + rng.integers(5, 12, size=200),
    )
    _assert_same_outcomes(result)


@settings(max_examples=150, deadline=None)
@given(
    scale=st.sampled_from(sorted(scoring.SCALES)),
    courses=st.lists(
        st.tuples(
            st.lists(
                st.tuples(
                    st.integers(0, 400),
                    st.integers(0, 100),
                    st.sampled_from(range(len(scoring.TIMINGS))),
                    st.sampled_from([-1, -1, 0, 600, 1439]),
                ),
                max_size=12,
            ),
            st.one_of(st.none(), st.integers(0, 300)),
            st.integers(-1, 11),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_outcome_json_equals_the_classification_for_any_course(scale: str, courses: list[Any]) -> None:
    top = scoring.get_scale(scale).total_max
    offsets, days, totals, starts, marked, timing, times = [0], [], [], [], [], [], []
    post = scoring.TIMINGS.index("post_dose")
    for entries, start, mark in courses:
        # A marked baseline is never post_dose.
        marked.append(offsets[-1] + mark if 0 <= mark < len(entries) and entries[mark][2] != post else -1)
        days += [19_000 + d for d, *_ in entries]
        totals += [t * top // 100 for _, t, *_ in entries]
        timing += [code for *_, code, _ in entries]
        times += [minute for *_, minute in entries]
        offsets.append(offsets[-1] + len(entries))
        starts.append(NO_DAY if start is None else 19_000 + start)
    result = classify_batch(
        scale,
        np.array(offsets),
        np.array(days, dtype=np.int64),
        np.array(totals, dtype=np.int64),
        course_start=np.array(starts, dtype=np.int64),
        baseline=np.array(marked),
        timing=np.array(timing, dtype=np.int64),
        time_of_day=np.array(times, dtype=np.int64),
    )
    _assert_same_outcomes(result)


def test_percentiles_at_once_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(5)
    for reference in load_reference_sets().values():
        for modality in ("iv_ketamine", "esketamine", "other"):
            curve = reference.curve(modality, "madrs", with_therapy=True)
            weeks = rng.integers(1, 60 * 7, size=400) / 7
            improvements = rng.integers(-30, 60, size=400) / rng.integers(1, 61, size=400)
            # Improvements exactly on the expected percentile curves, and the capped ends.
            for i, week in enumerate(weeks[:40]):
                improvements[5 * i] = curve.improvement_percentiles(float(week))["p25"]
            improvements[-3:] = [1.0, 1.5, -4.0]
            expected = [curve.percentile_of(float(w), float(x)) for w, x in zip(weeks, improvements, strict=True)]
            assert percentiles_at_once(curve, weeks, improvements) == expected


def test_fingerprint_changes_with_every_input_of_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    start = date(2026, 1, 5)
    rows = [EntryRow(uuid.uuid4(), "bdi2", start + timedelta(days=7 * i), 30 - 5 * i, i, False) for i in range(3)]
    course = {
        "pk": uuid.uuid4(),
        "start_date": start,
        "modality": "iv_ketamine",
        "with_therapy": False,
        "reference_set": "",
    }
    clinic = {"reference_set": "trials", "scoring_options": {"madrs": {"remission_max": 12}}}

    def fp(
        rows: list[EntryRow] = rows,
        course: dict[str, Any] | None = course,
        clinic: dict[str, Any] = clinic,
        scale: str = "bdi2",
    ) -> str:
        return fingerprint(TreatmentCourse(**course) if course else None, Clinic(**clinic), scale, rows)

    def row(i: int, **change: Any) -> list[EntryRow]:
        return [replace(r, **change) if j == i else r for j, r in enumerate(rows)]

    base = fp()
    assert fp() == base
    variants = [
        fp(rows=row(1, id=uuid.uuid4())),
        fp(rows=row(1, administered_on=start + timedelta(days=8))),
        fp(rows=row(1, total=26)),
        fp(rows=row(1, seq=7)),
        fp(rows=row(1, is_baseline=True)),
        fp(rows=row(1, timing="pre_dose")),
        fp(rows=row(1, timing="post_dose")),
        fp(rows=row(1, administered_time=time(9, 30))),
        fp(rows=row(1, administered_time=time(9, 31))),
        fp(rows=[rows[1], rows[0], rows[2]]),
        fp(rows=rows[:2]),
        fp(course=None),
        fp(course={**course, "pk": uuid.uuid4()}),
        fp(course={**course, "start_date": start + timedelta(days=1)}),
        fp(course={**course, "modality": "esketamine"}),
        fp(course={**course, "with_therapy": True}),
        fp(course={**course, "reference_set": "real_world"}),
        fp(clinic={**clinic, "reference_set": "real_world"}),
        fp(clinic={**clinic, "scoring_options": {"bdi2": {"remission_max": 12}}}),
        fp(scale="madrs"),
    ]
    assert len({base, *variants}) == len(variants) + 1
    assert fp(clinic={**clinic, "scoring_options": {}}) == base  # another scale's options do not matter to this one
    monkeypatch.setattr("projections.outcomes.SNAPSHOT_VERSION", "next")
    assert fp() != base


# ---------------------------------------------------------------------------- PostgreSQL: COPY and the pipeline


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_pipelined_nightly_equals_per_patient_on_postgresql() -> None:
    from django.db import connection

    from projections.models import OutcomeSnapshot
    from projections.nightly import recompute_all
    from projections.outcomes import recompute_patient_outcomes
    from tests.projections.helpers import population, stored_snapshots
    from tracker.records.models import Notice, Patient

    if connection.vendor != "postgresql":
        pytest.skip("the pipeline and COPY run on PostgreSQL only")
    population(n=18, seed=8)
    assert not connection.in_atomic_block  # so recompute_all pipelines on three connections
    stats = recompute_all(chunk_size=4)
    assert stats == {"patients": 20, "snapshots": 36, "written": 36}
    nightly = stored_snapshots()
    notices = sorted(Notice.objects.values_list("patient_id", "kind", "message"))
    assert notices  # some signals are worrying

    assert recompute_all(chunk_size=7) == {**stats, "written": 0}  # nothing changed: nothing rewritten
    assert stored_snapshots() == nightly
    assert sorted(Notice.objects.values_list("patient_id", "kind", "message")) == notices  # no repeats

    OutcomeSnapshot.objects.all().delete()
    Notice.objects.all().delete()
    for patient in Patient.objects.all():
        recompute_patient_outcomes(patient)
    assert stored_snapshots() == nightly
    assert sorted(Notice.objects.values_list("patient_id", "kind", "message")) == notices
