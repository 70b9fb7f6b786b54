"""Cloud runs on real Celery worker processes over RabbitMQ against a real loopback target.

The sweeper is called by the test (as beat would) while it waits, so recovery is driven by the
same code path as in production, on a clock the test controls through short leases.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from pytest_django.fixtures import Settings

from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.secrets.crypto import StoreCipher, UndecryptableValue
from tests.runners.workers import (
    LEASE_SECONDS,
    Workers,
    filesystem_workers,
    finished,
    region,
    wait_for,
    workers,
)
from tests.runs.fixtures import API_KEY, ONE_SLOW_STEP, TOKEN, MakeScenario, Target

__all__ = ["filesystem_workers", "region", "workers"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _dump(run: Run) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM runs_run t WHERE id = %s", [run.pk])
        rows = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT row_to_json(t)::text FROM runs_stepresult t WHERE run_id = %s", [run.pk]
        )
        rows += [r[0] for r in cursor.fetchall()]
    return "\n".join(rows)


def _step_tokens(run: Run) -> list[tuple[int, str, int]]:
    return list(
        StepResult.objects.filter(run=run)
        .order_by("index")
        .values_list("index", "status", "lease_token")
    )


def test_a_worker_runs_three_steps_to_passed_and_the_secret_stays_out_of_db_and_logs(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    run = make_scenario(region=region).dispatch()
    workers.start()
    wait_for(finished(run), timeout=60, what="the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert _step_tokens(run) == [(0, "passed", 1), (1, "passed", 1), (2, "passed", 1)]
    assert target.seen_keys[0] == API_KEY
    dump = _dump(run)
    assert API_KEY not in dump
    assert TOKEN not in dump
    workers.stop_all()
    log = workers.log_text()
    assert f"Run {run.pk} step 3/3 echo: passed" in log  # the log was captured
    assert API_KEY not in log
    assert TOKEN not in log


def test_the_embedded_filesystem_broker_runs_the_same_durable_path(
    make_scenario: MakeScenario, target: Target, filesystem_workers: Workers, region: str
) -> None:
    run = make_scenario(region=region).dispatch()
    filesystem_workers.start()
    wait_for(finished(run), timeout=60, what="the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert _step_tokens(run) == [(0, "passed", 1), (1, "passed", 1), (2, "passed", 1)]


def _run_whose_worker_died_after_login(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> Run:
    """A run whose worker was killed in step 2: step 1 (login, its token sealed) checkpointed."""
    target.block("/profile")
    run = make_scenario(region=region).dispatch()
    first = workers.start()
    target.wait_for_hits("/profile", 1, timeout=60)
    workers.kill(first)
    target.release("/profile")
    assert _step_tokens(run) == [(0, "passed", 1)]
    return run


def test_a_killed_worker_is_replaced_and_the_run_resumes_after_its_last_checkpoint(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    run = _run_whose_worker_died_after_login(make_scenario, target, workers, region)
    workers.start()
    wait_for(finished(run), timeout=60, what="the resumed run to finish", tick=runs_sweep)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert run.attempts == 2
    # Login ran once: the resumed profile step used the token from the encrypted checkpoint.
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 2, 1]
    assert _step_tokens(run) == [(0, "passed", 1), (1, "passed", 2), (2, "passed", 2)]


def test_a_run_that_keeps_killing_its_worker_ends_in_error_after_max_attempts(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    target.block("/profile")
    run = make_scenario(region=region, max_attempts=2).dispatch()
    worker = workers.start()
    for attempt in (1, 2):
        wait_for(
            lambda n=attempt: target.count("/profile") >= n,  # type: ignore[misc]
            timeout=60,
            what=f"attempt {attempt} to reach the profile step",
            tick=runs_sweep,
        )
        workers.kill_pool_child(worker)
    wait_for(finished(run), timeout=60, what="the run to give up", tick=runs_sweep)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith("Gave up after 2 attempts: the worker was lost each time")
    assert "step 2 of 3" in run.error_message
    assert target.count("/profile") == 2
    assert _step_tokens(run) == [(0, "passed", 1)]


def test_a_concurrency_limit_of_one_never_lets_two_runs_overlap(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    target.slow_seconds = 0.6
    scenario = make_scenario(ONE_SLOW_STEP, secret=False, region=region, concurrency_limit=1)
    runs = [scenario.dispatch(), scenario.dispatch()]
    workers.start(concurrency=2)
    for run in runs:
        wait_for(finished(run), timeout=60, what="both runs to finish")
        run.refresh_from_db()
        assert run.status == RunStatus.PASSED, run.error_message
    hits = sorted(target.hits, key=lambda h: h.started)
    assert len(hits) == 2
    assert hits[0].finished <= hits[1].started, "the two runs overlapped"


def test_heartbeats_keep_the_lease_of_a_step_longer_than_the_lease(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    target.slow_seconds = LEASE_SECONDS + 1.5
    run = make_scenario(ONE_SLOW_STEP, secret=False, region=region).dispatch()
    workers.start(concurrency=2)  # a free process would take over a lease that lapsed
    # The sweeper runs all along: without heartbeats it would take the run away mid-step.
    wait_for(finished(run), timeout=60, what="the slow run to finish", tick=runs_sweep)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert run.attempts == 1
    assert target.count("/slow") == 1


def test_a_paused_worker_that_wakes_after_losing_its_lease_writes_nothing(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    target.block("/profile")
    run = make_scenario(region=region).dispatch()
    zombie = workers.start()
    target.wait_for_hits("/profile", 1, timeout=60)
    workers.pause(zombie)
    target.release("/profile")  # its answer waits in the paused worker's socket
    workers.start()
    wait_for(finished(run), timeout=60, what="the second worker to finish", tick=runs_sweep)
    workers.resume(zombie)
    wait_for(
        # Its heartbeat or its checkpoint finds the token stale, whichever runs first.
        lambda: f"Stopped working on run {run.pk}: run {run.pk}" in workers.log_text(),
        timeout=30,
        what="the woken worker to give up",
    )
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert _step_tokens(run) == [(0, "passed", 1), (1, "passed", 2), (2, "passed", 2)]
    assert target.count("/profile") == 2


def test_a_run_resumes_after_the_store_key_was_rotated_and_the_old_key_dropped(
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """The login step's checkpoint holds the secret token; the key rotates while the run waits."""
    run = _run_whose_worker_died_after_login(make_scenario, target, workers, region)
    sealed_before = bytes(StepResult.objects.get(run=run, index=0).checkpoint)

    old_key, new_key = settings.REQFLO_SECRETS_KEY, "rotated-store-key-" + "k7" * 16
    (tmp_path / "new.key").write_text(new_key)
    out = StringIO()
    call_command("rotate_secrets_key", new_key_file=str(tmp_path / "new.key"), stdout=out)
    assert "1 checkpoint(s) of the unfinished runs" in out.getvalue()
    # The old key is gone everywhere: this process and the worker that resumes the run.
    settings.REQFLO_SECRETS_KEY = new_key
    workers.env["REQFLO_SECRETS_KEY"] = new_key
    sealed_after = bytes(StepResult.objects.get(run=run, index=0).checkpoint)
    assert sealed_after != sealed_before
    with pytest.raises(UndecryptableValue):
        StoreCipher(old_key).decrypt(sealed_after)
    assert TOKEN in StoreCipher(new_key).decrypt(sealed_after)

    workers.start()
    wait_for(finished(run), timeout=60, what="the resumed run to finish", tick=runs_sweep)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert run.attempts == 2
    # Login ran once: the resumed step used the token from the re-sealed checkpoint.
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 2, 1]
    assert TOKEN not in _dump(run)
    assert API_KEY not in _dump(run)
