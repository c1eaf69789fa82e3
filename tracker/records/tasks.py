"""Celery tasks of the records layer. No arguments beyond ids; each can run twice."""

from __future__ import annotations

from celery import shared_task

from tracker.records.services.reminders import reminders_send_due


@shared_task(name="tracker.records.tasks.send_due_reminders")
def send_due_reminders() -> int:
    """Remind the patients whose local reminder time has passed today (see services.reminders)."""
    return reminders_send_due()
