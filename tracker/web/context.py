"""What every dashboard page's navigation shows: the unread notices' count (one query, staff only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracker.records.models import User
from tracker.web.notices import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_clinic_staff:
        return {}
    # Lazy: counted only when a page's navigation shows it.
    return {"unread_notices": SimpleLazyObject(lambda: unread_count(user))}
