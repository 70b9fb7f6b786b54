"""Self-hosted runners end to end: real ``reqflo runner start`` processes against gunicorn.

Each test registers a runner, starts runner processes, dispatches runs routed to self-hosted
runners and watches them claim, checkpoint and finish through the protocol, with the Cloud
Runner's durability: fencing tokens, the digest chain and attempt records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reqflo.engine.digest import GENESIS, step_digest
from reqflo.runners.models import RunAttempt
from reqflo.runners.selfhosted import runner_register
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunnerKind, RunStatus, StepResult, Trigger
from tests.runners.self_hosted import Runners, live_app, runners, wait_finished
from tests.runs.fixtures import API_KEY, TOKEN, MakeScenario, Scenario, Target

__all__ = ["live_app", "runners"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _dispatch(scenario: Scenario, **route: object) -> Run:
    return run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        runner=str(route.get("runner", "self_hosted")),
        runner_labels=route.get("labels"),  # type: ignore[arg-type]
    ).run


def _chain_holds(run: Run) -> bool:
    head = GENESIS
    for row in StepResult.objects.filter(run=run).order_by("index"):
        head = step_digest(
            head,
            run_id=str(run.pk),
            index=row.index,
            step_id=row.step_id,
            status=row.status,
            evidence=row.evidence,
        )
        if head != row.digest:
            return False
    return head == run.head_digest


def _files_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_a_runner_claims_a_routed_run_checkpoints_every_step_and_finishes_it(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    issued = runner_register(
        workspace=scenario.workspace, by=scenario.owner, name="vpn-1", labels=["vpn"]
    )
    runner = runners.start(issued.key)
    run = _dispatch(scenario)
    assert run.runner_kind == RunnerKind.SELF_HOSTED

    run = wait_finished(run)

    assert run.status == RunStatus.PASSED, run.error_message
    assert [r.status for r in StepResult.objects.filter(run=run)] == ["passed"] * 3
    assert _chain_holds(run)
    attempt = RunAttempt.objects.get(run=run)
    assert attempt.holder.startswith(f"runner:{issued.runner.pk}:")
    assert attempt.ended_why == "finished"
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 1, 1]
    runner.wait_for_log(f"Run {run.pk} finished: passed")
    # The secret and the secret output reached the target, never the runner's files or output.
    for value in (API_KEY, TOKEN, issued.key):
        assert value not in runner.log
        assert value not in _files_text(runner.cwd)
