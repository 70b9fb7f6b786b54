"""No log record of any logger, at any level, carries a secret value: not while owners manage
secrets (SQL debug logging on), not while a run resolves and uses them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from reqflo.engine import compile_definition, definition_from_data, run_artifact
from reqflo.journeys.models import Environment
from reqflo.secrets.logredact import redact_logs
from reqflo.secrets.models import Secret
from reqflo.secrets.resolution import secrets_resolve_for_plan
from tests.secrets.conftest import STAGING_VALUE, EchoHandler

pytestmark = pytest.mark.django_db

CREATED = "sk_live_L0gCreated7Hq2Xw9Pz4Kd"
ROTATED = "sk_live_L0gRotated3Vb8Nm1Qa6Tc"
STAGING = "stg_L0gStaging5Jd2Ls9Wq4Ye7"
TOO_LONG = "sk_live_L0gTooLong8Rt3" + "z" * (64 * 1024)
VALUES = (CREATED, ROTATED, STAGING, "sk_live_L0gTooLong8Rt3")


@pytest.fixture
def sql_logged() -> Iterator[None]:
    """Log every SQL statement with its parameters, as DEBUG=True would."""
    connection.force_debug_cursor = True
    try:
        yield
    finally:
        connection.force_debug_cursor = False


def assert_nowhere(records: list[str]) -> None:
    for value in VALUES:
        leaks = [record[:120] for record in records if value in record]
        assert not leaks, f"a log record carries a secret value: {leaks}"


def test_managing_secrets_logs_no_value(
    every_log_record: list[str],
    sql_logged: None,
    environments: list[Environment],
    owner: User,
    login: Callable[[User | None], Client],
) -> None:
    client = login(owner)
    htmx = {"HX-Request": "true"}
    created = client.post(
        reverse("secrets:secret_create"), {"name": "payments_api_key", "value": CREATED}
    )
    assert created.status_code == 302
    secret = Secret.objects.get(name="payments_api_key")
    refused = client.post(reverse("secrets:secret_create"), {"name": "big", "value": TOO_LONG})
    assert "the limit is 64 KiB" in refused.content.decode()
    for url, data, headers in [
        ("secrets:secret_rotate", {"value": ROTATED}, htmx),
        ("secrets:secret_rotate", {"value": TOO_LONG}, {}),
        ("secrets:secret_environment_set", {"environment": "staging", "value": STAGING}, htmx),
        ("secrets:secret_environment_set", {"environment": "nope", "value": STAGING}, {}),
        ("secrets:secret_environment_clear", {"environment": "staging"}, htmx),
    ]:
        response = client.post(reverse(url, args=[secret.pk]), data, headers=headers)
        assert response.status_code in (200, 302, 400)  # 400: form errors
    assert every_log_record, "nothing was captured: the fixture is broken"
    assert any(record.startswith("django.db.backends DEBUG") for record in every_log_record)
    assert_nowhere(every_log_record)


def test_a_run_using_secrets_logs_no_value(
    every_log_record: list[str],
    sql_logged: None,
    secret: Secret,
    echo_url: str,
) -> None:
    definition = definition_from_data(
        {
            "journey": {
                "name": "Checkout",
                "steps": [
                    {
                        "id": "pay",
                        "request": {
                            "method": "POST",
                            "url": echo_url + "?key={{ secrets.payments_api_key }}",
                            "headers": {"X-Trace": "t-{{ secrets.payments_api_key }}"},
                            "json": {"key": "{{ secrets.payments_api_key }}"},
                        },
                        "assertions": [{"type": "status_code", "expected": 200}],
                    }
                ],
            }
        }
    )
    artifact = compile_definition(definition)
    # The staging value, so the per-environment path is the one exercised.
    resolved = secrets_resolve_for_plan(
        workspace=secret.workspace, plan=artifact.plan, environment="staging", run_id="run_logs"
    )
    with redact_logs(resolved):
        result = run_artifact(
            artifact, inputs={}, environment={}, secrets=resolved.values, run_id="run_logs"
        )
    assert result.status == "passed"
    # The target received the value, httpx and the target logged the URL; the log is masked.
    assert STAGING_VALUE in str(EchoHandler.received[0]["path"])
    assert any(r.startswith("httpx INFO HTTP Request: POST") for r in every_log_record)
    assert any(r.startswith("echo INFO") and "key=•••••" in r for r in every_log_record)
    for record in every_log_record:
        assert STAGING_VALUE not in record
        assert STAGING_VALUE[:12] not in record
