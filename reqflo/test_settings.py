"""Test settings: the real settings on PostgreSQL, with fast password hashing."""

from __future__ import annotations

import os

# Tests run on PostgreSQL, never the embedded SQLite file; keys are fixed test values.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reqflo")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("REQFLO_SECRETS_KEY", "test-secrets-store-key-not-for-production")
os.environ.setdefault("REQFLO_DEMO_TARGET", "true")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# The Django admin's own tests need it; a test turns it off to see the production default.
os.environ.setdefault("REQFLO_DJANGO_ADMIN", "true")

from reqflo.settings import *  # noqa: F403  (the test module extends the real settings)

# No mark thread beside the tests' transactions (the live servers of tests/runners have it).
REQFLO_RUNNER_SERVER_MARK = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
