"""Pages of a list: every item reachable, none twice, the client told how many there are."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.pagination import PageNumberPagination

from tracker.api.messages import FIELD_MESSAGES


class ListPagination(PageNumberPagination):
    # ``{"count", "next", "previous", "results"}``; ``?page=`` and ``?page_size=`` (at most 200). A
    # list that is cut anywhere else can hide a safety flag, so no list of the API is truncated.
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int | None:
        # DRF ignores a page_size that is not a number; the schema says it is an integer, so say so.
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw != "" and not raw.strip().lstrip("-").isdigit():
            message = ErrorDetail(str(FIELD_MESSAGES["not_an_integer"]), "not_an_integer")
            raise ValidationError({self.page_size_query_param: [message]})
        return super().get_page_size(request)
