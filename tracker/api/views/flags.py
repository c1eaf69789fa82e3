"""Safety flags: the clinic's list and their acknowledgement."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.pagination import ListPagination
from tracker.api.permissions import IsClinician, IsStaff
from tracker.api.serializers import flags as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint
from tracker.records import selectors
from tracker.records.services import assessments as assessment_services


class FlagListView(Endpoint):
    permission_classes = [IsStaff]
    pagination_class = ListPagination

    @extend_schema(parameters=[s.FlagListQuerySerializer], responses={200: s.FlagSerializer(many=True)})
    def get(self, request: Request) -> Response:
        params = self.query(s.FlagListQuerySerializer)
        # Every flag is reachable page by page; urgent open ones come first.
        flags = selectors.flags_for_review(actor=self.actor, open_only=params["open"]).prefetch_related(
            "acknowledgements"
        )
        return self.audited_page(flags, s.FlagSerializer, "flag.list")


class FlagAcknowledgeView(Endpoint):
    permission_classes = [IsClinician]

    @extend_schema(request=s.FlagAcknowledgeSerializer, responses={200: s.FlagSerializer})
    def post(self, request: Request, flag_id: str) -> Response:
        flag = selectors.flag_get(actor=self.actor, flag_id=flag_id)
        values = validated(s.FlagAcknowledgeSerializer, request.data)
        flag = assessment_services.flag_acknowledge(actor=self.actor, flag=flag, **values)
        return Response(s.FlagSerializer(flag).data)
