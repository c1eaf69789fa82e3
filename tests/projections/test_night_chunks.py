"""How a night is cut into chunks for the workers: every patient once, chunks balanced between
workers while they are few, none over the largest size."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections import tasks
from projections.nightly import EVEN_SHARE, MANY_CHUNKS, MIN_CHUNK_PATIENTS, chunk_sizes, night_chunks
from tests.projections.helpers import population
from tracker.records.models import Patient
from tracker.records.services.patients import patient_create


@settings(deadline=None)
@given(st.integers(0, 200_000), st.integers(1, 5000))
def test_chunk_sizes_cover_every_patient_within_the_largest_size(patients: int, max_size: int) -> None:
    sizes = chunk_sizes(patients, max_size)
    assert sum(sizes) == patients
    assert all(0 < size <= max_size for size in sizes)
    assert sizes == sorted(sizes, reverse=True) and (not sizes or sizes[0] - sizes[-1] <= 1)  # even split
    fewest = -(-patients // max_size)
    assert len(sizes) >= fewest


@settings(deadline=None)
@given(st.integers(1, 200_000), st.integers(1, 5000))
def test_few_chunks_come_in_multiples_of_the_even_share(patients: int, max_size: int) -> None:
    sizes = chunk_sizes(patients, max_size)
    fewest = -(-patients // max_size)
    if fewest >= MANY_CHUNKS:
        assert len(sizes) == fewest  # many chunks: the largest size, the tail is small
    elif len(sizes) % EVEN_SHARE:
        # not rounded up only where that would cut chunks under the smallest size
        assert len(sizes) == fewest or len(sizes) == patients // MIN_CHUNK_PATIENTS
        assert (len(sizes) // EVEN_SHARE + 1) * EVEN_SHARE * MIN_CHUNK_PATIENTS > patients
    else:
        assert len(sizes) < MANY_CHUNKS + EVEN_SHARE


def test_twenty_thousand_patients_make_twelve_even_chunks_for_two_workers() -> None:
    sizes = chunk_sizes(20_000, 2000)
    assert len(sizes) == 12 and set(sizes) == {1667, 1666}
    assert chunk_sizes(10_000, 2000) == [834] * 4 + [833] * 8  # not 5 chunks: 3 for one worker, 2 for the other
    assert chunk_sizes(1_000_000, 2000) == [2000] * 500
    assert chunk_sizes(42, 5) == [5] * 6 + [4] * 3  # too few patients to cut smaller


@pytest.mark.django_db
def test_night_chunks_read_every_patient_once_in_the_planned_sizes() -> None:
    population(n=38)  # 40 patients with make_clinic's two
    chunks = list(night_chunks(max_size=7))
    assert [len(c) for c in chunks] == chunk_sizes(40, 7) == [7, 7, 7, 7, 6, 6]
    ids = [pk for chunk in chunks for pk in chunk]
    assert ids == sorted(ids) and sorted(ids) == sorted(str(pk) for pk in Patient.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_patients_enrolled_while_the_night_is_listed_are_in_it() -> None:
    """The planned sizes run out before the ids do: the rest are read too. (A patient whose id sorts
    before the chunks already read waits for the next night; their entries reach the outbox.)"""
    world = population(n=10)
    before = {str(pk) for pk in Patient.objects.values_list("id", flat=True)}
    listed = night_chunks(max_size=4)
    first = next(listed)
    late = {str(patient_create(actor=world.clinician, name=f"late{i}").patient.pk) for i in range(8)}
    read = first + [pk for chunk in listed for pk in chunk]
    assert len(read) == len(set(read))
    assert set(read) == before | {pk for pk in late if pk > first[-1]}


@pytest.mark.django_db
def test_nightly_recompute_sends_each_chunk_as_it_is_listed() -> None:
    population(n=10)
    sent: list[list[str]] = []
    with mock.patch.object(tasks.recompute_chunk_task, "delay", side_effect=sent.append):
        assert tasks.nightly_recompute(chunk_size=5) == {"chunks": 3}
    assert [len(c) for c in sent] == [4, 4, 4]
    everyone = sorted(str(pk) for pk in Patient.objects.values_list("id", flat=True))
    assert sorted(pk for c in sent for pk in c) == everyone
