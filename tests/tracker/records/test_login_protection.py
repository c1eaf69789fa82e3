"""Login protection: a lockout per username and address that an attacker cannot turn on the real
user, a throttle that a forged X-Forwarded-For does not reset, Retry-After on every 429, audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, make_clinic
from tracker.records.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def login(username: str, password: str, address: str = "198.51.100.7", **headers: str):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **headers
    )


def test_an_attacker_elsewhere_does_not_lock_the_patient_out():
    make_clinic()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert login("a-patient-1", "wrong-password", address="203.0.113.9").status_code == 400
    locked = login("a-patient-1", PASSWORD, address="203.0.113.9")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    # The patient, on their own phone's address, signs in.
    assert login("a-patient-1", PASSWORD, address="198.51.100.7").status_code == 200


def test_one_failure_short_of_the_limit_does_not_lock():
    make_clinic()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login("a-clinician", "wrong-password")
    assert login("a-clinician", PASSWORD).status_code == 200
    # A success forgets the failures.
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login("a-clinician", "wrong-password")
    assert login("a-clinician", PASSWORD).status_code == 200


def test_failed_logins_and_the_lockout_are_audited_without_the_password():
    make_clinic()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login("a-clinician", "wrong-password-123")
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert failed.count() == settings.LOGIN_MAX_FAILURES
    assert set(failed.values_list("actor_username", flat=True)) == {"a-clinician"}
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1
    assert not AuditEvent.objects.filter(actor_username__contains="wrong-password").exists()


def test_a_forged_forwarded_header_changes_nothing_without_trusted_proxies():
    make_clinic()
    for i in range(settings.LOGIN_MAX_FAILURES):
        forged = {"HTTP_X_FORWARDED_FOR": f"10.0.0.{i}"}
        assert login("a-clinician", "wrong-password", **forged).status_code == 400
    assert login("a-clinician", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_with_one_trusted_proxy_the_address_it_saw_is_the_clients():
    make_clinic()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        # The client claims 10.0.0.1; the proxy appended the address it saw, 203.0.113.9.
        login("a-clinician", "wrong", address="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9")
    assert login("a-clinician", PASSWORD, address="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert login("a-clinician", PASSWORD, address="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 200


def test_the_per_address_throttle_answers_429_with_retry_after_and_ignores_forged_headers():
    make_clinic()
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    statuses = [
        login(f"nobody-{i}", "x", HTTP_X_FORWARDED_FOR=f"10.1.{i // 250}.{i % 250}").status_code
        for i in range(limit + 1)
    ]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429


def test_the_dashboard_shares_the_lockout():
    make_clinic()
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post("/login/", {"username": "a-clinician", "password": "wrong-password"})
    page = client.post("/login/", {"username": "a-clinician", "password": PASSWORD})
    assert page.status_code == 200 and b"Too many failed sign-ins" in page.content
    elsewhere = Client(REMOTE_ADDR="203.0.113.50").post("/login/", {"username": "a-clinician", "password": PASSWORD})
    assert elsewhere.status_code == 302


@pytest.mark.services
def test_logins_keep_working_while_redis_is_down(tmp_path):
    """A Redis of the test's own, stopped: the throttle counts in memory and the lockout lives in the
    database, so signing in still works (the machine's shared Redis is never touched)."""
    import shutil
    import socket
    import subprocess
    import time

    import redis
    from django.core.cache import caches

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(50):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        caches_setting = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
            "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fallback-test"},
        }
        with override_settings(CACHES=caches_setting):
            caches._settings = None  # type: ignore[attr-defined]
            make_clinic()
            assert login("a-clinician", PASSWORD).status_code == 200
            proc.terminate()
            proc.wait(10)
            assert login("a-clinician", PASSWORD).status_code == 200
            for _ in range(settings.LOGIN_MAX_FAILURES):
                assert login("a-clinician", "wrong-password").status_code == 400
            assert login("a-clinician", PASSWORD).status_code == 429
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.services
def test_charts_are_drawn_while_redis_is_down():
    """A chart needs no cache: with the cache's Redis unreachable it is drawn all the same."""
    from tests.tracker.helpers import submit

    unreachable = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fallback-chart"},
    }
    world = make_clinic()
    patient = APIClient()
    patient.force_authenticate(world.patient_user)
    from datetime import date

    submit(patient, "phq9", date.today(), 12)
    with override_settings(CACHES=unreachable):
        response = patient.get(f"/api/v1/patients/{world.patient.pk}/chart.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
