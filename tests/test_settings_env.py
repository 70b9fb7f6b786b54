"""Settings come from the environment and fail loudly, naming the variable, on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reqflo.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/reqflo",
    "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "SECRET_KEY": "k" * 60 + "-production-like-secret-key",
    "REQFLO_SECRETS_KEY": "store-key-for-this-test-0123456789abcdef",
    "ALLOWED_HOSTS": "reqflo.example.com",
}


def _settings(env: dict[str, str], code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    clean.pop("REQFLO_DEMO_TARGET", None)
    clean.update(env, DJANGO_SETTINGS_MODULE="reqflo.settings", REQFLO_VAR_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _show(env: dict[str, str], expr: str, tmp_path: Path) -> str:
    result = _settings(env, f"from django.conf import settings as s; print({expr})", tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "REQFLO_SECRETS_KEY": ""}, "REQFLO_SECRETS_KEY must be set"),
        ({**PRODUCTION, "REQFLO_SECRETS_KEY": "short"}, "REQFLO_SECRETS_KEY is 5 characters long"),
        ({**PRODUCTION, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list"),
        ({**PRODUCTION, "DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL scheme 'mysql'"),
        ({**PRODUCTION, "CELERY_BROKER_URL": "sqs://x"}, "CELERY_BROKER_URL scheme 'sqs'"),
        ({"REQFLO_TASK_SOFT_TIME_LIMIT": "soon"}, "REQFLO_TASK_SOFT_TIME_LIMIT='soon'"),
        ({"REQFLO_SWEEPER_INTERVAL_SECONDS": "0"}, "REQFLO_SWEEPER_INTERVAL_SECONDS=0 must be"),
    ],
)
def test_bad_setting_fails_loudly_naming_the_variable(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    result = _settings(env, "pass", tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_embedded_default_creates_its_keys_once_and_says_so(tmp_path: Path) -> None:
    first = _settings({}, "from django.conf import settings as s; print(s.SECRET_KEY)", tmp_path)
    assert "created a Django SECRET_KEY" in first.stderr
    assert "created the secret store key" in first.stderr
    second = _settings({}, "from django.conf import settings as s; print(s.SECRET_KEY)", tmp_path)
    assert second.stderr == ""
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_mode_uses_postgresql_and_rabbitmq_with_confirmed_publishing(
    tmp_path: Path,
) -> None:
    out = _show(
        PRODUCTION,
        "s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL.split(':')[0], "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS, s.REQFLO_DEMO_TARGET",
        tmp_path,
    )
    assert out == "django.db.backends.postgresql amqp {'confirm_publish': True} False"


DEMO_ROUTES = "[str(p.pattern) for p in __import__('reqflo.urls', fromlist=['_']).urlpatterns]"


def test_the_demo_shop_is_mounted_in_the_embedded_default_only(tmp_path: Path) -> None:
    assert "'demo-shop/api/'" in _show({}, DEMO_ROUTES, tmp_path)
    assert "demo-shop" not in _show(PRODUCTION, DEMO_ROUTES, tmp_path)


def test_celery_is_configured_for_durable_delivery(tmp_path: Path) -> None:
    out = _show(
        PRODUCTION,
        "s.CELERY_TASK_ACKS_LATE, s.CELERY_TASK_REJECT_ON_WORKER_LOST, "
        "s.CELERY_WORKER_PREFETCH_MULTIPLIER, "
        "s.CELERY_TASK_TIME_LIMIT > s.CELERY_TASK_SOFT_TIME_LIMIT",
        tmp_path,
    )
    assert out == "True True 1 True"


def test_the_secret_store_key_is_not_the_django_secret_key(tmp_path: Path) -> None:
    # django-cryptography derives its working key from CRYPTOGRAPHY_KEY at startup.
    out = _show(PRODUCTION, "s.CRYPTOGRAPHY_KEY == s.SECRET_KEY, s.REQFLO_SECRETS_KEY", tmp_path)
    assert out == "False store-key-for-this-test-0123456789abcdef"


def test_deploy_check_is_clean_apart_from_https_settings_the_proxy_provides(
    tmp_path: Path,
) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    clean.update(PRODUCTION, DJANGO_SETTINGS_MODULE="reqflo.settings", REQFLO_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Documented in docs/deployment.md: HSTS (W004), SSL redirect (W008) and secure cookies
    # (W012, W016) are set per deployment, behind the TLS-terminating proxy.
    assert "System check identified" in result.stdout + result.stderr, result.stderr
    ids = {part.split(")")[0] for part in result.stderr.split("(security.")[1:]}
    assert ids <= {"W004", "W008", "W012", "W016"}, result.stderr


def test_beat_schedules_the_sweeper_every_interval(tmp_path: Path) -> None:
    out = _show(
        {"REQFLO_SWEEPER_INTERVAL_SECONDS": "7"},
        "s.CELERY_BEAT_SCHEDULE['sweep-expired-runs']",
        tmp_path,
    )
    assert out == (
        "{'task': 'reqflo.runners.tasks.sweep_expired_runs', 'schedule': 7.0, "
        "'options': {'expires': 7.0}}"
    )


def test_every_task_beat_sends_is_one_the_worker_knows() -> None:
    # A scheduled task no worker knows would be logged as "unregistered task" every few seconds.
    celery_app.loader.import_default_modules()
    for name, entry in celery_app.conf.beat_schedule.items():
        assert entry["task"] in celery_app.tasks, name


def test_only_the_embedded_default_lets_cloud_runs_reach_private_addresses(tmp_path: Path) -> None:
    assert _show({}, "s.REQFLO_EGRESS_ALLOW_PRIVATE", tmp_path) == "True"
    assert _show(PRODUCTION, "s.REQFLO_EGRESS_ALLOW_PRIVATE", tmp_path) == "False"
