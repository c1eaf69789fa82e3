"""The one settings module, configured from the environment (12-factor).

With nothing set it runs on SQLite in the project folder with Celery tasks run eagerly
and an in-process cache, so `make run` starts a working system. ``DATABASE_URL`` switches
to PostgreSQL (psycopg 3, persistent connections), ``REDIS_URL`` to Redis as Celery broker,
result backend and cache. ``DJANGO_ENV=production`` refuses to start without a secret key
and a host list.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


DJANGO_ENV = env("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"


def required(name: str) -> str:
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production (see README, 'Configuration').")
    return value


if PRODUCTION:
    SECRET_KEY = required("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
    DEBUG = False
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-insecure-key-only-for-local-use-0123456789abcdef")  # type: ignore[assignment]
    ALLOWED_HOSTS = [
        h.strip() for h in (env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver") or "").split(",")
    ]
    DEBUG = env_bool("DJANGO_DEBUG", True)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "tracker.records",
    "projections",
    "tracker.cli",
    "tracker.config",
]
if not PRODUCTION:
    INSTALLED_APPS.append("benchmarks")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "tracker.config.middleware.RequestIdMiddleware",
    "tracker.config.middleware.NoStoreMiddleware",
    "tracker.config.middleware.ProblemDetailsMiddleware",
    "tracker.config.middleware.BodySizeLimitMiddleware",
    "tracker.config.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tracker.config.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tracker.config.urls"
WSGI_APPLICATION = "tracker.config.wsgi.application"
AUTH_USER_MODEL = "tracker.User"
LOGIN_URL = "/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.web.context.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS", True):
        # Server-side binding, and psycopg prepares a statement once it has run it 5 times on a
        # connection: PostgreSQL then skips parsing and planning the app's repeated queries.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
else:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_ENV=production.")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
# The entries' covering index (PostgreSQL's INCLUDE, for the nightly read) is a plain index on SQLite.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache -------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fallback"},
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND: str | None = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tracker"},
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fallback"},
    }
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # tasks write their results to the database
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redone
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing never holds a request for long when the broker is down: one quick retry, then the
# save goes on and the nightly run catches up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# A task whose worker died (killed, its machine lost) is handed to another worker after this many
# seconds. Every task is short: a nightly chunk of 2,000 patients takes seconds (benchmark
# projections prints the per-chunk time), a clinic's recomputation is split into such chunks, so
# 5 minutes leaves a wide margin and a lost chunk is redone within minutes, not an hour.
BROKER_VISIBILITY_TIMEOUT = env_int("BROKER_VISIBILITY_TIMEOUT", 300)
# How often a worker looks for such messages. Kombu scans only every 10th sweep by default (its
# ``unacked_restore_throttle``), which would add up to 100 s to the timeout; every sweep scans here.
BROKER_RESTORE_INTERVAL = env_int("BROKER_RESTORE_INTERVAL", 10)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": BROKER_RESTORE_INTERVAL,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
}
CELERY_TIMEZONE = "UTC"
# A worker process keeps its database connection from task to task (Celery's Django fixup would
# otherwise close it before and after every task): one connection per worker process, not one per
# chunk. It is still recycled after DB_CONN_MAX_AGE seconds or when unusable (tracker.config.celery).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BEAT_SCHEDULE = {
    # Entries leave their patient in an outbox (tracker/records/outbox.py); this drains it.
    "drain-pending-recomputations": {
        "task": "projections.tasks.drain_pending",
        "schedule": 3.0,
        "options": {"expires": 3},
    },
    "nightly-recompute-outcomes": {
        "task": "projections.tasks.nightly_recompute",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    # Reminders of due questionnaires at each patient's local time (tracker/records/services/reminders.py).
    "questionnaire-reminders": {
        "task": "tracker.records.tasks.send_due_reminders",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "purge-expired-exports": {
        "task": "tracker.reports.tasks.exports_purge",
        "schedule": crontab(minute=17),
        "options": {"expires": 60 * 60},
    },
    "nightly-cohort-curves": {
        "task": "projections.tasks.recompute_cohorts",
        "schedule": crontab(hour=3, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
}

# --- Reminders: email and push ------------------------------------------------------------------
# Email through Django's backend: the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = env("EMAIL_HOST", "") or ""
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "reminders@localhost")
# Push through Firebase Cloud Messaging HTTP v1 when both are set; otherwise pushes are recorded in the
# push outbox (GET /api/v1/push-outbox/, staff).
FCM_PROJECT_ID = env("FCM_PROJECT_ID", "") or ""
FCM_CREDENTIALS_FILE = env("FCM_CREDENTIALS_FILE", "") or ""

# --- Passwords and auth --------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tracker.records.passwords.RepeatedCharacterValidator"},
]
# Bearer tokens: lifetime per role, and login throttling.
TOKEN_TTL_HOURS = {
    "patient": env_int("TOKEN_TTL_HOURS_PATIENT", 24 * 30),
    "staff": env_int("TOKEN_TTL_HOURS_STAFF", 12),
}
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
# How many proxies in front of the app append to X-Forwarded-For (0: none trusted; the peer's
# address is the client's). Used by the login lockout and DRF's throttles alike.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
ENROLLMENT_CODE_TTL_HOURS = env_int("ENROLLMENT_CODE_TTL_HOURS", 7 * 24)
# A password reset code, issued by clinic staff, is short-lived: read out on the phone and used at once.
PASSWORD_RESET_CODE_TTL_MINUTES = env_int("PASSWORD_RESET_CODE_TTL_MINUTES", 30)
# The oldest app version the operator still supports (``GET /api/v1/`` tells the app).
MIN_SUPPORTED_APP_VERSION = env("MIN_SUPPORTED_APP_VERSION", "1.0.0")

# --- REST framework and schema -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tracker.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The browsable API is a development aid: offering it costs every request a content
    # negotiation between two renderers, so only a DEBUG server offers it.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["tracker.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "tracker.api.schema.ProblemAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tracker.api.errors.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_HOPS,
    "DEFAULT_THROTTLE_RATES": {
        "login": env("LOGIN_RATE", "30/min"),
        "enroll": env("ENROLL_RATE", "30/min"),
        "password_reset": env("PASSWORD_RESET_RATE", "30/min"),
    },
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Depression outcomes tracker API",
    "DESCRIPTION": "The mobile and clinic API, version 1 (see shared/API.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # In production the docs and the schema are for signed-in staff (dashboard session or bearer
    # token); elsewhere anyone may read them.
    "SERVE_PERMISSIONS": ["tracker.api.permissions.IsStaff" if PRODUCTION else "rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": (
        [
            "rest_framework.authentication.SessionAuthentication",
            "tracker.api.authentication.BearerTokenAuthentication",
        ]
        if PRODUCTION
        else []
    ),
    # Swagger UI and ReDoc from drf-spectacular-sidecar, served as our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: Swagger UI draws each one as a link inside the operation's toggle button, a
    # nested control that screen readers cannot reach (axe-core's nested-interactive).
    # Its "agate" code colours fall below 4.5:1; "idea" is its light theme, which passes.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "syntaxHighlight": {"activated": True, "theme": "idea"}},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The bearer scheme comes from its authentication extension (tracker/api/authentication.py), once.
    # One enum component per list of values, named once, whichever serializer uses it.
    "ENUM_NAME_OVERRIDES": {
        "ScaleEnum": "tracker.records.models.SCALE_CHOICES",
        "ModalityEnum": "tracker.records.models.Modality",
        "RoleEnum": "tracker.records.models.Role",
        "StaffRoleEnum": "tracker.records.models.STAFF_ROLE_CHOICES",
        "TimingEnum": "tracker.records.models.Timing",
        "FlagLevelEnum": "tracker.records.models.FlagLevel",
        "StateEnum": "scoring.STATES",
        "SeverityEnum": "scoring.SEVERITIES",
        "ResponseEnum": "scoring.RESPONSES",
        "EventTypeEnum": "scoring.EVENT_TYPES",
        "SignalEnum": "projections.math.signals.SIGNALS",
    },
    # Response fields the API always sends are required in the schema; null where it may send null.
    "COMPONENT_NO_READ_ONLY_REQUIRED": False,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tracker.api.schema.require_page_members",
        "tracker.api.schema.keep_literal_dollars",
    ],
}

# Error answers under /api/ are RFC 9457 problem details whose ``type`` is this base followed by the
# problem's code (tracker/api/errors.py). An identifier, not necessarily a page: keep it stable.
PROBLEM_TYPE_BASE_URL = env("PROBLEM_TYPE_BASE_URL", "https://depression-tracker.example/problems/")

# Largest request body accepted (bytes); a larger one is answered 413 before parsing.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Deepest JSON nesting accepted in a request body (the API's deepest is 2: an object of lists).
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 16)

# --- Exports run by the workers (tracker/reports/exports.py) -------------------------------
# Where export jobs write their files: a directory the web servers and the workers share.
EXPORT_DIR = Path(env("EXPORT_DIR", str(BASE_DIR / "var" / "exports")) or "")
EXPORT_TTL_HOURS = env_int("EXPORT_TTL_HOURS", 24)
# A response CSV estimated above this many rows is answered 202 and built by a worker: streamed
# in the request it would run into the web server's timeout (gunicorn.conf.py).
EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 15_000)

# A database outage is a 503 with Retry-After; one log line per interval at most (per process).
DB_OUTAGE_RETRY_AFTER_SECONDS = env_int("DB_OUTAGE_RETRY_AFTER_SECONDS", 5)
DB_OUTAGE_LOG_INTERVAL_SECONDS = env_int("DB_OUTAGE_LOG_INTERVAL_SECONDS", 10)

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en"
# Messages people read (API errors, progress texts, reminders) ship in these languages; the choice is the
# request's Accept-Language, else the patient's own locale, else English.
LANGUAGES = [("en", "English"), ("es", "Español")]
# One catalogue per layer that writes messages (installed apps' own ``locale/`` folders are found too).
LOCALE_PATHS = [
    BASE_DIR / "tracker" / "api" / "locale",
    BASE_DIR / "tracker" / "reports" / "locale",
    BASE_DIR / "tracker" / "web" / "locale",
    BASE_DIR / "tracker" / "records" / "locale_safety",
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "tracker" / "web" / "static"]
# WhiteNoise serves the collected files (``manage.py collectstatic``) in production, compressed; outside
# production it serves them from the apps' folders, so that nothing needs collecting first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Content-Security-Policy (django-csp 4): no inline script or style, nothing from elsewhere ----
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI's icons are data: URLs in its stylesheet
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Security (production) ----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Dashboard sessions: as long as a staff token at most, ended by 30 idle minutes and by closing the browser.
SESSION_MAX_AGE_SECONDS = env_int("SESSION_MAX_AGE_SECONDS", 12 * 60 * 60)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = SESSION_MAX_AGE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging: never health data -------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tracker.config.log_filters.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
