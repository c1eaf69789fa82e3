"""The notices inbox: signal changes of the clinic's patients, unread first, marked read one by one or all at once.

Reads through ``selectors.notices_visible`` (the clinic's own; another clinic's notice is a 404) and
writes through ``tracker.records.services.notices``, as ``GET /api/v1/notices/`` and its read endpoint do.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from tracker.records import selectors
from tracker.records.models import User
from tracker.records.services.audit import audit_record_many
from tracker.records.services.notices import notice_mark_all_read, notice_mark_read
from tracker.web.access import acting_user, staff_required

PAGE_SIZE = 50


def unread_count(user: User) -> int:
    return selectors.notices_visible(actor=user).filter(read_at__isnull=True).count()


@staff_required
@require_safe
def notice_list(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    show_all = request.GET.get("show") == "all"
    notices = selectors.notices_visible(actor=actor).select_related("patient")
    if not show_all:
        notices = notices.filter(read_at__isnull=True)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    audit_record_many(
        actor=actor, action="web.notice.list", object_type="patient", patient_ids=sorted({n.patient_id for n in shown})
    )
    return render(request, "web/notices.html", {"page": page, "notices": shown, "show_all": show_all})


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = reverse("web:notice_list")
    return HttpResponseRedirect(f"{target}?show=all" if request.POST.get("show") == "all" else target)


@staff_required
@require_POST
def notice_read(request: HttpRequest, notice_id: str) -> HttpResponse:
    actor = acting_user(request)
    notice = selectors.notice_get(actor=actor, notice_id=notice_id)
    notice_mark_read(actor=actor, notice=notice)
    messages.success(request, _("Notice marked read."))
    return _back(request)


@staff_required
@require_POST
def notice_read_all(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    done = notice_mark_all_read(actor=actor, notices=selectors.notices_visible(actor=actor))
    messages.success(request, ngettext("%(n)d notice marked read.", "%(n)d notices marked read.", done) % {"n": done})
    return _back(request)
