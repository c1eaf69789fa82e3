"""Pages of a list: every item reachable, none twice, the client told how many there are."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class ListPagination(PageNumberPagination):
    # ``{"count", "next", "previous", "results"}``; ``?page=`` and ``?page_size=`` (at most 200). A
    # list that is cut anywhere else can hide a safety flag, so no list of the API is truncated.
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
