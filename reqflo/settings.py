"""Reqflo settings, read from the environment in one place.

With nothing set, Reqflo runs on the *embedded default*: SQLite (WAL) and a file-based Celery
broker (``reqflo/broker.py``) under ``var/``, with keys generated there on first start. Setting
``DATABASE_URL`` switches to production mode, where every key must be given explicitly. Bad
values fail loudly at import time with the variable's name, never later with a confusing error.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from reqflo import broker

# Lets classes subscript Django's generics at run time (``ModelAdmin[Secret]``) for mypy --strict.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable's value, or ``default`` when it is unset."""
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """Return a boolean variable; anything but a clear yes/no is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return an integer variable of at least ``minimum``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _key_file(path: Path, what: str) -> str:
    """Return the key stored in ``path``, creating it (and saying so) on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Write with owner-only permissions: these files are the embedded default's keys.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    print(f"reqflo: created {what} in {path} (embedded default; keep this file)", file=sys.stderr)
    return key


# --- Mode ------------------------------------------------------------------------------------

VAR_DIR = Path(env_str("REQFLO_VAR_DIR") or BASE_DIR / "var").resolve()
DATABASE_URL = env_str("DATABASE_URL", "") or ""
# The embedded default is "no database configured": one machine, files under var/.
EMBEDDED = DATABASE_URL == ""


def _private_var_dir(folder: Path) -> None:
    """Keep the embedded default's files to their owner: var/ 0700, new files 0600.

    var/ holds the SQLite database (with its -wal and -shm files), the broker's messages, Celery
    beat's schedule and the keys. The folder's mode alone already bars other users from every
    file in it, including ones made by an older version; the umask keeps new files private too,
    whichever library creates them.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    os.umask(0o077)


if EMBEDDED:
    _private_var_dir(VAR_DIR)

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set.")
    SECRET_KEY = _key_file(VAR_DIR / "secret_key", "a Django SECRET_KEY")

# The secrets store has its own key so that rotating SECRET_KEY never loses a stored secret.
REQFLO_SECRETS_KEY = env_str("REQFLO_SECRETS_KEY") or ""
if not REQFLO_SECRETS_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured(
            "REQFLO_SECRETS_KEY must be set when DATABASE_URL is set: it encrypts the secret store."
        )
    REQFLO_SECRETS_KEY = _key_file(VAR_DIR / "secrets_key", "the secret store key")
# Checked here as well as by the secrets app's system check, because gunicorn and Celery workers
# start without running system checks.
if len(REQFLO_SECRETS_KEY) < 32:
    raise ImproperlyConfigured(
        f"REQFLO_SECRETS_KEY is {len(REQFLO_SECRETS_KEY)} characters long; use at least 32 random "
        "characters (see docs/operations.md)."
    )
CRYPTOGRAPHY_KEY = REQFLO_SECRETS_KEY

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if EMBEDDED or DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this server answers to.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The demo target API ("demo shop") that the sample journeys call; never on in production.
REQFLO_DEMO_TARGET = env_bool("REQFLO_DEMO_TARGET", default=EMBEDDED)

# --- Applications ----------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    # django-ninja's API browser served from our static files (its default is a CDN, which the
    # Content-Security-Policy refuses).
    "ninja",
    "reqflo.core",
    "reqflo.demo",
    "reqflo.secrets",
    "reqflo.journeys",
    "reqflo.runs",
    "reqflo.runners",
    "reqflo.schedules",
    "reqflo.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Under /api/v1/, an unknown address or a wrong method is answered as JSON too.
    "reqflo.api.errors.JsonErrorsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "reqflo.core.middleware.HtmxVaryMiddleware",
    "reqflo.core.middleware.CurrentWorkspaceMiddleware",
    "reqflo.core.middleware.NoStoreMiddleware",
    "reqflo.core.middleware.DjangoAdminGateMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reqflo.urls"
WSGI_APPLICATION = "reqflo.wsgi.application"

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
                "reqflo.core.context_processors.workspace",
            ],
        },
    }
]

# --- Database --------------------------------------------------------------------------------


def _database(url: str) -> dict[str, Any]:
    """Return the default database for ``url``, or the embedded SQLite file in WAL mode."""
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "reqflo.sqlite3",
            "OPTIONS": {
                # WAL lets the web server, worker and sweeper read while one of them writes;
                # IMMEDIATE transactions take the write lock up front instead of failing midway.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    scheme = urlparse(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {scheme!r} is not supported; use postgres://user@host:5432/name."
        )
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if config["ENGINE"].endswith("postgresql"):
        # A transaction left open (a frozen worker mid-checkpoint) holds its row locks only this
        # long; the server then ends its session (docs/deployment.md). 0 turns it off.
        idle = env_int("REQFLO_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", 60, minimum=0)
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"-c idle_in_transaction_session_timeout={idle * 1000}"
    return config


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The journey editor posts every field of every step at once (a 200-step journey is ~3,000
# fields); Django's default of 1,000 would reject large journeys with a 400.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 50_000

# --- Caches ----------------------------------------------------------------------------------

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The demo shop keeps carts and orders here. Files, not process memory, so every gunicorn
    # worker sees the same carts; sized so a data-driven run of thousands of rows is never culled.
    "demo": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "demo-shop",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
    # Rendered panels of stored step results (runs/partials/step.html): evidence never changes
    # once stored, so a step's HTML is kept by run, index and digest (a few KB each).
    "evidence": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "evidence",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 5_000},
    },
}

# --- Auth, i18n, static ----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"
# Invitation links stay valid this long.
REQFLO_INVITATION_DAYS = env_int("REQFLO_INVITATION_DAYS", 7, minimum=1)
# JSON API requests per token and minute (django-ninja's throttle, over the default cache).
REQFLO_API_RATE_PER_MINUTE = env_int("REQFLO_API_RATE_PER_MINUTE", 600, minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve static files straight from STATICFILES_DIRS when collectstatic has not run
# (the embedded default and tests); production runs collectstatic and serves the manifest.
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG
if EMBEDDED or DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    # WhiteNoise warns on every start when STATIC_ROOT is missing, though finders serve the files.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Security (production) -------------------------------------------------------------------

# Behind a reverse proxy that terminates TLS and appends the client to X-Forwarded-For.
REQFLO_BEHIND_PROXY = env_bool("REQFLO_BEHIND_PROXY", default=False)
# The Django admin (/django-admin/) is a maintenance tool, off unless turned on.
REQFLO_DJANGO_ADMIN = env_bool("REQFLO_DJANGO_ADMIN", default=False)

# Sign-in throttling (django-axes): failures count per account and per client address; either
# reaching the limit locks it out for the cool-off time, whatever password comes next.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("REQFLO_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("REQFLO_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Not axes' reset: it deletes every failure from the signing-in address, so an attacker with an
# account of their own could sign in between guesses and never reach either limit. A successful
# sign-in clears only that account's own failures (``reqflo.core.throttle``).
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_CALLABLE = "reqflo.core.throttle.login_username"
AXES_CLIENT_IP_CALLABLE = "reqflo.core.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "reqflo.core.throttle.locked_out"
AXES_VERBOSE = False
# axes logs each sign-in with its path; an invitation link's token is kept out of it.
AXES_CLIENT_STR_CALLABLE = "reqflo.core.request_log.axes_client_str"

# Content-Security-Policy (django-csp): the app's own static files only; no inline scripts or
# styles, no eval, no framing. Images may also be data: URLs (the empty favicon).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# TLS terminates at the reverse proxy; these follow it (see docs/deployment.md).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
if REQFLO_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery ----------------------------------------------------------------------------------


def _broker(url: str) -> tuple[str, dict[str, Any]]:
    """Return the broker URL and its transport options (``reqflo.broker`` under var/ by default)."""
    if not url or urlparse(url).scheme == broker.SCHEME:
        return f"{broker.SCHEME}://localhost//", {
            **broker.broker_folders(VAR_DIR / "broker"),
            # The default of 1 s would make every dispatch wait; 50 ms keeps runs snappy.
            "polling_interval": 0.05,
        }
    scheme = urlparse(url).scheme
    if scheme in {"amqp", "amqps", "pyamqp"}:
        return url, {"confirm_publish": True}
    if scheme in {"redis", "rediss"}:
        # Must exceed the longest time a message can stay unacknowledged (reference/durability.md).
        return url, {"visibility_timeout": 3 * CELERY_TASK_TIME_LIMIT}
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL scheme {scheme!r} is not supported; use amqp:// (RabbitMQ), redis://, "
        f"or leave it unset for the embedded broker under {VAR_DIR / 'broker'}."
    )


CELERY_TASK_SOFT_TIME_LIMIT = env_int("REQFLO_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
broker.register()
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = _broker(env_str("CELERY_BROKER_URL", "") or "")
# Remote control (pidbox broadcasts) is traffic a polling file broker does not need; nothing in
# Reqflo uses it (the connection check is a task answered through the database).
CELERY_WORKER_ENABLE_REMOTE_CONTROL = not CELERY_BROKER_URL.startswith(broker.SCHEME)
# PostgreSQL is the source of truth for run state; the broker only says "work on run X".
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker connection drop must not cost the runs in flight an attempt: the database lease
# decides who owns a run, and a redelivered message finds the lease held (docs/cloud-runner.md).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 8.0
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env_str("REQFLO_DEFAULT_QUEUE", "reqflo") or "reqflo"
REQFLO_SWEEPER_INTERVAL_SECONDS = env_int("REQFLO_SWEEPER_INTERVAL_SECONDS", 5, minimum=1)
# Cloud run leases (docs/cloud-runner.md): a worker that stops heartbeating loses its run after
# the lease; heartbeats renew it several times per lease so one slow renewal never loses it.
REQFLO_RUN_LEASE_SECONDS = env_int("REQFLO_RUN_LEASE_SECONDS", 30, minimum=2)
REQFLO_RUN_HEARTBEAT_SECONDS = env_int(
    "REQFLO_RUN_HEARTBEAT_SECONDS", max(1, REQFLO_RUN_LEASE_SECONDS // 6), minimum=1
)
# Self-hosted runners long-poll for claims, each poll holding a server thread: at most this many
# wait at once per web process; the others come back later (docs/self-hosted-runners.md).
REQFLO_RUNNER_LONG_POLLS = env_int("REQFLO_RUNNER_LONG_POLLS", 4, minimum=0)
# A web process that serves self-hosted runners marks itself up every half heartbeat, so a lease
# that ran out while the server was down is not taken for a lost runner (runners/servermark.py).
REQFLO_RUNNER_SERVER_MARK = env_bool("REQFLO_RUNNER_SERVER_MARK", default=True)
# A worker retries a write whose database connection dropped, with the same lease token, for
# this long before it ends its attempt as an infrastructure fault (reqflo/runners/dbretry.py).
REQFLO_DB_RETRY_SECONDS = env_int("REQFLO_DB_RETRY_SECONDS", 60, minimum=1)
# Attempts ended by infrastructure faults do not count against a workspace's max attempts;
# this many of them in one run and it ends "error", saying so.
REQFLO_RUN_MAX_INFRASTRUCTURE_FAULTS = env_int(
    "REQFLO_RUN_MAX_INFRASTRUCTURE_FAULTS", 10, minimum=1
)
# Every worker process stamps its row (Admin → Runners) this often; three missed stamps and
# the page no longer counts it. The connection check's round trip waits this long at most.
REQFLO_WORKER_HEARTBEAT_SECONDS = env_int("REQFLO_WORKER_HEARTBEAT_SECONDS", 5, minimum=1)
REQFLO_CONNECTION_CHECK_TIMEOUT_SECONDS = env_int(
    "REQFLO_CONNECTION_CHECK_TIMEOUT_SECONDS", 10, minimum=1
)
# Where `make run` serves the app (the Procfile binds gunicorn to it); the demo workspace's
# `demo` environment points at the demo shop there.
REQFLO_BIND = env_str("REQFLO_BIND", "127.0.0.1:8000") or "127.0.0.1:8000"
# Cloud runs may not call private, loopback or link-local addresses unless this is on or the host
# is on the workspace's egress allow-list. On by default only in the embedded default, a
# single-machine install whose demo shop lives on loopback.
REQFLO_EGRESS_ALLOW_PRIVATE = env_bool("REQFLO_EGRESS_ALLOW_PRIVATE", default=EMBEDDED)
REQFLO_SWEEPER_TASK = "reqflo.runners.tasks.sweep_expired_runs"
# The run sweeper re-queues runs whose lease expired (DESIGN.md section 6, docs/cloud-runner.md).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "sweep-expired-runs": {
        "task": REQFLO_SWEEPER_TASK,
        "schedule": float(REQFLO_SWEEPER_INTERVAL_SECONDS),
        # A sweep still waiting when the next one is due is pointless: drop it.
        "options": {"expires": float(REQFLO_SWEEPER_INTERVAL_SECONDS)},
    }
}
# Schedules (docs/schedules.md): beat sends one tick this often; the tick dispatches every due
# schedule once (the database decides what is due, not beat) and publishes due alerts.
REQFLO_SCHEDULES_TICK_SECONDS = env_int("REQFLO_SCHEDULES_TICK_SECONDS", 10, minimum=1)
REQFLO_SCHEDULES_TASK = "reqflo.schedules.tasks.tick"
# Settled ticks are deleted this many days after their due time (the runs stay in the history);
# at least 8, since uptime looks 7 days back.
REQFLO_SCHEDULE_TICKS_KEEP_DAYS = env_int("REQFLO_SCHEDULE_TICKS_KEEP_DAYS", 30, minimum=8)
CELERY_BEAT_SCHEDULE["schedules-tick"] = {
    "task": REQFLO_SCHEDULES_TASK,
    "schedule": float(REQFLO_SCHEDULES_TICK_SECONDS),
    "options": {"expires": float(REQFLO_SCHEDULES_TICK_SECONDS)},
}
# Alerts are sent by their own task on their own queue (the Procfile's `alerts` worker), so a
# slow webhook never holds the tick. `-alerts`, not `.alerts`: no region can name it.
REQFLO_ALERTS_TASK = "reqflo.schedules.tasks.deliver_alert"
REQFLO_ALERTS_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-alerts"
CELERY_TASK_ROUTES = {REQFLO_ALERTS_TASK: {"queue": REQFLO_ALERTS_QUEUE}}

# Editor sends (runs of unsaved content, with a draft artifact each) are pruned: each journey
# and user keeps the newest REQFLO_SENDS_KEEP finished sends, none older than
# REQFLO_SENDS_MAX_AGE_HOURS (after every send for its journey, and hourly for all; issue 15).
REQFLO_SENDS_KEEP = env_int("REQFLO_SENDS_KEEP", 10, minimum=1)
REQFLO_SENDS_MAX_AGE_HOURS = env_int("REQFLO_SENDS_MAX_AGE_HOURS", 24, minimum=1)
REQFLO_SENDS_PRUNE_TASK = "reqflo.runners.tasks.prune_sends"
CELERY_BEAT_SCHEDULE["prune-editor-sends"] = {
    "task": REQFLO_SENDS_PRUNE_TASK,
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Links in alerts point here (the address people open the app at).
REQFLO_BASE_URL = env_str("REQFLO_BASE_URL", f"http://{REQFLO_BIND}") or f"http://{REQFLO_BIND}"

# Alert email: SMTP settings from the environment in production (Django's EMAIL_* names); the
# embedded default writes each message to a file under var/mail instead of sending it.
_MAIL_BACKEND = "filebased" if EMBEDDED else "smtp"
EMAIL_BACKEND = (
    env_str("EMAIL_BACKEND", "") or f"django.core.mail.backends.{_MAIL_BACKEND}.EmailBackend"
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "reqflo@localhost") or "reqflo@localhost"

# --- Logging ---------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # A 403 is one line (no traceback), and no URL token reaches a line (reqflo.core.request_log).
    "filters": {"request": {"()": "reqflo.core.request_log.RequestLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.request": {"filters": ["request"]},
        "django.security": {"filters": ["request"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
