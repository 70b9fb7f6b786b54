"""The connection check of Admin → Runners against real Celery workers and real brokers.

Workers are real processes on RabbitMQ, each test on a queue of its own (``workers.py``); they
stamp their heartbeat every second here, so a killed worker goes stale after three seconds.
Each outcome is asserted in the words the owner reads on the page.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.fixtures import Settings

from reqflo.celery import app as celery_app
from reqflo.core.models import Workspace
from reqflo.runners.config import runner_config_for
from reqflo.runners.models import WorkerHeartbeat
from reqflo.runners.settings_services import runner_config_update
from reqflo.runs.models import Run, RunStatus
from tests.conftest import ClientAs
from tests.runners.workers import (
    Workers,
    _reset_broker_pools,
    filesystem_workers,
    finished,
    region,
    wait_for,
    workers,
)
from tests.runs.fixtures import ONE_SLOW_STEP, MakeScenario, Target

__all__ = ["filesystem_workers", "region", "workers"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def fast_heartbeats(settings: Settings, workers: Workers) -> Workers:
    """Workers stamping every second; the page counts a worker stale after three."""
    settings.REQFLO_WORKER_HEARTBEAT_SECONDS = 1
    workers.env["REQFLO_WORKER_HEARTBEAT_SECONDS"] = "1"
    return workers


@pytest.fixture
def on_region(workspace: Workspace, owner: User, region: str) -> str:
    runner_config_update(
        config=runner_config_for(workspace_id=workspace.pk), by=owner, region=region
    )
    return runner_config_for(workspace_id=workspace.pk).queue


def _live_row(queue: str) -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.filter(queues__contains=[queue], stopped_at__isnull=True).first()


def _wait_for_heartbeat(queue: str) -> WorkerHeartbeat:
    wait_for(lambda: _live_row(queue) is not None, timeout=60, what=f"a heartbeat on {queue}")
    row = _live_row(queue)
    assert row is not None
    return row


def _check(client_as: ClientAs, persona: str = "owner") -> str:
    response = client_as(persona).post(reverse("runners:check"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert body.lstrip().startswith('<div id="connection"')
    return body


def test_a_live_worker_is_listed_and_answers_a_real_round_trip(
    client_as: ClientAs, fast_heartbeats: Workers, on_region: str
) -> None:
    fast_heartbeats.start(concurrency=2)
    worker = _wait_for_heartbeat(on_region)
    assert worker.pool_size == 2
    assert worker.queues == [on_region]
    body = _check(client_as, "owner")
    assert body.count("✓ OK") == 3, body
    assert "The broker at amqp://guest:**@127.0.0.1:5672// accepts connections." in body
    assert f"1 worker consumes queue {on_region}: {worker.hostname}." in body
    assert f"A ping sent to queue {on_region} was answered by {worker.hostname}." in body
    assert body.count(" ms</span>") == 3  # each part with its timing
    assert f'data-worker="{worker.hostname}"' in body  # hostname, pool size, runs, last seen
    # Editors and viewers see the status and the counts, not where the broker and workers are.
    for persona in ("editor", "viewer"):
        seen = _check(client_as, persona)
        assert seen.count("✓ OK") == 3, seen
        assert "The broker accepts connections." in seen
        assert f"1 worker consumes queue {on_region}." in seen
        assert f"A ping sent to queue {on_region} was answered." in seen
        assert worker.hostname not in seen
        assert "127.0.0.1:5672" not in seen
        for url in ("runners:status", "runners:live"):
            part = client_as(persona).get(reverse(url), headers={"HX-Request": "true"})
            assert part.status_code == 200
            assert worker.hostname not in part.content.decode()
            assert "127.0.0.1:5672" not in part.content.decode()
        live = client_as(persona).get(reverse("runners:live"), headers={"HX-Request": "true"})
        assert "1 live worker consumes" in live.content.decode()
        assert "2 pool processes" in live.content.decode()
    owner_live = client_as("owner").get(reverse("runners:live"), headers={"HX-Request": "true"})
    assert f'data-worker="{worker.hostname}"' in owner_live.content.decode()


def test_a_stopped_worker_is_reported_with_the_command_that_starts_one(
    client_as: ClientAs, fast_heartbeats: Workers, on_region: str
) -> None:
    fast_heartbeats.start()
    worker = _wait_for_heartbeat(on_region)
    fast_heartbeats.stop_all()  # SIGTERM: a clean shutdown marks the row stopped at once
    assert WorkerHeartbeat.objects.get(hostname=worker.hostname).stopped_at is not None
    body = _check(client_as)
    assert "✓ OK" in body  # the broker
    assert f"No worker consumes queue {on_region}." in body
    assert f"{worker.hostname} served it and stopped at" in body
    assert f"Start one with: celery -A reqflo worker -Q {on_region}" in body
    assert f"Not tried: no worker consumes queue {on_region}." in body


def test_a_killed_worker_goes_stale_and_is_no_longer_counted(
    client_as: ClientAs, fast_heartbeats: Workers, on_region: str
) -> None:
    proc = fast_heartbeats.start()
    worker = _wait_for_heartbeat(on_region)
    fast_heartbeats.kill(proc)  # SIGKILL: no shutdown, the stamps just stop
    wait_for(
        lambda: f"No worker consumes queue {on_region}." in _check(client_as),
        timeout=30,
        what="the killed worker's heartbeat to go stale",
    )
    body = _check(client_as)
    assert f"{worker.hostname} served it and stopped at" in body
    assert WorkerHeartbeat.objects.get(hostname=worker.hostname).stopped_at is None


def test_on_the_embedded_broker_workers_are_found_by_heartbeat_and_answer(
    client_as: ClientAs, settings: Settings, filesystem_workers: Workers, on_region: str
) -> None:
    # Remote control is off on the embedded broker: the heartbeat row is how the page finds it.
    settings.REQFLO_WORKER_HEARTBEAT_SECONDS = 1
    filesystem_workers.env["REQFLO_WORKER_HEARTBEAT_SECONDS"] = "1"
    filesystem_workers.start()
    worker = _wait_for_heartbeat(on_region)
    body = _check(client_as)
    assert body.count("✓ OK") == 3, body
    assert "The embedded broker in " in body
    assert f"/{filesystem_workers.logs.name}/broker/" in body
    assert "accepts connections." in body
    assert f"A ping sent to queue {on_region} was answered by {worker.hostname}." in body


@pytest.fixture
def unreachable_broker() -> Iterator[None]:
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = UNREACHABLE
    _reset_broker_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = saved
        _reset_broker_pools()


def test_an_unreachable_broker_is_reported_in_words(
    client_as: ClientAs, on_region: str, unreachable_broker: None
) -> None:
    body = _check(client_as)
    assert "✗ Failed" in body
    assert "The broker at amqp://guest:**@127.0.0.1:1// is unreachable:" in body
    assert "Start the broker" in body
    assert "Not tried: the broker is unreachable." in body
    # The page does not wait for the broker: its status is asked for once the page is there.
    page = html.unescape(client_as("viewer").get(reverse("runners:runners")).content.decode())
    assert 'data-testid="connection-pending"' in page
    assert "is unreachable" not in page
    assert f'hx-get="{reverse("runners:status")}" hx-trigger="load"' in page
    htmx = {"HX-Request": "true"}
    status = client_as("owner").get(reverse("runners:status"), headers=htmx).content.decode()
    assert "The broker at amqp://guest:**@127.0.0.1:1// is unreachable:" in html.unescape(status)
    status = client_as("viewer").get(reverse("runners:status"), headers=htmx).content.decode()
    assert "The broker is unreachable." in status
    assert "127.0.0.1:1" not in status


def test_a_broker_refusing_the_credentials_is_reported_in_words(
    client_as: ClientAs, on_region: str
) -> None:
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "amqp://guest:not-the-password@127.0.0.1:5672//"
    _reset_broker_pools()
    try:
        body = _check(client_as)
    finally:
        celery_app.conf.broker_url = saved
        _reset_broker_pools()
    assert "The broker at amqp://guest:**@127.0.0.1:5672// refused the connection:" in body
    assert "ACCESS_REFUSED" in body
    assert "Check the user name, password and virtual host in CELERY_BROKER_URL" in body
    assert "Not tried: the broker is unreachable." in body


def test_the_queue_shows_the_worker_holding_a_running_run(
    client_as: ClientAs,
    make_scenario: MakeScenario,
    target: Target,
    fast_heartbeats: Workers,
    region: str,
) -> None:
    target.block("/slow")
    run = make_scenario(ONE_SLOW_STEP, secret=False, region=region).dispatch()
    fast_heartbeats.start()
    worker = _wait_for_heartbeat(runner_config_for(workspace_id=run.workspace_id).queue)
    target.wait_for_hits("/slow", 1, timeout=60)
    held = Run.objects.get(pk=run.pk)
    assert (held.status, held.lease_holder) == (RunStatus.RUNNING, worker.hostname)
    wait_for(
        lambda: WorkerHeartbeat.objects.get(hostname=worker.hostname).runs_in_progress == 1,
        timeout=30,
        what="the heartbeat to count the run in progress",
    )
    live = client_as("viewer").get(reverse("runners:live"), headers={"HX-Request": "true"})
    body = live.content.decode()
    assert f'data-run="{run.pk}"' in body
    assert worker.hostname not in body  # a viewer sees "a worker"; the owner its name
    assert "a worker" in body
    owner = client_as("owner").get(reverse("runners:live"), headers={"HX-Request": "true"})
    assert f"<code>{worker.hostname}</code>" in owner.content.decode()
    assert "0 queued · 1 running" in body
    target.release("/slow")
    wait_for(finished(run), timeout=60, what="the run to finish")


def test_a_worker_busy_with_runs_is_told_apart_from_a_stuck_one(
    client_as: ClientAs,
    settings: Settings,
    make_scenario: MakeScenario,
    target: Target,
    fast_heartbeats: Workers,
    region: str,
) -> None:
    settings.REQFLO_CONNECTION_CHECK_TIMEOUT_SECONDS = 2
    target.block("/slow")
    run = make_scenario(ONE_SLOW_STEP, secret=False, region=region).dispatch()
    fast_heartbeats.start(concurrency=1)
    worker = _wait_for_heartbeat(runner_config_for(workspace_id=run.workspace_id).queue)
    target.wait_for_hits("/slow", 1, timeout=60)
    wait_for(
        lambda: WorkerHeartbeat.objects.get(hostname=worker.hostname).runs_in_progress == 1,
        timeout=30,
        what="the heartbeat to count the run in progress",
    )
    body = _check(client_as)
    assert body.count("✓ OK") == 2
    assert "No worker answered on queue" in body
    assert "is running a run (1 of 1), so the ping waits behind them" in body
    target.release("/slow")
    wait_for(finished(run), timeout=60, what="the run to finish")
