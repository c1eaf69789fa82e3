"""Which treatment course an entry belongs to: one rule for the outcomes, the baseline mark and the reports.

A course's entries run from ``baseline_window_days`` before its start to the next course's start, so an
entry taken in the window before a new course belongs to both the course it was taken in and the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol, TypeVar


class Dated(Protocol):
    @property
    def start_date(self) -> date: ...


C = TypeVar("C", bound=Dated)


def in_course_window(courses: Sequence[C], position: int, day: date, window_days: int) -> bool:
    """Whether ``day`` lies in the window of ``courses[position]`` (courses in start order)."""
    lo = courses[position].start_date - timedelta(days=window_days)
    following = courses[position + 1].start_date if position + 1 < len(courses) else None
    return lo <= day and (following is None or day < following)


def latest_course_of(courses: Sequence[C], day: date, window_days: int) -> C | None:
    """The latest course (of ``courses``, in start order) whose window holds ``day``, or None."""
    for position in range(len(courses) - 1, -1, -1):
        if in_course_window(courses, position, day, window_days):
            return courses[position]
    return None
