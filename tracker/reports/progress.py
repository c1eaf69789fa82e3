"""A patient's progress in plain words (API.md 1.1, ``GET /api/v1/me/progress/``).

Built from the one read model (``tracker.reports.read_model``): each scale's outcome as the outcomes
API answers it, and the scale's entries. Nothing here classifies anything: the response category,
the state, the events and the rules a course was classified with all come from the outcome, and every
threshold or duration in the words is read from the outcome's own ``rules`` (the clinic's settings
resolved by ``scoring``) or from ``projections.math.signals``. Texts are in the active language
(``django.utils.translation``), so the caller chooses it.

The texts describe, they never diagnose or promise: a status says where the scores stand and what the
rules would need next, "if" they continue; rising scores are named gently, with the care team as the
next step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import gettext, ngettext

import scoring
from projections.math.signals import SIGNAL_FROM_DAY, TOO_EARLY
from projections.outcomes import EntryRow
from scoring import outcomes as states
from tracker.reports.read_model import PatientOutcomes, ScaleOutcome

#: Where a scale stands, one text variant each (the ``status`` of the answer).
NO_ENTRIES = "no_entries"
NOT_ASSESSABLE = "not_assessable"
NOT_REMITTED = "not_remitted"
BASELINE_IN_RANGE = "baseline_in_remission_range"
REMISSION_PENDING = "remission_pending"
REMISSION = "remission"
RECOVERED = "recovered"
RELAPSE_WATCH = "relapse_watch"
RELAPSE = "relapse"
STATUSES: tuple[str, ...] = (
    NO_ENTRIES,
    NOT_ASSESSABLE,
    NOT_REMITTED,
    BASELINE_IN_RANGE,
    REMISSION_PENDING,
    REMISSION,
    RECOVERED,
    RELAPSE_WATCH,
    RELAPSE,
)

#: The ways a headline can describe the change since the start (the ``change`` of the answer).
CHANGES: tuple[str, ...] = ("none_yet", "response", "partial", "started_in_range", "down", "same", "up")


@dataclass(frozen=True)
class ScaleProgress:
    scale: str
    status: str
    change: str
    headline: str
    where_you_are: str
    what_it_means: str
    next_step: str
    numbers: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "status": self.status,
            "change": self.change,
            "headline": self.headline,
            "where_you_are": self.where_you_are,
            "what_it_means": self.what_it_means,
            "next_step": self.next_step,
            "numbers": dict(self.numbers),
        }


# --------------------------------------------------------------------------- numbers


def _date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _last_event(events: Sequence[Mapping[str, Any]], *types: str) -> Mapping[str, Any] | None:
    return next((e for e in reversed(events) if e.get("type") in types), None)


@dataclass(frozen=True)
class _Facts:
    """What the texts need, read from one scale's outcome and entries."""

    status: str
    change: str
    rules: Mapping[str, Any]
    baseline_total: int | None
    baseline_date: dt.date | None
    latest_total: int | None
    latest_date: dt.date | None
    improvement: float | None
    response: str | None
    state: str
    assessable: bool
    baseline_in_range: bool
    run_since: dt.date | None
    days_in_run: int | None
    days_until_confirmation: int | None
    remission: Mapping[str, Any] | None
    recovery_date: dt.date | None
    relapse: Mapping[str, Any] | None
    signal: str | None
    post_dose_count: int
    latest_entry_post_dose: bool

    def numbers(self) -> dict[str, Any]:
        rules = self.rules
        return {
            "baseline_total": self.baseline_total,
            "baseline_date": self.baseline_date,
            "latest_total": self.latest_total,
            "latest_date": self.latest_date,
            "improvement": self.improvement,
            "response": self.response,
            "state": self.state,
            "assessable": self.assessable,
            "baseline_in_remission_range": self.baseline_in_range,
            "latest_in_remission_range": None
            if self.latest_total is None
            else self.latest_total <= rules["remission_max"],
            "remission_max": rules["remission_max"],
            "relapse_min": rules["relapse_min"],
            "remission_range_since": self.run_since,
            "days_in_remission_range": self.days_in_run,
            "weeks_in_remission_range": None if self.days_in_run is None else self.days_in_run // 7,
            "days_until_confirmation": self.days_until_confirmation,
            "remission_onset": _date(self.remission.get("onset")) if self.remission else None,
            "remission_confirmed": _date(self.remission.get("confirmed")) if self.remission else None,
            "recovery_date": self.recovery_date,
            "relapse_watch": self.status == RELAPSE_WATCH,
            "signal": self.signal,
            "post_dose_excluded": self.post_dose_count,
        }


def _status(outcome: Mapping[str, Any], rules: Mapping[str, Any], latest_total: int | None) -> str:
    state = outcome["state"]
    events = outcome.get("events") or []
    if outcome.get("baseline") is None:
        return NO_ENTRIES
    if not outcome["assessable"]:
        return NOT_ASSESSABLE
    if state in (states.REMISSION, states.RECOVERED):
        # A score at the relapse level after remission keeps a watch open until a later one confirms
        # it or a lower one closes it (scoring's rule); the latest score tells which.
        if latest_total is not None and latest_total >= rules["relapse_min"]:
            return RELAPSE_WATCH
        return RECOVERED if state == states.RECOVERED else REMISSION
    if state == states.REMISSION_PENDING:
        return REMISSION_PENDING
    last = events[-1]["type"] if events else None
    if last in ("relapse", "recurrence"):
        return RELAPSE
    if outcome.get("baseline_in_remission_range") and not events:
        return BASELINE_IN_RANGE
    return NOT_REMITTED


def _change(status: str, response: str | None, improvement: float | None, baseline_in_range: bool) -> str:
    if status in (NO_ENTRIES, NOT_ASSESSABLE):
        return "none_yet"
    if response in ("response", "partial"):
        return response
    if baseline_in_range:
        return "started_in_range"
    if improvement is None or improvement == 0:
        return "same"
    return "down" if improvement > 0 else "up"


def _facts(scale: ScaleOutcome) -> _Facts:
    outcome = scale.outcome
    rules = outcome["rules"]
    baseline = outcome.get("baseline") or {}
    latest = outcome.get("latest") or {}
    latest_total = latest.get("total")
    latest_date = _date(latest.get("date"))
    improvement = latest.get("improvement")
    response = latest.get("response")
    status = _status(outcome, rules, latest_total)
    baseline_in_range = bool(outcome.get("baseline_in_remission_range"))
    events = outcome.get("events") or []
    run_since = days_in_run = until = None
    if status == REMISSION_PENDING:
        run_since = _date(outcome.get("remission_pending_since"))
        if run_since is not None and latest_date is not None:
            days_in_run = (latest_date - run_since).days
            until = max(rules["sustain_days"] - days_in_run, 0)
    remission = _last_event(events, "remission") if status in (REMISSION, RECOVERED, RELAPSE_WATCH) else None
    recovery = _last_event(events, "recovery") if status in (RECOVERED, RELAPSE_WATCH) else None
    relapse = _last_event(events, "relapse", "recurrence") if status == RELAPSE else None
    projection = outcome.get("projection") or {}
    post = [r for r in scale.rows if r.timing == scoring.POST_DOSE]
    return _Facts(
        status=status,
        change=_change(status, response, improvement, baseline_in_range),
        rules=rules,
        baseline_total=baseline.get("total"),
        baseline_date=_date(baseline.get("date")),
        latest_total=latest_total,
        latest_date=latest_date,
        improvement=improvement,
        response=response,
        state=outcome["state"],
        assessable=status not in (NO_ENTRIES, NOT_ASSESSABLE),
        baseline_in_range=baseline_in_range,
        run_since=run_since,
        days_in_run=days_in_run,
        days_until_confirmation=until,
        remission=remission,
        recovery_date=_date(recovery.get("date")) if recovery else None,
        relapse=relapse,
        signal=projection.get("signal"),
        post_dose_count=len(post),
        latest_entry_post_dose=_latest_is_post_dose(post, latest_date),
    )


def _latest_is_post_dose(post: Sequence[EntryRow], latest_date: dt.date | None) -> bool:
    """A post-dose entry comes after the latest pre-dose one (on its day, post-dose sorts last)."""
    if not post:
        return False
    return latest_date is None or any(r.administered_on >= latest_date for r in post)


# --------------------------------------------------------------------------- words


def _duration(days: int) -> str:
    """Whole weeks in weeks, anything else in days."""
    if days >= 7 and days % 7 == 0:
        weeks = days // 7
        return ngettext("%(count)d week", "%(count)d weeks", weeks) % {"count": weeks}
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def _on(value: dt.date | None) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value is not None else ""


def _percent(fraction: float) -> str:
    return gettext("%(number)s%%") % {"number": formats.number_format(round(fraction * 100))}


def _headline(f: _Facts) -> str:
    if f.change == "none_yet":
        if f.status == NO_ENTRIES:
            return gettext("No scores to compare yet")
        return gettext("Your starting score is recorded")
    return {
        "response": gettext("Your scores have dropped by half or more since you started"),
        "partial": gettext("Your scores have dropped by more than a quarter since you started"),
        "started_in_range": gettext("Your scores started in the remission range"),
        "down": gettext("Your scores have come down a little since you started"),
        "same": gettext("Your latest score is the same as when you started"),
        "up": gettext("Your latest score is higher than when you started"),
    }[f.change]


def _where(f: _Facts) -> str:
    r = f.rules
    level = {"level": r["remission_max"]}
    text: str
    if f.status == NO_ENTRIES:
        if f.post_dose_count:
            text = gettext(
                "Your entries so far were taken after a treatment session. Progress is measured on scores "
                "taken before a session, so there is nothing to compare yet."
            )
        else:
            text = gettext("You have not filled in this questionnaire during this course yet.")
    elif f.status == NOT_ASSESSABLE:
        text = gettext(
            "Your starting score is %(total)d (from %(date)s). Your next questionnaire gives the first comparison."
        ) % {"total": f.baseline_total, "date": _on(f.baseline_date)}
    elif f.status == REMISSION_PENDING:
        assert f.days_in_run is not None and f.days_until_confirmation is not None
        if f.days_in_run == 0:
            text = gettext(
                "Your latest score, %(total)d, is in the remission range (%(level)d or below). If your scores "
                "stay in this range for %(needed)s, that confirms remission."
            ) % {**level, "total": f.latest_total, "needed": _duration(r["sustain_days"])}
        else:
            text = gettext(
                "In the remission range (%(level)d or below) for %(duration)s; your latest score is %(total)d. "
                "If your scores stay in this range for %(remaining)s more, that confirms remission."
            ) % {
                **level,
                "duration": _duration(f.days_in_run),
                "total": f.latest_total,
                "remaining": _duration(f.days_until_confirmation),
            }
    elif f.status == REMISSION:
        assert f.remission is not None
        text = gettext(
            "Your scores reached the remission range on %(onset)s and stayed there: remission was confirmed "
            "on %(confirmed)s. Your latest score is %(total)d."
        ) % {
            "onset": _on(_date(f.remission.get("onset"))),
            "confirmed": _on(_date(f.remission.get("confirmed"))),
            "total": f.latest_total,
        }
    elif f.status == RECOVERED:
        text = gettext(
            "Your remission has lasted %(duration)s or more: this is what clinicians call recovery. "
            "Your latest score is %(total)d."
        ) % {"duration": _duration(r["recovery_days"]), "total": f.latest_total}
    elif f.status == RELAPSE_WATCH:
        text = gettext(
            "Your latest score, %(total)d, is higher than your recent ones. One higher score on its own does "
            "not change your remission; your next scores show whether it was a passing change."
        ) % {"total": f.latest_total}
    elif f.status == RELAPSE:
        assert f.relapse is not None
        text = gettext(
            "After your remission, your scores went up again from %(onset)s. Your latest score is %(total)d; "
            "the remission range on this questionnaire is %(level)d or below."
        ) % {**level, "onset": _on(_date(f.relapse.get("onset"))), "total": f.latest_total}
    elif f.status == BASELINE_IN_RANGE:
        text = gettext(
            "Your starting score, %(baseline)d, was already in the remission range (%(level)d or below), so "
            "remission is counted from a later run of low scores. Your latest score is %(total)d."
        ) % {**level, "baseline": f.baseline_total, "total": f.latest_total}
    else:
        text = gettext(
            "Your latest score is %(total)d, from %(start)d when you started. The remission range on this "
            "questionnaire is %(level)d or below."
        ) % {**level, "total": f.latest_total, "start": f.baseline_total}
    if f.latest_entry_post_dose and f.status != NO_ENTRIES:
        text += " " + gettext(
            "Your most recent entry was taken after a treatment session: it is on your chart, but progress "
            "is measured on scores taken before a session."
        )
    return text


def _meaning(f: _Facts) -> str:
    r = f.rules
    lead = {
        "none_yet": gettext("Your starting score is the point every later score is compared with."),
        "response": gettext("Your drop is large enough to be called a response."),
        "partial": gettext(
            "Your drop is called a partial response: more than %(partial)s, but less than %(response)s."
        ),
        "started_in_range": gettext("Scores that start low have less room to drop, so they are read differently."),
        "down": gettext("Scores go up and down from week to week, and change often takes time."),
        "same": gettext("Scores go up and down from week to week, and change often takes time."),
        "up": gettext(
            "Scores go up and down from week to week; a higher score is worth talking about with your care team."
        ),
    }[f.change]
    thresholds = {
        "response": _percent(r["response_min_improvement"]),
        "partial": _percent(r["partial_above_improvement"]),
    }
    parts = [lead % thresholds]
    parts.append(
        gettext(
            "A drop of %(response)s or more from the starting score is called a response. Scores of %(level)d "
            "or below on this questionnaire are in the remission range; remission is confirmed when they stay "
            "there for %(sustain)s, with no more than %(gap)s between questionnaires."
        )
        % {
            **thresholds,
            "level": r["remission_max"],
            "sustain": _duration(r["sustain_days"]),
            "gap": _duration(r["max_gap_days"]),
        }
    )
    if f.status in (RELAPSE_WATCH, RELAPSE):
        parts.append(
            gettext(
                "After a remission, one higher score is not counted as a return of symptoms; that takes a second "
                "score at %(level)d or above at least %(apart)s later."
            )
            % {"level": r["relapse_min"], "apart": _duration(r["relapse_min_days_apart"])}
        )
    if f.status == RECOVERED:
        parts.append(
            gettext("Recovery means a remission that has lasted %(duration)s or more.")
            % {"duration": _duration(r["recovery_days"])}
        )
    if f.signal == TOO_EARLY:
        parts.append(
            gettext("In the first %(duration)s of treatment scores often move up and down, so early scores say little.")
            % {"duration": _duration(SIGNAL_FROM_DAY)}
        )
    parts.append(gettext("Scores often improve before daily life feels different."))
    return " ".join(parts)


def _next_step(f: _Facts, rated_by: str) -> str:
    worth_talking = f.status in (RELAPSE_WATCH, RELAPSE) or f.change == "up"
    if rated_by != "patient" and not worth_talking:
        return gettext(
            "Your care team makes this rating during your visits; keep filling in your own questionnaire when "
            "it is due."
        )
    if f.status == NO_ENTRIES:
        return gettext("Fill in your first questionnaire before a treatment session when it is due.")
    if f.status == NOT_ASSESSABLE:
        return gettext("Keep filling in your questionnaire when it is due; the next one shows the first change.")
    if f.status == REMISSION_PENDING:
        return gettext(
            "Keep filling in your questionnaire when it is due: your next scores are what can confirm remission."
        )
    if worth_talking:
        return gettext(
            "Talk with your care team about how you have been feeling; they can look at your scores with you. "
            "Keep filling in your questionnaire when it is due."
        )
    return gettext(
        "Keep filling in your questionnaire when it is due, and tell your care team how daily life feels too."
    )


# --------------------------------------------------------------------------- the answer


def scale_progress(scale: ScaleOutcome) -> ScaleProgress:
    """One scale of the current course in plain words, in the active language."""
    f = _facts(scale)
    return ScaleProgress(
        scale=scale.scale,
        status=f.status,
        change=f.change,
        headline=_headline(f),
        where_you_are=_where(f),
        what_it_means=_meaning(f),
        next_step=_next_step(f, scoring.get_scale(scale.scale).rated_by),
        numbers=f.numbers(),
    )


def patient_progress(view: PatientOutcomes) -> list[ScaleProgress]:
    """Every scale of the current course that has entries, in ``scoring.SCALES`` order."""
    return [scale_progress(s) for s in view.scales]
