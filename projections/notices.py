"""Notices for a patient's clinicians when the projection signal turns for the worse."""

from __future__ import annotations

from typing import Any

from projections.math.signals import WORRYING_SIGNALS
from projections.models import OutcomeSnapshot
from tracker.records.models import Notice

__all__ = ["WORRYING_SIGNALS", "notice_if_signal_worsened", "signal_notice"]


def signal_notice(
    *, clinic_id: Any, patient_id: Any, scale: str, signal: str, previous_signal: str | None
) -> Notice | None:
    """The (unsaved) notice a change of signal raises: only on a change to ``at_risk`` or
    ``off_track``, never repeated while the signal stays. No health values in the message."""
    if signal not in WORRYING_SIGNALS or signal == previous_signal:
        return None
    return Notice(
        clinic_id=clinic_id,
        patient_id=patient_id,
        kind=f"signal_{signal}",
        message=f"A patient's {scale} trajectory is now {signal.replace('_', ' ')} against the expected curve.",
    )


def notice_if_signal_worsened(snapshot: OutcomeSnapshot, *, previous_signal: str | None) -> Notice | None:
    notice = signal_notice(
        clinic_id=snapshot.clinic_id,
        patient_id=snapshot.patient_id,
        scale=snapshot.scale,
        signal=snapshot.signal,
        previous_signal=previous_signal,
    )
    if notice is not None:
        notice.save()
    return notice
