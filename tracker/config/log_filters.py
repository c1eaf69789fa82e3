"""Logging filters, in a module of their own: logging is configured before Django's apps are loaded,
so this imports nothing that reaches the models (the middleware module does)."""

from __future__ import annotations

import logging

from tracker.records.context import request_id_var


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
