"""A strict Content-Security-Policy on the dashboard and the API docs; the docs load nothing from a CDN
and, in production, are for signed-in staff only."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tests.tracker.helpers import PASSWORD, client_for, make_clinic, run_manage

pytestmark = pytest.mark.django_db

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


@pytest.fixture
def world() -> Any:
    return make_clinic()


def _policy(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def _assert_strict(response: Any) -> None:
    policy = _policy(response)
    for directive, value in REQUIRED.items():
        assert policy[directive] == value, directive
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def _no_inline_code(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert "<style" not in html and " style=" not in html, "inline style"
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "an inline event handler"


def test_dashboard_pages_carry_the_policy_and_no_inline_code(world: Any) -> None:
    browser = Client()
    assert browser.login(username=world.clinician.username, password=PASSWORD)
    for client, path in (
        (Client(), "/"),
        (Client(), "/login/"),
        (browser, "/patients/"),
        (browser, f"/patients/{world.patient.pk}/"),
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        _assert_strict(r)
        _no_inline_code(r.content.decode())


def test_the_stylesheet_is_served(world: Any) -> None:
    r = Client().get(Client().get("/login/").content.decode().split('rel="stylesheet" href="')[1].split('"')[0])
    assert r.status_code == 200 and b".card" in b"".join(r.streaming_content)  # type: ignore[attr-defined]


def test_the_docs_page_loads_only_same_origin_scripts() -> None:
    browser = Client()
    r = browser.get("/api/docs/")
    assert r.status_code == 200
    _assert_strict(r)
    html = r.content.decode()
    _no_inline_code(html)
    urls = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any(u.endswith("swagger-ui-bundle.js") for u in urls)
    for url in urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc and url.startswith("/"), url
        answer = browser.get(url)
        assert answer.status_code == 200, url
    assert "cdn" not in html.lower()


def test_the_schema_and_docs_are_public_outside_production() -> None:
    assert Client().get("/api/schema/").status_code == 200


def test_production_settings_keep_docs_and_schema_for_staff() -> None:
    done = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; import json;"
        " print(json.dumps([s.SPECTACULAR_SETTINGS[k] for k in ('SERVE_PERMISSIONS', 'SERVE_AUTHENTICATION',"
        " 'SWAGGER_UI_DIST')] + [s.MIDDLEWARE[:2], s.STORAGES['staticfiles']['BACKEND']]))",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="prod-" + "s3cr3t-" * 8,
        DJANGO_ALLOWED_HOSTS="clinic.example",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
    )
    assert done.returncode == 0, done.stderr
    permissions, authentication, dist, first_middleware, storage = json.loads(done.stdout.splitlines()[-1])
    assert permissions == ["tracker.api.permissions.IsStaff"]
    assert set(authentication) == {
        "rest_framework.authentication.SessionAuthentication",
        "tracker.api.authentication.BearerTokenAuthentication",
    }
    assert dist == "SIDECAR"
    assert first_middleware == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert storage.startswith("whitenoise.")


@pytest.fixture
def production_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs and schema views as production settings configure them (drf-spectacular reads these
    settings once, at import)."""
    permissions = [import_string("tracker.api.permissions.IsStaff")]
    authentication = [
        import_string("rest_framework.authentication.SessionAuthentication"),
        import_string(settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][0]),
    ]
    for view in (SpectacularAPIView, SpectacularSwaggerSplitView):
        monkeypatch.setattr(view, "permission_classes", permissions)
        monkeypatch.setattr(view, "authentication_classes", authentication)


@pytest.mark.usefixtures("production_docs")
def test_in_production_only_signed_in_staff_read_the_docs(world: Any) -> None:
    for path in ("/api/schema/", "/api/docs/", "/api/docs/?script="):
        assert Client().get(path).status_code in (401, 403), path
        assert client_for(world.patient_user).get(path).status_code == 403, path
        assert client_for(world.clinician).get(path).status_code == 200, path
        browser = Client()
        assert browser.login(username=world.admin.username, password=PASSWORD)
        assert browser.get(path).status_code == 200, path
