"""The fingerprint's head in two pieces (the CSV export's server joins them) is the head."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from projections.outcomes import fingerprint_head, fingerprint_head_parts


@given(course_key=st.text(), clinic_key=st.text())
def test_the_two_pieces_concatenated_are_the_head(course_key, clinic_key):
    course_part, clinic_part = fingerprint_head_parts(course_key, clinic_key)
    assert course_part + clinic_part == fingerprint_head(course_key, clinic_key)
    assert fingerprint_head_parts(course_key, "")[0] == course_part
    assert fingerprint_head_parts("", clinic_key)[1] == clinic_part
