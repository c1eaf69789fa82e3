"""The four depression scales as data (CLINICAL.md §1, §3) and every threshold.

This module is the one place where a clinical number lives: bands, remission
and relapse levels, safety levels, the response thresholds and the default
durations of the outcome rules.  Everything else imports them from here.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

from scoring.errors import ScoringError

RaterKind = Literal["patient", "clinician"]
#: How each kind of rater is named where a person reads it.
RATED_BY_LABELS: dict[str, str] = {"patient": "self-report", "clinician": "clinician-rated"}

#: Improvement at or above which an assessment is a ``response`` (CLINICAL §2).
RESPONSE = Fraction(1, 2)
#: Improvement above which (and below RESPONSE) an assessment is ``partial``;
#: at or below it is ``none``, the payers' non-response (Cigna).
PARTIAL = Fraction(1, 4)

#: ACNP task force (Rush et al. 2006): remission after 3 consecutive weeks.
SUSTAIN_DAYS = 21
#: Longest allowed gap between two consecutive assessments of a remission run.
MAX_GAP_DAYS = 14
#: ACNP task force: recovery at least 4 months after remission onset.
RECOVERY_DAYS = 120
#: A baseline may be at most this many days before the course start.
BASELINE_WINDOW_DAYS = 30
#: SUSTAIN-1 (Daly et al. 2019): a relapse needs two relapse-level scores at
#: least this many days apart (the trial took 5-15 days).
RELAPSE_MIN_DAYS_APART = 5
#: CLINICAL.md §2: a gap longer than this between consecutive assessments
#: restarts the recovery clock (silence is not evidence of wellness).
RECOVERY_MAX_GAP_DAYS = 35

#: ``timing`` against the dose (CLINICAL §2); unknown (None) counts as pre_dose.
PRE_DOSE: Final = "pre_dose"
POST_DOSE: Final = "post_dose"

#: Jacobson & Truax 1991: |RC| above this is reliable change (p < .05).
RELIABLE_Z = 1.96

RESPONSE_SOURCE = (
    "response >= 50 % improvement, partial 25-50 %, non-response <= 25 % "
    "(CLINICAL.md §2; non-response as Cigna defines it)"
)
DURATIONS_SOURCE = (
    "ACNP task force, Rush et al. 2006: remission after 3 consecutive weeks of "
    "minimal symptoms, recovery at least 4 months after remission onset; "
    "SUSTAIN-1, Daly et al. 2019: relapse confirmed by a second relapse-level "
    "score 5 or more days after the first; CLINICAL.md §2: a gap over 35 days "
    "restarts the recovery clock"
)

#: Options of the directional items of the BDI-II (16 sleep, 18 appetite).
DIRECTION_LETTERS = {"a": "increase", "b": "decrease"}


@dataclass(frozen=True)
class Band:
    """A severity band: ``low <= total <= high`` is called ``label``."""

    label: str
    low: int
    high: int


@dataclass(frozen=True)
class SafetyLevels:
    """Suicide-item values that raise a flag (CLINICAL §3).

    Any value above 0 raises at least a ``review`` flag; ``urgent`` and above
    raise an ``urgent`` one.
    """

    review: int
    urgent: int
    source: str


@dataclass(frozen=True)
class ReliableChangeParams:
    """Jacobson & Truax settings: SD and reliability ``r``, or a fixed threshold."""

    sd: float | None
    r: float | None
    points: int | None
    source: str


@dataclass(frozen=True)
class Scale:
    """One scale's definition: items, bands and thresholds, each with a source."""

    key: str
    name: str
    version: str
    rated_by: RaterKind
    n_items: int
    item_max: tuple[int, ...]
    total_max: int
    bands: tuple[Band, ...]
    remission_max: int
    relapse_min: int
    suicide_item: int
    safety_levels: SafetyLevels
    directional_items: tuple[int, ...]
    item_labels: tuple[str, ...]
    reliable_change: ReliableChangeParams
    bands_source: str
    remission_source: str
    relapse_source: str
    short_name: str = ""

    def check_total(self, total: object, field: str = "total") -> int:
        """``total`` as an int, or ScoringError if it is not a total of this scale."""
        value = as_integer(total, field)
        if not 0 <= value <= self.total_max:
            raise ScoringError(
                field, f"{value} is out of range 0-{self.total_max}", "out_of_range", {"min": 0, "max": self.total_max}
            )
        return value

    def severity(self, total: int) -> str:
        """The label of the severity band holding ``total``."""
        total = self.check_total(total)
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.label
        raise AssertionError(f"bands of {self.key} do not cover {total}")  # pragma: no cover

    def in_remission_range(self, total: int, remission_max: int | None = None) -> bool:
        """True when ``total`` is at or below the remission level (default the scale's)."""
        total = self.check_total(total)
        level = self.remission_max if remission_max is None else remission_max
        return total <= level


def as_integer(value: object, field: str) -> int:
    """``value`` as an int; ScoringError for booleans, floats, strings and the rest."""
    if type(value) is int:  # the usual case first (a bool's type is bool)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ScoringError(field, f"{value!r} is not an integer", "null" if value is None else "not_an_integer")
    return int(value)


def _numbered(n: int) -> tuple[str, ...]:
    return tuple(f"Item {i}" for i in range(1, n + 1))


BDI2 = Scale(
    key="bdi2",
    name="Beck Depression Inventory-II",
    version="1",
    rated_by="patient",
    n_items=21,
    item_max=(3,) * 21,
    total_max=63,
    bands=(
        Band("minimal", 0, 13),
        Band("mild", 14, 19),
        Band("moderate", 20, 28),
        Band("severe", 29, 63),
    ),
    remission_max=13,
    relapse_min=20,
    suicide_item=9,
    safety_levels=SafetyLevels(review=1, urgent=2, source="CLINICAL.md §3: item 9 = 1 review, >= 2 urgent"),
    directional_items=(16, 18),
    # Copyrighted (Pearson): item numbers only, no item text or option wording.
    item_labels=_numbered(21),
    reliable_change=ReliableChangeParams(
        sd=12.75,
        r=0.93,
        points=None,
        source=(
            "Beck, Steer & Brown 1996 (BDI-II manual): test-retest r = 0.93; "
            "SD 12.75 of the outpatient normative sample (n = 500)"
        ),
    ),
    bands_source="BDI-II manual (Beck, Steer & Brown 1996)",
    remission_source="<= 13, the minimal band: common service convention, no consensus cut-off",
    relapse_source=">= 20, lower edge of the moderate band (this project's choice)",
    short_name="BDI-II",
)

MADRS = Scale(
    key="madrs",
    name="Montgomery-Åsberg Depression Rating Scale (MADRS)",
    version="1",
    rated_by="clinician",
    n_items=10,
    item_max=(6,) * 10,
    total_max=60,
    bands=(
        Band("normal", 0, 6),
        Band("mild", 7, 19),
        Band("moderate", 20, 34),
        Band("severe", 35, 60),
    ),
    remission_max=10,
    relapse_min=22,
    suicide_item=10,
    safety_levels=SafetyLevels(review=1, urgent=4, source="CLINICAL.md §3: item 10 = 1-3 review, >= 4 urgent"),
    directional_items=(),
    # Copyrighted (Royal College of Psychiatrists): no item or option wording, not even the items'
    # headings; short neutral labels of this project's own for what each item rates (CLINICAL.md).
    item_labels=(
        "Mood (observed)",
        "Mood (reported)",
        "Tension",
        "Sleep",
        "Appetite",
        "Concentration",
        "Initiative",
        "Emotional response",
        "Outlook",
        "Suicidality",
    ),
    reliable_change=ReliableChangeParams(
        sd=7.0,
        r=0.93,
        points=None,
        source=(
            "r = 0.93: test-retest ICC with the SIGMA interview guide (Williams & "
            "Kobak 2008); SD 7.0: this project's provisional choice, to be "
            "replaced by the clinic's own baseline SD"
        ),
    ),
    bands_source="Snaith et al. 1986",
    remission_source="<= 10 (Hawley et al. 2002; KetECT); esketamine programmes use <= 12",
    relapse_source=">= 22 (SUSTAIN-1, Daly et al. 2019)",
    short_name="MADRS",
)

HAMD17 = Scale(
    key="hamd17",
    name="Hamilton Depression Rating Scale, 17 items (HAM-D)",
    version="1",
    rated_by="clinician",
    n_items=17,
    # Items 1, 2, 3, 7, 8, 9, 10, 11, 15 are 0-4; items 4, 5, 6, 12, 13, 14, 16, 17 are 0-2.
    item_max=(4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2),
    total_max=52,
    bands=(
        Band("normal", 0, 7),
        Band("mild", 8, 13),
        Band("moderate", 14, 18),
        Band("severe", 19, 22),
        Band("very_severe", 23, 52),
    ),
    remission_max=7,
    relapse_min=18,
    suicide_item=3,
    safety_levels=SafetyLevels(review=1, urgent=3, source="CLINICAL.md §3: item 3 = 1-2 review, >= 3 urgent"),
    directional_items=(),
    # Public domain: short neutral labels.
    item_labels=(
        "Depressed mood",
        "Feelings of guilt",
        "Suicide",
        "Insomnia: early",
        "Insomnia: middle",
        "Insomnia: late",
        "Work and activities",
        "Retardation",
        "Agitation",
        "Anxiety: psychic",
        "Anxiety: somatic",
        "Somatic: gastrointestinal",
        "Somatic: general",
        "Genital symptoms",
        "Hypochondriasis",
        "Loss of weight",
        "Insight",
    ),
    reliable_change=ReliableChangeParams(
        sd=6.0,
        r=0.79,
        points=None,
        source=(
            "r = 0.79: Cronbach's alpha (CLINICAL.md §2; meta-analysis, Trajkovic "
            "et al. 2011); SD 6.0: this project's provisional choice, to be "
            "replaced by the clinic's own baseline SD"
        ),
    ),
    bands_source="ids-qids.org interpretation table, as in CamCOPS",
    remission_source="<= 7 (Frank et al. 1991; STAR*D)",
    relapse_source=">= 18 (relapse rule of NCT04007367)",
    short_name="HAM-D",
)

PHQ9 = Scale(
    key="phq9",
    name="Patient Health Questionnaire-9 (PHQ-9)",
    version="1",
    rated_by="patient",
    n_items=9,
    item_max=(3,) * 9,
    total_max=27,
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("moderately_severe", 15, 19),
        Band("severe", 20, 27),
    ),
    remission_max=4,
    relapse_min=10,
    suicide_item=9,
    safety_levels=SafetyLevels(review=1, urgent=2, source="CLINICAL.md §3: item 9 = 1 review, >= 2 urgent"),
    directional_items=(),
    # Public domain: short neutral labels.
    item_labels=(
        "Interest or pleasure",
        "Feeling down",
        "Sleep",
        "Energy",
        "Appetite",
        "Self-worth",
        "Concentration",
        "Slowed or restless",
        "Self-harm thoughts",
    ),
    reliable_change=ReliableChangeParams(
        sd=None,
        r=None,
        points=6,
        source="NHS Talking Therapies manual: reliable change on the PHQ-9 is 6 points",
    ),
    bands_source="Kroenke, Spitzer & Williams 2001",
    remission_source="< 5 (HEDIS DRR-E)",
    relapse_source=">= 10, lower edge of the moderate band (this project's choice)",
    short_name="PHQ-9",
)

SCALES: dict[str, Scale] = {scale.key: scale for scale in (BDI2, MADRS, HAMD17, PHQ9)}
#: Every severity label of every scale, mildest first within each scale.
SEVERITIES: tuple[str, ...] = tuple(dict.fromkeys(band.label for scale in SCALES.values() for band in scale.bands))


def get_scale(key: object) -> Scale:
    """The scale called ``key``; ScoringError (field ``scale``) for any other key."""
    if isinstance(key, str) and key in SCALES:
        return SCALES[key]
    known = ", ".join(sorted(SCALES))
    raise ScoringError("scale", f"unknown scale {key!r} (expected one of {known})", "unknown_scale", {"choices": known})
