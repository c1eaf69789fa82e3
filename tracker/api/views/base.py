"""What the API's views share: the acting user, query parameters through serializers, conditional
GETs (ETag / If-None-Match), and the base class of the views of one patient."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.api.pagination import ListPagination
from tracker.api.serializers.base import query
from tracker.records import selectors
from tracker.records.models import Clinic, Patient, User
from tracker.records.services.audit import audit_record, audit_record_many


def actor_of(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def clinic_of(request: Request) -> Clinic:
    clinic = actor_of(request).clinic
    assert clinic is not None, "staff endpoints are only reached by clinic staff"
    return clinic


def audit_read(request: Request, action: str, object_type: str, object_id: Any, patient: Patient) -> None:
    audit_record(
        actor=actor_of(request),
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )


def strong_etag(*parts: Any) -> str:
    """A strong ETag from what an answer depends on (JSON-able parts; dates and ids as text)."""
    material = json.dumps(parts, default=str, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:40] + '"'


def none_match(request: Request | HttpRequest, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (or is ``*``): the client holds this answer already.
    If-None-Match compares weakly (RFC 9110 §13.1.2), so a ``W/`` the client or a proxy added still
    matches."""
    tags = parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


#: For ``extend_schema`` of a conditional GET: the request header, and the 304 it may answer.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the answer the client holds: if it is still current, the answer is 304 without a body.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: If-None-Match named the current ETag; no body.")


def _not_modified(response: HttpResponseBase, etag: str) -> HttpResponseNotModified:
    """A 304 without a body, with the headers RFC 9110 §15.4.5 asks a 304 to repeat."""
    new = HttpResponseNotModified()
    for header in ("Cache-Control", "Content-Location", "Expires", "Vary"):
        if header in response:
            new[header] = response[header]
    new["ETag"] = etag
    return new


class Endpoint(APIView):
    # An API view: the acting user, query parameters validated by a serializer, and lists in pages
    # (a list view sets ``pagination_class = ListPagination``, which also tells the schema).
    #
    # Conditional GETs, for a phone that keeps what it was shown: a view that sets
    # ``conditional_get = True`` answers each successful GET with a strong ``ETag`` (the digest of the
    # rendered body), and a request whose ``If-None-Match`` names it gets 304 without a body. A view
    # whose answer is costly to build (a chart) names what the answer depends on first, with
    # ``return self.conditional(parts, build)``: a match is answered 304 before anything is built.
    # A 304 is a read like any other (the client shows the data again), so it is audited as the 200
    # would have been. ``Cache-Control: no-store`` stays (NoStoreMiddleware): the app keeps its copy
    # in its own store, never in an HTTP cache, and sends the ETag it got with it.
    conditional_get: ClassVar[bool] = False
    etag: str | None = None

    def conditional(self, parts: Any, build: Callable[[], HttpResponseBase]) -> HttpResponseBase:
        """``build()``'s answer, or 304 when the client holds the answer ``parts`` identify."""
        self.etag = strong_etag(type(self).__name__, parts)
        if none_match(self.request, self.etag):
            return HttpResponseNotModified()
        return build()

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or not (self.conditional_get or self.etag):
            return response
        if response.status_code == 304 and self.etag:
            response["ETag"] = self.etag
            return response
        if response.status_code != 200 or response.streaming:
            return response
        if self.etag is None:
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            self.etag = '"' + hashlib.sha256(response.content).hexdigest()[:40] + '"'
        response["ETag"] = self.etag
        return _not_modified(response, self.etag) if none_match(request, self.etag) else response

    @property
    def actor(self) -> User:
        return actor_of(self.request)

    def query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:  # type: ignore[type-arg]
        """The request's query parameters, validated: a wrong value is a 400 naming the parameter."""
        return query(serializer_class, self.request.query_params)

    def page_of(self, queryset: QuerySet[Any]) -> tuple[list[Any], ListPagination]:
        """One page of ``queryset`` (which must be totally ordered) and its paginator; a page number
        past the end is a 404."""
        paginator = ListPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return list(page or []), paginator

    @staticmethod
    def paged(paginator: ListPagination, data: Any) -> Response:
        return paginator.get_paginated_response(data)

    def audited_page(self, queryset: QuerySet[Any], serializer_class: Any, action: str) -> Response:
        """One page of a list of patients' rows (flags, notices), its read audited once per patient on it."""
        page, paginator = self.page_of(queryset)
        audit_record_many(
            actor=self.actor, action=action, object_type="patient", patient_ids=sorted({r.patient_id for r in page})
        )
        return self.paged(paginator, serializer_class(page, many=True).data)


class PatientEndpoint(Endpoint):
    # A view of one patient's data (``patients/{patient_id}/…``), as Sentry's ``ProjectEndpoint``:
    # once the role is checked, ``initial`` resolves the id through the actor-scoped selector (another
    # clinic's or another patient's id is a 404, as if it did not exist) and hands ``self.patient`` to
    # the handler. A read that answers is audited once, as ``read_action``, on the patient.
    read_action: ClassVar[str] = ""
    patient: Patient

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.patient = selectors.patient_get(actor=actor_of(request), patient_id=kwargs["patient_id"])

    def audit_action(self) -> str:
        return self.read_action

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        patient = getattr(self, "patient", None)
        if request.method in ("GET", "HEAD") and patient is not None and response.status_code < 400:
            assert self.audit_action(), f"{type(self).__name__} names no read_action"
            audit_read(request, self.audit_action(), "patient", patient.pk, patient)
        return response
