"""Notices for a clinic's clinicians: the list and marking one read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.pagination import ListPagination
from tracker.api.permissions import IsStaff
from tracker.api.serializers import notices as s
from tracker.api.views.base import Endpoint
from tracker.records import selectors
from tracker.records.services.notices import notice_mark_read


class NoticeListView(Endpoint):
    permission_classes = [IsStaff]
    pagination_class = ListPagination

    @extend_schema(parameters=[s.NoticeListQuerySerializer], responses={200: s.NoticeSerializer(many=True)})
    def get(self, request: Request) -> Response:
        params = self.query(s.NoticeListQuerySerializer)
        notices = selectors.notices_visible(actor=self.actor)
        if params["unread"]:
            notices = notices.filter(read_at__isnull=True)
        return self.audited_page(notices, s.NoticeSerializer, "notice.list")


class NoticeReadView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses={200: s.NoticeSerializer})
    def post(self, request: Request, notice_id: str) -> Response:
        notice = selectors.notice_get(actor=self.actor, notice_id=notice_id)
        return Response(s.NoticeSerializer(notice_mark_read(actor=self.actor, notice=notice)).data)
