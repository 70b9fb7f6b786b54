"""The egress policy on the worker code path: ``run_execute`` as the task calls it.

Names are answered by a patched resolver; nothing is dialled except loopback servers.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from reqflo.engine import egress
from reqflo.runners.execution import run_execute
from reqflo.runs.models import RunStatus
from reqflo.runs.selectors import run_step_evidence
from tests.runs.fixtures import MakeScenario, Target

pytestmark = pytest.mark.django_db

ONE_STEP: dict[str, Any] = {
    "journey": {
        "name": "Reach out",
        "steps": [
            {
                "id": "call",
                "request": {"method": "GET", "url": "{{ env.target }}/echo"},
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}


@pytest.fixture(autouse=True)
def _production_policy(settings: Settings) -> None:
    settings.REQFLO_EGRESS_ALLOW_PRIVATE = False
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


def _run_against(make_scenario: MakeScenario, target_url: str) -> Any:
    scenario = make_scenario(ONE_STEP, secret=False, egress_allow_hosts=[])
    scenario.environment.values = {"target": target_url}
    scenario.environment.save()
    run = scenario.dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(
    "answer",
    [
        ["100.100.100.200"],
        ["192.0.0.192"],
        ["2002:a9fe:a9fe::"],
        ["64:ff9b::7f00:1"],
        ["2001:0:808:808::80ff:fffe"],
        ["::ffff:127.0.0.1"],
        ["127.0.0.1"],
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    ],
    ids=str,
)
def test_a_cloud_run_is_refused_every_non_public_answer_and_a_failed_lookup(
    answer: Any,
    make_scenario: MakeScenario,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def resolve(host: str, port: int) -> list[str]:
        if isinstance(answer, BaseException):
            raise answer
        return list(answer)

    monkeypatch.setattr(egress, "resolve", resolve)
    port = target.url.rsplit(":", 1)[1]
    with caplog.at_level(logging.INFO, logger="reqflo.engine.egress"):
        run = _run_against(make_scenario, f"http://api.example.test:{port}")
    assert run.status == RunStatus.ERROR
    [step] = run_step_evidence(run=run)
    error = step.attempts[-1].error
    assert error is not None
    assert "egress policy: api.example.test" in error.message
    assert target.hits == []
    if not isinstance(answer, BaseException):
        # An editor learns that the name is internal, not which internal address it has;
        # operators read it in the worker's log.
        assert "resolves to a non-public address" in error.message
        stored = _stored_rows(run.pk)
        assert "api.example.test" in stored
        address = str(ipaddress.ip_address(answer[0]))
        assert answer[0] not in stored
        assert address not in stored
        assert f"api.example.test resolves to {address}" in caplog.text


def _stored_rows(run_id: Any) -> str:
    """Return the run's row and its step results' rows as JSON text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(r)::text FROM runs_run r WHERE id = %s", [run_id])
        rows = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT row_to_json(s)::text FROM runs_stepresult s WHERE run_id = %s", [run_id]
        )
        rows += [row[0] for row in cursor.fetchall()]
    return "\n".join(rows)


def test_a_cloud_run_connects_to_the_address_it_checked_not_a_rebound_one(
    make_scenario: MakeScenario, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    dialled: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def dial(self: egress.PinningBackend, address: str, port: int, *rest: Any) -> Any:
        dialled.append(address)
        raise egress.httpcore.ConnectError("no route (test: nothing leaves loopback)")

    monkeypatch.setattr(egress, "resolve", resolve)
    monkeypatch.setattr(egress.PinningBackend, "dial", dial)
    port = target.url.rsplit(":", 1)[1]
    run = _run_against(make_scenario, f"http://rebind.example.test:{port}")
    assert run.status == RunStatus.ERROR
    assert dialled == ["93.184.216.34"], "the connection did not use the checked address"
    assert target.hits == [], "the rebinding answer reached loopback"
