"""Pages name who holds a run: a self-hosted runner by its name and boot, never its raw holder.

The raw lease holder of a self-hosted runner process is ``runner:<runner id>:<boot id>``. The run
page (its facts and its attempts), the run list and the queue on Admin → Runners show the
runner's name, linked to its row on Admin → Runners, and the short boot id; a cloud worker
keeps its worker name. A run given back to the queue part-way shows as queued, not running.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reqflo.runners.leases import lease_take
from reqflo.runners.models import SelfHostedRunner
from reqflo.runs.models import Run, RunStatus
from tests.conftest import ClientAs
from tests.runners.test_self_hosted_protocol import BOOT, _beat, _call, _claim, _dispatch
from tests.runs.fixtures import MakeScenario, Scenario

pytestmark = pytest.mark.django_db

RAW = re.compile(r"runner:[0-9a-f-]{36}")


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario()


def _held(scenario: Scenario) -> tuple[str, SelfHostedRunner, Run]:
    from reqflo.runners.selfhosted import runner_register

    issued = runner_register(workspace=scenario.workspace, by=scenario.owner, name="vpn-eu-1")
    run = _dispatch(scenario)
    job = _claim(issued.key).json()["job"]
    _beat(issued.key, job)
    return issued.key, issued.runner, run


def _link(runner: SelfHostedRunner) -> str:
    return f'href="{reverse("runners:runners")}#runner-{runner.pk}"'


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_the_run_page_and_the_queue_name_the_runner_and_its_boot(
    scenario: Scenario, client_as: ClientAs, persona: str
) -> None:
    _key, runner, run = _held(scenario)
    client = client_as(persona)

    page = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    queue = client.get(reverse("runners:runners")).content.decode()

    for body in (page, queue):
        assert not RAW.search(body), "no raw holder"
        assert _link(runner) in body
        assert f"boot <code>{BOOT[:8]}</code>" in body
    facts = page[page.index('data-testid="run-holder"') :][:400]
    assert "vpn-eu-1" in facts
    attempts = page[page.index('data-testid="attempts"') :][:1500]
    assert "vpn-eu-1" in attempts
    assert _link(runner) in attempts
    assert f'id="runner-{runner.pk}"' in queue, "the link's target: the runner's row"
    row = queue[queue.index(f'data-run="{run.pk}"') :][:1500]
    assert "vpn-eu-1" in row
    assert "Running" in row


def test_a_cloud_worker_keeps_its_worker_name(scenario: Scenario, client_as: ClientAs) -> None:
    run = scenario.dispatch()
    lease = lease_take(run_id=run.pk, holder="celery@box-7 pool-2")
    assert lease is not None

    page = client_as("owner").get(reverse("runs:detail", args=[run.pk])).content.decode()

    assert "worker <span" in page
    assert "<code>celery@box-7</code>" in page, "the run's holder"
    assert "<code>celery@box-7 pool-2</code>" in page, "the attempt's holder"


def test_a_run_given_back_to_the_queue_shows_queued_everywhere(
    scenario: Scenario, client_as: ClientAs
) -> None:
    key, _runner, run = _held(scenario)
    released = _call(key, f"/runs/{run.pk}/release", {"token": 1, "attempt": 1, "boot_id": BOOT})
    assert released.json() == {"released": True}
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING, "its row keeps running"
    client = client_as("viewer")

    page = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    history = client.get(reverse("runs:list")).content.decode()
    queue = client.get(reverse("runners:runners")).content.decode()
    journeys = client.get(reverse("journeys:journey_list")).content.decode()

    header = page[page.index('data-testid="run-status-header"') :][:60]
    assert ">Queued<" in header
    assert "run-status-queued" in page
    assert ">Running<" not in page
    waiting = page[page.index('data-testid="run-waiting"') :][:200]
    assert "given back to the queue after step 0 of 3" in waiting
    assert "waiting for a self-hosted runner to resume it" in waiting
    for body in (history, queue):
        row = body[body.index(str(run.pk)[:8]) - 400 :][:1500]
        assert ">Queued<" in row
        assert ">Running<" not in row
    assert 'data-run-status="queued"' in journeys
    row = queue[queue.index(f'data-run="{run.pk}"') :][:1500]
    assert 'data-testid="queue-holder">—' in row, "nobody holds it"


def test_a_run_given_back_is_queued_for_filters_and_the_api_too(
    scenario: Scenario, client_as: ClientAs
) -> None:
    """The history's status filter (page and API), and the API's run, progress and list, agree
    with what the pages show: the given-back run is queued, not running; a held one running."""
    from django.test import Client

    from reqflo.api.services import api_token_create

    key, _runner, run = _held(scenario)
    held = scenario.dispatch()
    assert lease_take(run_id=held.pk, holder="celery@box-7") is not None
    released = _call(key, f"/runs/{run.pk}/release", {"token": 1, "attempt": 1, "boot_id": BOOT})
    assert released.json() == {"released": True}
    token = api_token_create(user=scenario.owner, workspace=scenario.workspace, name="t").key
    api = Client(headers={"Authorization": f"Bearer {token}"})
    page = client_as("viewer")

    def listed(status: str) -> set[str]:
        runs = api.get("/api/v1/runs", {"status": status}).json()["runs"]
        body = page.get(reverse("runs:list"), {"status": status}).content.decode()
        on_page = {str(r.pk) for r in (run, held) if str(r.pk)[:8] in body}
        on_api = {r["id"] for r in runs}
        assert on_page == on_api, (status, on_page, on_api)
        return on_api

    assert listed("queued") == {str(run.pk)}
    assert listed("running") == {str(held.pk)}
    assert api.get(f"/api/v1/runs/{run.pk}").json()["status"] == "queued"
    assert api.get(f"/api/v1/runs/{held.pk}").json()["status"] == "running"
    progress = api.get(f"/api/v1/runs/{run.pk}/progress", {"seen_status": "queued"}).json()
    assert progress["status"] == "queued"
