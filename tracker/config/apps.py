"""The wiring's own app: connects what must hold before the first request (a login made outside a
request, by a test client or a shell, is stamped like any other)."""

from __future__ import annotations

from django.apps import AppConfig


class WiringConfig(AppConfig):
    name = "tracker.config"
    label = "tracker_config"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from tracker.config.middleware import stamp_session

        user_logged_in.connect(stamp_session, dispatch_uid="tracker.session_lifetime")
