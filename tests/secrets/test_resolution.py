"""Resolution for execution: values plus the redaction set, usage events, clear errors."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from reqflo.core.models import Workspace
from reqflo.engine import compile_definition, definition_from_data, run_artifact
from reqflo.secrets import services
from reqflo.secrets.logredact import redact_logs
from reqflo.secrets.models import AuditKind, Secret, SecretAuditEvent
from reqflo.secrets.resolution import (
    SecretResolutionError,
    secrets_resolve,
    secrets_resolve_for_plan,
)
from reqflo.secrets.selectors import secret_names_in_plan
from tests.secrets.conftest import SECRET_VALUE, STAGING_VALUE, EchoHandler

pytestmark = pytest.mark.django_db


def journey(url: str = "http://127.0.0.1:1/echo") -> dict:
    return {
        "journey": {
            "name": "Checkout",
            "steps": [
                {
                    "id": "pay",
                    "request": {
                        "method": "POST",
                        "url": url + "?key={{ secrets.payments_api_key }}",
                        "headers": {
                            "X-Api-Key": "{{ secrets.payments_api_key }}",
                            "X-Trace": "tok-{{ secrets.payments_api_key }}",
                        },
                        "json": {"key": "{{ secrets.payments_api_key }}"},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        }
    }


def test_plan_references_are_found_in_a_compiled_artifact() -> None:
    artifact = compile_definition(definition_from_data(journey()))
    assert secret_names_in_plan(artifact.plan) == {"payments_api_key"}
    assert SECRET_VALUE not in artifact.to_json()


def test_resolution_returns_values_and_the_redaction_set(secret: Secret) -> None:
    resolved = secrets_resolve(
        workspace=secret.workspace, names=["payments_api_key"], environment="staging", run_id="r1"
    )
    assert resolved.values == {"payments_api_key": STAGING_VALUE}
    assert resolved.redact == frozenset({STAGING_VALUE})
    assert SECRET_VALUE not in repr(resolved)
    assert STAGING_VALUE not in repr(resolved)
    assert STAGING_VALUE not in str(resolved)


def test_every_missing_secret_is_named_before_anything_is_recorded(secret: Secret) -> None:
    with pytest.raises(SecretResolutionError) as caught:
        secrets_resolve(
            workspace=secret.workspace,
            names=["payments_api_key", "stripe_key", "github_token"],
            environment="staging",
            run_id="r1",
        )
    assert caught.value.missing == ("github_token", "stripe_key")
    assert str(caught.value) == (
        "Missing secrets github_token, stripe_key: add them in Admin → Secrets."
    )
    assert not SecretAuditEvent.objects.filter(kind=AuditKind.USED).exists()


def test_a_deleted_secret_referenced_by_a_run_is_reported_missing(secret: Secret, actor) -> None:
    services.secret_delete(secret=secret, actor=actor)
    with pytest.raises(SecretResolutionError, match=r"^Missing secret payments_api_key: "):
        secrets_resolve(
            workspace=secret.workspace, names=["payments_api_key"], environment="", run_id="r1"
        )


def test_another_workspaces_secret_is_never_resolved(
    other_workspace: Workspace, workspace: Workspace, actor
) -> None:
    services.secret_create(
        workspace=other_workspace, actor=actor, name="payments_api_key", value=SECRET_VALUE
    )
    with pytest.raises(SecretResolutionError) as caught:
        secrets_resolve(
            workspace=workspace, names=["payments_api_key"], environment="", run_id="r1"
        )
    assert caught.value.missing == ("payments_api_key",)


def test_a_corrupted_row_names_the_secret_and_says_to_rotate_it(
    secret: Secret, workspace: Workspace, actor
) -> None:
    services.secret_create(workspace=workspace, actor=actor, name="healthy", value="fine")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE secrets_secretvalue SET value = %s WHERE secret_id = %s AND environment = ''",
            [b"\x80garbage-not-a-token", secret.pk],
        )
    with pytest.raises(SecretResolutionError) as caught:
        secrets_resolve(
            workspace=workspace, names=["payments_api_key", "healthy"], environment="", run_id="r"
        )
    assert caught.value.unreadable == ("payments_api_key",)
    assert "Secret payments_api_key cannot be decrypted" in str(caught.value)
    assert "rotate it in Admin → Secrets" in str(caught.value)
    # The other secret still resolves, and rotating repairs the damaged one.
    ok = secrets_resolve(workspace=workspace, names=["healthy"], environment="", run_id="r")
    assert ok.values == {"healthy": "fine"}
    services.secret_rotate(secret=secret, actor=actor, value="repaired-value")
    repaired = secrets_resolve(
        workspace=workspace, names=["payments_api_key"], environment="", run_id="r2"
    )
    assert repaired.values == {"payments_api_key": "repaired-value"}


def test_use_is_recorded_once_per_run_and_marks_last_used(secret: Secret) -> None:
    for _ in range(2):  # a resumed run resolves again
        secrets_resolve(
            workspace=secret.workspace,
            names=["payments_api_key"],
            environment="staging",
            run_id="run_7f3a",
        )
    uses = SecretAuditEvent.objects.filter(kind=AuditKind.USED)
    assert [(u.secret_name, u.run_id, u.environment, u.actor_id) for u in uses] == [
        ("payments_api_key", "run_7f3a", "staging", None)
    ]
    assert uses[0].actor_label == "run run_7f3a"
    secret.refresh_from_db()
    assert secret.last_used_run == "run_7f3a"
    assert secret.last_used_at is not None


def test_a_run_using_the_secret_keeps_it_out_of_evidence_and_logs(
    secret: Secret, echo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    artifact = compile_definition(definition_from_data(journey(echo_url)))
    resolved = secrets_resolve_for_plan(
        workspace=secret.workspace, plan=artifact.plan, environment="", run_id="run_logs"
    )
    with redact_logs(resolved):
        logging.getLogger("reqflo").debug("resolved %r for %s", resolved, artifact)
        result = run_artifact(
            artifact, inputs={}, environment={}, secrets=resolved.values, run_id="run_logs"
        )

    # The API under test really received the value...
    assert SECRET_VALUE in EchoHandler.received[0]["headers"]["X-Api-Key"]
    assert SECRET_VALUE in EchoHandler.received[0]["body"]
    assert result.status == "passed"
    # ...and it is nowhere in what would be stored or printed.
    evidence = json.dumps(result.to_dict())
    assert SECRET_VALUE not in evidence
    assert "sk_live_Q7vX2pL9" not in evidence
    assert SECRET_VALUE not in artifact.to_json()
    # The target logged the request line (with the key in the query) in this process: masked.
    assert any(r.name == "echo" and "?key=•••••" in r.getMessage() for r in caplog.records)
    assert SECRET_VALUE not in caplog.text


def test_log_masking_ends_with_the_run(secret: Secret, caplog: pytest.LogCaptureFixture) -> None:
    resolved = secrets_resolve(
        workspace=secret.workspace, names=["payments_api_key"], environment="", run_id="r"
    )
    with redact_logs(resolved), redact_logs(resolved):
        logging.getLogger("reqflo.test").warning("inside %s", SECRET_VALUE)
    try:
        raise RuntimeError(f"boom {SECRET_VALUE}")
    except RuntimeError:
        with redact_logs(resolved):
            logging.getLogger("reqflo.test").exception("failed")
    logging.getLogger("reqflo.test").warning("after tok-%s", "plain")
    assert [r.getMessage() for r in caplog.records] == ["inside •••••", "failed", "after tok-plain"]
    assert SECRET_VALUE not in caplog.text
    assert "RuntimeError: boom •••••" in caplog.text


def test_a_dotted_name_is_referenced_with_the_quoted_form(workspace: Workspace, actor) -> None:
    services.secret_create(workspace=workspace, actor=actor, name="github.token", value="ghp_9")
    artifact = compile_definition(
        definition_from_data(
            {
                "journey": {
                    "name": "J",
                    "steps": [
                        {
                            "id": "s",
                            "request": {
                                "method": "GET",
                                "url": 'http://x/{{ secrets["github.token"] }}',
                            },
                        }
                    ],
                }
            }
        )
    )
    resolved = secrets_resolve_for_plan(
        workspace=workspace, plan=artifact.plan, environment=None, run_id="r"
    )
    assert resolved.values == {"github.token": "ghp_9"}


def test_a_badly_formatted_log_call_during_a_run_neither_raises_nor_leaks(
    secret: Secret, caplog: pytest.LogCaptureFixture
) -> None:
    resolved = secrets_resolve(
        workspace=secret.workspace, names=["payments_api_key"], environment="", run_id="r"
    )
    with redact_logs(resolved):
        logging.getLogger("reqflo.test").warning("two %s %s but one", SECRET_VALUE)
    assert caplog.records[0].getMessage() == (
        "two %s %s but one (unformatted arguments: ('•••••',))"
    )
    assert SECRET_VALUE not in caplog.text


def test_resolving_without_a_run_is_refused(secret: Secret) -> None:
    with pytest.raises(ValueError, match="needs the run_id"):
        secrets_resolve(
            workspace=secret.workspace, names=["payments_api_key"], environment="", run_id=""
        )
    assert not SecretAuditEvent.objects.filter(kind=AuditKind.USED).exists()
