"""All settings, driven by environment variables only (see the README's table)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
import dj_email_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ZTK_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key() -> str:
    """Generated once and kept in var/, so sessions survive restarts without configuration."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("ZTK_TESTING", False) or "pytest" in sys.modules
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    # First: its `createsuperuser`, `changepassword` and `axes_reset*` commands replace
    # Django's and django-axes' own, so that those writes are audited (ztk.accounts.receivers).
    "ztk.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "template_partials",
    "ztk.accounts.third_party.AxesConfig",  # django-axes, with a translated name
    "django_otp",
    "ztk.accounts.third_party.TotpConfig",  # django_otp.plugins.otp_totp, likewise
    "rules.apps.AutodiscoverRulesConfig",
    "ztk.core",
    "ztk.audit",
    "ztk.org",
    "ztk.scheduling",
    "ztk.punches",
    "ztk.attendance",
    "ztk.devices",
    "ztk.approvals",
    "ztk.corrections",
    "ztk.overtime",
    "ztk.leave",
    "ztk.hrdesk",
    "ztk.notifications",
    "ztk.reports",
    "ztk.closing",
    "ztk.oversight",
    "ztk.api",
    "ztk.web",
    "ztk.setup",
    "ztk.ops",
    # After ztk.core, whose run_huey (the same consumer, stop-aware) replaces Huey's.
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "ztk.web.metrics.RequestLatencyMiddleware",
    "ztk.api.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ztk.core.middleware.RequestContextMiddleware",
    "ztk.core.input_guard.InputGuardMiddleware",
    "ztk.core.middleware.MaintenanceModeMiddleware",
    "ztk.accounts.middleware.RequireOTPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ztk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ztk.web.context_processors.navigation",
                "ztk.notifications.context_processors.unread",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'ztk.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes every write transaction take the write lock at BEGIN, so
        # concurrent writers queue instead of failing with "database is locked" mid-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
            # Checkpoint the WAL every 20,000 pages (80 MB) instead of 1,000: a batch of
            # punches dirties the same index pages again and again, and a checkpoint
            # writes each page once (stored punches/s +45 %; request p95 unchanged).
            " PRAGMA wal_autocheckpoint=20000;"
        ),
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("ZTK_TEST_DB_NAME", "test_ztk")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work ----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY = {
    "name": "ztk",
    "immediate": env_bool("HUEY_IMMEDIATE", TESTING),
    # Task locks are leases in the database (ztk/core/leases.py), not Huey's lock_task: no
    # flush_locks, which would clear the locks of the other consumers.
    "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
}
# How long a background task's lease lasts unless renewed: a worker killed holding one
# blocks that task on every consumer for at most this long.
TASK_LEASE_SECONDS = env_int("ZTK_TASK_LEASE_SECONDS", 120)
if REDIS_URL:
    HUEY |= {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
else:
    HUEY |= {"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")}

# --- cache --------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Progress of background jobs (ztk.core.jobs): seen by the web processes and the worker, so
# shared — Redis, else files in the var directory (the worker runs on the same machine).
CACHES["jobs"] = (
    {**CACHES["default"], "KEY_PREFIX": "jobs"}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "jobs"),
    }
)

# --- accounts and security ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

OTP_REQUIRED_FOR_STAFF = env_bool("OTP_REQUIRED_FOR_STAFF", False)
OTP_TOTP_ISSUER = "ZTK Attendance"
# The admin never shows a device's secret (key, QR code): nobody but its owner, while
# setting it up, may copy someone's second factor.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SAMESITE = "Lax"
# Off by default because `make run` serves plain HTTP on 127.0.0.1; turn on behind TLS.
SECURE_COOKIES = env_bool("SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy Django sees plain HTTP: trust the proxy's
# X-Forwarded-Proto (only when the proxy sets it and clients cannot).
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Answer plain HTTP with a redirect to HTTPS (off by default: `make run` serves HTTP).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# HSTS: browsers use HTTPS only for this long once they saw it (0 = off). Start small
# (300), then a year (31536000) once HTTPS works everywhere: it cannot be taken back.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Never redirected: the /healthz probe (load balancers, monitors inside) and the terminals'
# ADMS push, which most ZKTeco firmware speaks over plain HTTP only and does not follow.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^iclock/"]

# Prometheus metrics at /metrics (ztk/web/metrics.py): answered only when this token is set,
# to a request carrying "Authorization: Bearer <token>"; without it /metrics is a 404.
# Counters are kept per process unless PROMETHEUS_MULTIPROC_DIR names a folder shared by
# the gunicorn workers of a node (docs/deployment.md).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Content-Security-Policy on every response (django-csp): scripts, styles, images and
# connections from this origin only, no inline script or style, no plugins, no framing.
# Templates keep JavaScript in static files and use classes instead of style="" (a test
# scans them); the TOTP set-up shows its QR code as a data: image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

MAINTENANCE_MODE = env_bool("MAINTENANCE_MODE", False)
# Robots and webhooks may point at this machine or the internal network (off: only public
# internet addresses are contacted; see ztk/core/webhooks.py).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# The public address of this installation, for links in emails and group-robot messages.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
MISSED_PUNCH_ALERT_HOUR = env_int("MISSED_PUNCH_ALERT_HOUR", 8)
# A batch of more new punches than this (a terminal upload, an import) has its days
# recomputed by the background drain instead of inside the request; 0: always at once.
# Tests default to 0, so their days are current when record_punches returns.
RECOMPUTE_DEFER_ABOVE = env_int("RECOMPUTE_DEFER_ABOVE", 0 if TESTING else 100)
# Queued days the drain recomputes per transaction; a stopping worker ends after the chunk.
RECOMPUTE_DRAIN_CHUNK = max(1, env_int("RECOMPUTE_DRAIN_CHUNK", 2000))
# New terminals stay pending (their punches held) until an admin approves them.
DEVICE_AUTO_APPROVE = env_bool("ZTK_DEVICE_AUTO_APPROVE", False)

# --- i18n ---------------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "ztk" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never routed: uploads are served by permission-checked views
# Small uploads stay in memory; larger ones go to a temporary file of at most 10 MB + 1 byte.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "ztk.core.uploads.CappedUploadHandler",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING or DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG

# --- email --------------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    vars().update(dj_email_url.parse(EMAIL_URL))
else:
    EMAIL_BACKEND = (
        "django.core.mail.backends.locmem.EmailBackend"
        if TESTING
        else "django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ZTK Attendance <noreply@localhost>")

# --- logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Lock-out is per account (5 failures → 15 min). Locking by IP as well would lock a whole
# office behind one NAT address, so the IP criterion is deliberately left out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
