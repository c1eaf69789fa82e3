"""What every dashboard page shows: the unread notices' count (one query, staff only), the zone of its times."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from tracker.records.models import User
from tracker.web.notices import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_clinic_staff:
        return {}
    # Lazy: counted only when a page's navigation shows it. The zone: the clinic's, activated by ``access``.
    return {
        "unread_notices": SimpleLazyObject(lambda: unread_count(user)),
        "time_zone": timezone.get_current_timezone_name(),
    }
