"""DRF's scoped throttle, kept working when the shared cache (Redis) is down: it counts in this
process's memory until Redis answers again, rather than failing the login with a 500."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.warning("throttle cache unavailable (%s); counting in process memory", type(exc).__name__)
            self.cache = caches["local"]
            return super().allow_request(request, view)
