"""Editor sends are pruned: each journey and user keeps its newest finished sends, none older
than the age limit; their results and draft artifacts go with them, nothing else does (issue 15).

Real sends (the send service, executed in process as a worker does against a loopback target)
in PostgreSQL, with the immutability triggers in place.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from reqflo.journeys.models import BuildArtifact
from reqflo.runners.execution import run_execute
from reqflo.runners.sends import sends_prune, step_send
from reqflo.runs import triggers
from reqflo.runs.models import Run, RunStatus, StepResult, Trigger
from tests.runs.fixtures import THREE_STEPS, MakeScenario, Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(make_scenario: MakeScenario, settings: Settings) -> Scenario:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    settings.REQFLO_SENDS_KEEP = 2
    return make_scenario()


def _send(scenario: Scenario, *, finish: bool = True) -> Run:
    run = step_send(
        version=scenario.version,
        document=THREE_STEPS,
        step_index=0,
        environment=scenario.environment,
        triggered_by=scenario.owner,
    ).run
    if finish:
        run_execute(run_id=run.pk)
        run.refresh_from_db()
        assert run.status in (RunStatus.PASSED, RunStatus.FAILED), run.error_message
    return run


def test_the_send_trigger_the_database_lets_go_is_the_apps() -> None:
    assert Trigger.SEND.value == triggers.SEND


def test_a_journeys_sends_past_the_newest_few_go_with_their_results_and_drafts(
    scenario: Scenario,
) -> None:
    kept_run = scenario.dispatch()  # a run of the journey, not a send
    run_execute(run_id=kept_run.pk)
    sends = [_send(scenario) for _ in range(4)]
    # Each send prunes its journey's finished sends as it is made: the newest 2 finished
    # ones and the new one (not finished when it pruned) remain.
    remaining = set(Run.objects.filter(trigger=Trigger.SEND).values_list("pk", flat=True))
    assert remaining == {run.pk for run in sends[1:]}
    assert sends_prune() == 1  # now sends[1] is third newest
    assert set(Run.objects.filter(trigger=Trigger.SEND).values_list("pk", flat=True)) == {
        run.pk for run in sends[2:]
    }
    gone = [sends[0].pk, sends[1].pk]
    assert not StepResult.objects.filter(run_id__in=gone).exists()
    drafts = BuildArtifact.objects.filter(version__isnull=True)
    assert set(drafts.values_list("pk", flat=True)) == {run.artifact_id for run in sends[2:]}
    # The journey's own run and its version's artifact are untouched.
    kept_run.refresh_from_db()
    assert kept_run.status == RunStatus.PASSED
    assert StepResult.objects.filter(run=kept_run).count() == 3
    assert BuildArtifact.objects.filter(pk=kept_run.artifact_id).exists()


def test_old_sends_go_unfinished_ones_stay(scenario: Scenario) -> None:
    finished = _send(scenario)
    running = _send(scenario, finish=False)
    later = timezone.now() + timedelta(days=2)
    assert sends_prune(now=later, max_age=timedelta(hours=24)) == 1
    assert list(Run.objects.filter(trigger=Trigger.SEND).values_list("pk", flat=True)) == [
        running.pk
    ]
    assert not BuildArtifact.objects.filter(pk=finished.artifact_id).exists()
    assert BuildArtifact.objects.filter(pk=running.artifact_id).exists()
    assert sends_prune(now=later) == 0  # nothing more to do


def _raw(sql: str, *params: object) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def test_the_database_still_refuses_deleting_any_other_finished_run_or_artifact(
    scenario: Scenario,
) -> None:
    run = scenario.dispatch()
    run_execute(run_id=run.pk)
    send = _send(scenario)
    for sql, key in (
        ("DELETE FROM runs_stepresult WHERE run_id = %s", run.pk),
        ("DELETE FROM runs_run WHERE id = %s", run.pk),
        ("DELETE FROM journeys_buildartifact WHERE id = %s", run.artifact_id),
        ("UPDATE runs_run SET error_message = 'x' WHERE id = %s", send.pk),
        ("UPDATE runs_stepresult SET status = 'failed' WHERE run_id = %s", send.pk),
        ("UPDATE journeys_buildartifact SET plan = '' WHERE id = %s", send.artifact_id),
    ):
        with pytest.raises(IntegrityError, match="immutable"):
            _raw(sql, key)
    # A draft a run still names cannot go either (the run's foreign key, checked now rather
    # than at commit, where Django's constraints are deferred to).
    with pytest.raises(IntegrityError):
        _raw(
            "SET CONSTRAINTS ALL IMMEDIATE; DELETE FROM journeys_buildartifact WHERE id = %s",
            send.artifact_id,
        )
