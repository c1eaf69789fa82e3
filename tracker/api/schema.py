"""The OpenAPI schema's conventions, applied to every operation (the ones written later too):

- every error status an operation can answer is documented with the ``Problem`` body
  (``application/problem+json``, tracker/api/errors.py), read off the view and the operation:
  a body or query parameters can be refused (400; a body also 413 and 415), a signed-in operation
  401, a role check 403, a write a conflict (409), a throttled view 429; every operation 404 (an id
  in the path, a page past the end, DRF's ``?format=`` naming no format), 405, 406, 500 and 503;
- every operation documents 414 without a body: an address longer than the web server reads (gunicorn's
  request line limit, a proxy's, runserver's) is refused by that server before the app sees it;
- operation ids are identifiers (``patients_chart_retrieve``, not ``patients_chart._retrieve``);
- a path parameter matched by an alternation of words (``(?P<fmt>png|svg)``) is an enum, not a pattern;
- an optional query parameter may be sent empty (``allowEmptyValue``): the API reads it as absent;
- in a response, every field of a model serializer is required: it is always sent (null where the
  field allows null), except a field the serializer declares itself with ``required=False`` (sent only
  sometimes, like a replay's ``original_id``). A plain serializer's ``required=False`` field stays
  optional (its dict may lack it).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated

from tracker.api.errors import PROBLEM_CONTENT_TYPE
from tracker.api.messages import TITLES
from tracker.api.serializers.base import StrictSerializer

FIELD_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "field": {
            "type": "string",
            "nullable": True,
            "description": "The offending field's path (items[4], item_directions.16, a.b); null for the "
            "request as a whole.",
        },
        "code": {"type": "string", "description": "A stable snake_case code of the fault (out_of_range, required)."},
        "message": {"type": "string", "description": "The fault in words for the person reading them."},
    },
    "required": ["field", "code", "message"],
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": (
        "RFC 9457 problem details. Besides the members below, a validation error keeps API v1's shape: one "
        "extension member per offending top-level field with its list of messages."
    ),
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Identifies the problem type; ends in its code."},
        "title": {"type": "string", "description": "A short summary of the problem type, in the request's language."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "This occurrence explained, in the request's language."},
        "code": {
            "type": "string",
            "description": "A stable code to switch on; among them: " + ", ".join(sorted(TITLES)) + ".",
        },
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
    "required": ["type", "title", "status", "detail", "code", "errors"],
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

DESCRIPTIONS = {
    "400": "The request is not valid (code validation_error, malformed_json, ...); errors names every offending field.",
    "401": "Not signed in, or the token is unknown, expired (token_expired) or revoked (token_revoked).",
    "403": "The account's role may not do this (permission_denied).",
    "404": "No such object among those the account may see (not_found).",
    "405": "The method is not allowed here (method_not_allowed).",
    "406": "The Accept header asks for a format this operation cannot answer (not_acceptable).",
    "409": "The request conflicts with the current state (conflict).",
    "413": "The request body is too large (payload_too_large).",
    "415": "The request body is not JSON (unsupported_media_type).",
    "429": "Too many requests (rate_limited) or failed sign-ins (locked_out); Retry-After says when to retry.",
    "500": "Server error (server_error).",
    "503": "Briefly unavailable (service_unavailable); Retry-After says when to retry.",
}

URI_TOO_LONG = (
    "The address (path and query) is longer than the web server accepts; answered by the server in front of "
    "the API, not as a problem."
)

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}
_WORDS = re.compile(r"\^?\(?(\w+(?:\|\w+)+)\)?\$?")
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ProblemAutoSchema(AutoSchema):
    def get_operation_id(self) -> str:
        operation_id = re.sub(r"[^0-9A-Za-z_]+", "_", super().get_operation_id())
        return re.sub(r"_+", "_", operation_id).strip("_")

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        instance = force_instance(serializer)
        if direction == "response" and isinstance(instance, serializers.ModelSerializer):
            optional = _declared_optional(instance)
            schema["required"] = [name for name in schema.get("properties", {}) if name not in optional]
        if direction == "request" and isinstance(instance, StrictSerializer):
            schema["additionalProperties"] = False  # an unknown field is refused, not ignored
        for name, field in instance.fields.items():
            # Bounds a field states itself (a new password's length), over those read off its arguments.
            if getattr(field, "schema_overrides", None) and name in schema.get("properties", {}):
                schema["properties"][name].update(field.schema_overrides)
        return schema

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            self._enum_from_pattern(parameter)
            if parameter.get("in") == "query" and not parameter.get("required"):
                # ``?scale=`` is read as no ``scale`` (serializers/base.py ``query``); a page past the end is a 404.
                parameter["allowEmptyValue"] = True
        self._register_problem()
        responses = operation["responses"]
        problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for status, declared in responses.items():
            # A view that describes one of its errors in words still answers it as a problem.
            if int(status) >= 400 and "content" not in declared:
                declared["content"] = problem
        for status in self._error_statuses(operation):
            if status in responses:
                continue
            response: dict[str, Any] = {
                "description": DESCRIPTIONS[status],
                "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
            if status in ("429", "503"):
                response["headers"] = _RETRY_AFTER
            responses[status] = response
        responses.setdefault("414", {"description": URI_TOO_LONG})
        return operation

    @staticmethod
    def _enum_from_pattern(parameter: dict[str, Any]) -> None:
        schema = parameter.get("schema", {})
        match = _WORDS.fullmatch(schema.get("pattern", "")) if parameter.get("in") == "path" else None
        if match:
            del schema["pattern"]
            schema["enum"] = match.group(1).split("|")

    def _register_problem(self) -> None:
        for name, schema in (("FieldError", FIELD_ERROR_SCHEMA), ("Problem", PROBLEM_SCHEMA)):
            self.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
            )

    def _error_statuses(self, operation: dict[str, Any]) -> list[str]:
        view = self.view
        has_body = "requestBody" in operation or self.method in ("POST", "PUT", "PATCH")
        parameters = operation.get("parameters", [])
        # 404 for all: an id in the path, a page past the end, DRF's ?format= naming no format.
        statuses = ["404", "405", "406", "500", "503"]
        if has_body or any(p.get("in") == "query" for p in parameters):
            statuses.append("400")
        if has_body:
            statuses += ["413", "415"]
        if view.get_authenticators():
            statuses.append("401")
        if any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in view.get_permissions()):
            statuses.append("403")
        if self.method in _WRITES:
            statuses.append("409")
        if view.get_throttles() or getattr(view, "counts_failed_sign_ins", False):
            statuses.append("429")  # throttled, or locked out by failed sign-ins
        return sorted(statuses)


def _declared_optional(serializer: serializers.Serializer) -> set[str]:  # type: ignore[type-arg]
    """The fields a model serializer declares itself with ``required=False``: sent only sometimes
    (``original_id`` of a replayed entry), unlike its model fields, which are always sent."""
    return {
        name
        for name, field in serializer._declared_fields.items()
        if getattr(field, "_kwargs", {}).get("required") is False
    }


PAGE_MEMBERS = ("count", "next", "previous", "results")


def require_page_members(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: a page of a list always has ``count``, ``next``, ``previous`` and ``results``
    (``next`` and ``previous`` are null at the ends), whichever paginator made it."""
    for component in result.get("components", {}).get("schemas", {}).values():
        if set(PAGE_MEMBERS) <= set(component.get("properties", {})):
            component["required"] = sorted(set(component.get("required", [])) | set(PAGE_MEMBERS))
    return result


#: A ``$`` that begins a word in a route is a literal character (FHIR's ``$export``), not a regex's end.
_LITERAL_DOLLAR = re.compile(r"\$(?=\w)")


def keep_literal_dollars(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: a route with a literal ``$`` (FHIR's ``/fhir/$export``) keeps it in the
    schema's path; drf-spectacular reads every ``$`` as a regular expression's end and drops it, which
    would document an address that answers 404."""
    literal = {}
    for path, route, _method, _view in generator.endpoints or ():
        for match in _LITERAL_DOLLAR.finditer(route):
            word = re.match(r"\w+", route[match.end() :])
            if word:
                literal[path] = path.replace(f"/{word.group()}", f"/${word.group()}", 1)
    result["paths"] = {literal.get(path, path): item for path, item in result.get("paths", {}).items()}
    return result
