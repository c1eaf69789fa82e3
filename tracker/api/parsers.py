"""The request body parser: JSON, with a nesting limit so a hostile body is a 400, never a 500."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from tracker.api.messages import JSON_TOO_DEEP, MALFORMED_JSON


def nesting_depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion. Only
    containers are visited: a scalar adds nothing to the depth of the container holding it."""
    if not isinstance(value, (Mapping, list)):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in node.values() if isinstance(node, Mapping) else node:
            if isinstance(child, (Mapping, list)):
                stack.append((child, depth + 1))
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than ``MAX_JSON_DEPTH`` (DRF lets the
    decoder's ``RecursionError`` through as a server error)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        except ParseError as exc:
            # DRF's message carries the decoder's words; ours says it for the person reading it.
            error = str(exc.detail).removeprefix("JSON parse error - ")
            raise ParseError(MALFORMED_JSON % {"error": error}, code="malformed_json") from None
        if nesting_depth(data) > settings.MAX_JSON_DEPTH:
            raise _too_deep()
        return data


def _too_deep() -> ParseError:
    return ParseError(JSON_TOO_DEEP % {"depth": settings.MAX_JSON_DEPTH}, code="json_too_deep")


__all__ = ["BoundedJSONParser", "nesting_depth"]
