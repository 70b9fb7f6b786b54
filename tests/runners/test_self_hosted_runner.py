"""Self-hosted runners end to end: real ``reqflo runner start`` processes against gunicorn.

Each test registers a runner, starts runner processes, dispatches runs routed to self-hosted
runners and watches them claim, checkpoint and finish through the protocol, with the Cloud
Runner's durability: fencing tokens, the digest chain and attempt records.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from reqflo.api.services import api_token_create
from reqflo.engine.digest import GENESIS, step_digest
from reqflo.runners.models import RunAttempt
from reqflo.runners.selfhosted import runner_register, runner_revoke
from reqflo.runners.services import run_cancel, run_dispatch
from reqflo.runs.models import Run, RunnerKind, RunStatus, StepResult, Trigger
from tests.cli.conftest import run_subprocess
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


def _register(scenario: Scenario, name: str, **fields: object) -> str:
    return runner_register(workspace=scenario.workspace, by=scenario.owner, name=name, **fields).key


def _attempts(run: Run) -> list[tuple[int, str]]:
    return [(a.number, a.ended_why) for a in RunAttempt.objects.filter(run=run).order_by("number")]


def test_two_runners_share_the_work_and_never_claim_one_run_twice(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    # Effective capacity is min(registered, --capacity), whichever is smaller: 2 each.
    first = runners.start(_register(scenario, "one", capacity=2), "--capacity", "3")
    second = runners.start(_register(scenario, "two"), "--capacity", "2")
    target.block("/profile")  # every run waits there until both runners hold some
    runs = [_dispatch(scenario) for _ in range(6)]
    target.wait_for_hits("/profile", 4, timeout=30)
    time.sleep(1)
    assert target.count("/profile") == 4, "neither runner held more than 2 runs"
    target.release("/profile")

    finished = [wait_finished(run, timeout=60) for run in runs]

    assert [run.status for run in finished] == [RunStatus.PASSED] * 6
    assert all(_attempts(run) == [(1, "finished")] for run in finished)
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [6, 6, 6]
    holders = {RunAttempt.objects.get(run=run).holder.split(":")[1] for run in finished}
    assert len(holders) == 2, "both runners claimed runs"
    assert "Claimed run" in first.log
    assert "Claimed run" in second.log
    first.wait_for_log("Capacity: up to 2 runs at once (registered 2, --capacity 3)")
    second.wait_for_log("Capacity: up to 2 runs at once (registered 4, --capacity 2)")
    assert "capacity 4" not in first.log


def test_a_killed_runners_run_is_resumed_by_another_without_resending_a_finished_step(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    doomed = runners.start(_register(scenario, "doomed"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)  # step 1 is stored, step 2 on the wire
    doomed.signal(signal.SIGKILL)
    doomed.wait(10)
    target.release("/profile")
    rescuer = runners.start(_register(scenario, "rescuer"))

    run = wait_finished(run, timeout=30)

    assert run.status == RunStatus.PASSED, run.error_message
    assert _attempts(run) == [(1, "worker_lost"), (2, "finished")]
    assert target.count("/login") == 1, "the stored login step was not sent again"
    assert target.count("/echo") == 1
    assert [r.attempt for r in StepResult.objects.filter(run=run)] == [1, 2, 2]
    assert _chain_holds(run)
    rescuer.wait_for_log("resuming at step 2 of 3")


def test_a_paused_runners_late_checkpoint_is_refused_and_it_stops_that_run(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    paused = runners.start(_register(scenario, "paused"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    paused.signal(signal.SIGSTOP)
    rescuer = runners.start(_register(scenario, "rescuer"))
    target.wait_for_hits("/profile", 2, timeout=30)  # the rescuer resumed at step 2
    target.release("/profile")
    run = wait_finished(run, timeout=30)
    paused.signal(signal.SIGCONT)  # wakes up with a stale lease and a finished step to store

    paused.wait_for_log(f"Run {run.pk} stopped", timeout=20)
    assert run.status == RunStatus.PASSED
    assert _attempts(run) == [(1, "worker_lost"), (2, "finished")]
    assert [r.attempt for r in StepResult.objects.filter(run=run)] == [1, 2, 2]
    assert target.count("/echo") == 1, "the paused runner sent nothing after waking"
    assert paused.proc.poll() is None, "it stopped that run, not itself"
    rescuer.wait_for_log(f"Run {run.pk} finished: passed")


def test_graceful_shutdown_releases_the_run_for_another_runner_at_once(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    leaving = runners.start(_register(scenario, "leaving"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    leaving.signal(signal.SIGTERM)
    leaving.wait_for_log("Stopping")
    target.release("/profile")  # the step in progress finishes and is stored

    assert leaving.wait(20) == 0
    assert _attempts(run) == [(1, "released")]
    assert StepResult.objects.filter(run=run).count() == 2
    runners.start(_register(scenario, "next"))
    run = wait_finished(run, timeout=20)
    assert run.status == RunStatus.PASSED
    assert _attempts(run) == [(1, "released"), (2, "finished")]
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 1, 1]
    assert f"Run {run.pk} released" in leaving.log


def test_a_revoked_runner_stops_and_its_run_is_requeued(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    issued = runner_register(workspace=scenario.workspace, by=scenario.owner, name="revoked")
    revoked = runners.start(issued.key)
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    runner_revoke(runner=issued.runner, by=scenario.owner)

    assert revoked.wait(20) == 3
    assert "token_revoked" in revoked.log
    target.release("/profile")
    runners.start(_register(scenario, "replacement"))
    run = wait_finished(run, timeout=30)
    assert run.status == RunStatus.PASSED
    assert _attempts(run) == [(1, "released"), (2, "finished")]
    assert [r.attempt for r in StepResult.objects.filter(run=run)] == [1, 2, 2]


def test_cancelling_a_run_stops_it_on_the_runner_before_its_next_request(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    runner = runners.start(_register(scenario, "busy"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    run_cancel(run=run, by=scenario.owner)
    time.sleep(1.5)  # a heartbeat tells the runner
    target.release("/profile")

    run = wait_finished(run, timeout=20)
    assert run.status == RunStatus.CANCELLED
    assert "before step 3 of 3" in run.error_message
    assert target.count("/echo") == 0
    assert _attempts(run) == [(1, "cancelled")]
    runner.wait_for_log(f"Run {run.pk} cancelled")
    assert runner.proc.poll() is None


@pytest.mark.parametrize("cloud", [["--cloud"], []], ids=["with --cloud", "--runner alone"])
def test_reqflo_run_cloud_with_runner_self_hosted_runs_on_the_runner(
    make_scenario: MakeScenario, target: Target, runners: Runners, cloud: list[str]
) -> None:
    """`--runner self_hosted` says where on the server: `--cloud` is implied (DESIGN §8)."""
    scenario = make_scenario()
    runners.start(_register(scenario, "cli"))
    key = api_token_create(user=scenario.owner, workspace=scenario.workspace, name="cli").key
    slug = scenario.version.journey.slug

    result = run_subprocess(
        "run",
        slug,
        "--env",
        "loopback",
        *cloud,
        "--runner",
        "self_hosted",
        env={"REQFLO_URL": runners.app.url, "REQFLO_TOKEN": key},
    )

    assert result.code == 0, result.stderr
    run = Run.objects.get()
    assert (run.runner_kind, run.status) == (RunnerKind.SELF_HOSTED, RunStatus.PASSED)
    assert API_KEY not in result.stdout + result.stderr


def test_the_runner_applies_the_egress_policy_to_every_request(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario(egress_allow_hosts=[])  # loopback is not on the allow-list
    runner = runners.start(_register(scenario, "strict"), "--deny-private")
    run = wait_finished(_dispatch(scenario))

    assert run.status == RunStatus.ERROR
    first = StepResult.objects.filter(run=run).order_by("index").first()
    assert first is not None
    assert "egress" in str(first.evidence).lower()
    assert target.count("/login") == 0, "nothing reached the refused address"
    assert API_KEY not in runner.log


def test_a_runner_backs_off_while_the_server_is_down_and_carries_on_when_it_is_back(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    runner = runners.start(_register(scenario, "patient"))
    runner.wait_for_log("starting")
    time.sleep(1)
    runners.app.stop()
    runner.wait_for_log("Server unreachable", timeout=30)
    runners.app.start()
    run = wait_finished(_dispatch(scenario), timeout=60)

    assert run.status == RunStatus.PASSED
    runner.wait_for_log("Server reachable again")
