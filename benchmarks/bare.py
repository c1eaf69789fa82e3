"""The benchmark's baseline endpoint: one INSERT, no auth, validation or audit.

Mounted only by ``benchmarks.urls`` (the benchmark's own gunicorn), never by the product.
"""

from __future__ import annotations

import json
import uuid

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO benchmark_bare_row (id, body) VALUES (%s, %s)",
            [str(uuid.uuid4()), json.dumps(json.loads(request.body))],
        )
    return HttpResponse(status=201)
