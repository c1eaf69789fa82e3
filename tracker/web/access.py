"""Who may use the dashboard: clinic staff (admin or clinician with a clinic). Object scope is the
selectors' job (404); these checks answer 403 for a wrong role, as the API's permissions do."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Concatenate, ParamSpec
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.records.models import Role, User

if TYPE_CHECKING:  # django-stubs is a development tool only
    from django_stubs_ext import StrOrPromise

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]

STAFF_ONLY = _("The dashboard is for clinic staff. Patients use the mobile app.")
CLINICIANS_ONLY = _("Only a clinician acknowledges a safety flag.")
ADMINS_ONLY = _("Only the clinic's admin manages staff, settings and clinic-wide reports.")


def acting_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(STAFF_ONLY)
    return user


def _role_required(roles: tuple[str, ...], message: StrOrPromise) -> Callable[[View[P]], View[P]]:
    def decorator(view: View[P]) -> View[P]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            user = acting_user(request)
            if not user.is_clinic_staff or user.role not in roles:
                raise PermissionDenied(message)
            # Staff read date-times in their clinic's zone (the templates' ``date`` filters follow it);
            # ``user.clinic`` is loaded once here and reused by the page's header.
            timezone.activate(ZoneInfo(user.clinic.timezone if user.clinic else "UTC"))
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return login_required(wrapped)

    return decorator


staff_required = _role_required((Role.ADMIN, Role.CLINICIAN), STAFF_ONLY)
clinician_required = _role_required((Role.CLINICIAN,), CLINICIANS_ONLY)
admin_required = _role_required((Role.ADMIN,), ADMINS_ONLY)
