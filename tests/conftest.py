"""Shared test set-up: fast password hashing, service-bound tests only where services are promised."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RUN_SERVICE_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL/Redis/Celery: set RUN_SERVICE_TESTS=1 (as .ci/run does)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _django_test_defaults(request: pytest.FixtureRequest) -> None:
    """With Django loaded: fast password hashing (Argon2 is production's, asserted in
    tests/tracker/config/test_settings.py) and an empty cache (login lockout counters)."""
    if not request.config.pluginmanager.hasplugin("django"):
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()
    # Outside the service-bound tests, Celery runs tasks in-process even when REDIS_URL is set
    # (as in CI's PostgreSQL pass): those tests are about what a task does, not about a broker.
    if request.node.get_closest_marker("services") is None:
        from tracker.config.celery import app

        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        request.addfinalizer(lambda: setattr(app.conf, "task_always_eager", eager))
