"""Notices for a patient's clinicians when the projection signal turns for the worse."""

from __future__ import annotations

from projections.models import OutcomeSnapshot
from tracker.models import Notice

WORRYING_SIGNALS = ("at_risk", "off_track")


def notice_if_signal_worsened(snapshot: OutcomeSnapshot, *, previous_signal: str | None) -> Notice | None:
    """A new notice when the signal changes to ``at_risk`` or ``off_track`` (never repeated while it stays)."""
    if snapshot.signal not in WORRYING_SIGNALS or snapshot.signal == previous_signal:
        return None
    label = snapshot.signal.replace("_", " ")
    return Notice.objects.create(
        clinic_id=snapshot.clinic_id,
        patient_id=snapshot.patient_id,
        kind=f"signal_{snapshot.signal}",
        message=f"A patient's {snapshot.scale} trajectory is now {label} against the expected curve.",
    )
