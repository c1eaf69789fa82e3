"""Renderers that let a client ask for a file by its type (``Accept: image/png``) and reach the view
that answers the file itself. Without them DRF's content negotiation, offering JSON only, answers
such a request 406. They never render a file: the views build their ``HttpResponse``, and an error is
answered as a problem by the exception handler (tracker/api/errors.py)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer


class _FileRenderer(BaseRenderer):
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        # Only reached by a view that answers data instead of its file: say it plainly as JSON.
        return json.dumps(data, default=str).encode()


def file_renderer(media_type: str, fmt: str) -> type[BaseRenderer]:
    return type(f"{fmt.capitalize()}FileRenderer", (_FileRenderer,), {"media_type": media_type, "format": fmt})


def file_renderers(*types: tuple[str, str]) -> list[type[BaseRenderer]]:
    """JSON (for errors and the browsable API's absence alike), then one renderer per file type."""
    return [JSONRenderer, *(file_renderer(media_type, fmt) for media_type, fmt in types)]
