"""Everything a run or batch page shows about its state follows the state, live and on load.

When a run ends, its poll answers the header, facts, evidence, attempts and buttons again, out
of band, with the steps; the buttons of every page match the object's state (a finished batch
offers no Cancel); a cancelled batch's children count as cancelled, never as failed.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from reqflo.runners.execution import run_execute
from reqflo.runners.services import batch_cancel, batch_dispatch, run_cancel, run_dispatch
from reqflo.runs.models import Run, RunBatch, Trigger
from tests.api.conftest import ApiClient, TokenFor, token_for
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario, Target
from tests.runs.pages import PAGES_JOURNEY, SECRET_INPUT, finished_batch, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("slow_heartbeat")]

__all__ = ["token_for"]  # fixtures


@pytest.fixture
def scenario(make_scenario: MakeScenario, target: Target) -> Scenario:
    return make_scenario(PAGES_JOURNEY)


def _poll_url(page_html: str, section: str) -> str:
    """Return the URL the page's ``section`` polls, as the browser would request it."""
    found = re.search(rf'<section id="{section}"[^>]* hx-get="([^"]+)"', page_html)
    assert found, f"{section} does not poll"
    return html.unescape(found.group(1))


def _oob_ids(body: str) -> set[str]:
    return set(re.findall(r'id="([\w-]+)"[^>]*hx-swap-oob="true"', body))


def test_the_poll_that_sees_the_run_end_updates_every_part_that_changed(
    client_as: ClientAs, scenario: Scenario
) -> None:
    run = queued_run(scenario)
    client = client_as("editor")
    page = client.get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    assert "Cancel run" in page
    assert "Re-run" not in page
    url = _poll_url(page, "run-live")

    # Nothing changed yet: the poll answers the live part only, cheaply.
    quiet = client.get(url, headers={"HX-Request": "true"})
    assert quiet.status_code == 200
    assert _oob_ids(quiet.content.decode()) == set()

    run_execute(run_id=run.pk)
    run.refresh_from_db()
    final = client.get(url, headers={"HX-Request": "true"})
    assert final.status_code == 286  # polling stops
    body = final.content.decode()
    assert body.lstrip().startswith('<section id="run-live"')
    assert _oob_ids(body) == {"run-header", "run-facts", "run-actions"}
    header = body[body.index('id="run-header"') :]
    assert 'data-testid="run-status-header">Failed<' in header
    assert timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M:%S") in body
    assert 'data-testid="run-duration">—<' not in body
    assert "and the run's head" in body
    assert 'data-testid="attempts"' in body
    assert "Re-run" in body
    assert "Cancel run" not in body
    assert 'data-testid="download-junit"' in body
    assert "Compare with the last passed run" not in body  # no passed run to compare with
    assert SECRET_INPUT not in body


def test_a_poll_sees_a_cancel_requested_elsewhere_and_drops_the_cancel_button(
    client_as: ClientAs, scenario: Scenario, personas: dict[str, User | None]
) -> None:
    run = queued_run(scenario)
    Run.objects.filter(pk=run.pk).update(
        status="running",
        started_at=timezone.now(),
        lease_holder="w1@host",  # a worker holds it
    )
    client = client_as("editor")
    page = client.get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    url = _poll_url(page, "run-live")
    owner = personas["owner"]
    assert owner is not None
    run_cancel(run=Run.objects.get(pk=run.pk), by=owner)
    body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "run-actions" in _oob_ids(body)
    assert "Cancel run" not in body
    assert "cancelling…" in body


def _page(client_as: ClientAs, persona: str, name: str, **kwargs: object) -> str:
    return client_as(persona).get(reverse(name, kwargs=kwargs)).content.decode()


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer"])
def test_every_run_page_offers_the_buttons_its_state_allows(
    client_as: ClientAs, scenario: Scenario, persona: str, personas: dict[str, User | None]
) -> None:
    acts = persona != "viewer"
    queued = queued_run(scenario)
    text = _page(client_as, persona, "runs:detail", run_id=queued.pk)
    assert ("Cancel run" in text, "Re-run" in text) == (acts, False)

    scheduled = run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.SCHEDULE,
        inputs={"password": SECRET_INPUT},
    ).run
    run_execute(run_id=scheduled.pk)
    text = _page(client_as, persona, "runs:detail", run_id=scheduled.pk)
    assert ("Cancel run" in text, "Re-run" in text) == (False, acts)

    owner = personas["owner"]
    assert owner is not None
    cancelled = run_cancel(run=queued, by=owner)  # queued: it ends now
    assert cancelled.is_finished
    text = _page(client_as, persona, "runs:detail", run_id=queued.pk)
    assert ("Cancel run" in text, "Re-run" in text) == (False, acts)


def _batch(scenario: Scenario, rows: int = 3) -> RunBatch:
    return batch_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        rows=[{"password": f"{SECRET_INPUT}-{n}"} for n in range(rows)],
        trigger=Trigger.EDITOR,
    ).batch


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer"])
def test_a_batch_offers_cancel_only_while_it_can_be_cancelled(
    client_as: ClientAs, scenario: Scenario, persona: str, personas: dict[str, User | None]
) -> None:
    acts = persona != "viewer"
    unfinished = _batch(scenario)
    assert (
        "Cancel batch" in _page(client_as, persona, "runs:batch", batch_id=unfinished.pk)
    ) is acts
    owner = personas["owner"]
    assert owner is not None
    batch_cancel(batch=unfinished, by=owner)
    assert "Cancel batch" not in _page(client_as, persona, "runs:batch", batch_id=unfinished.pk)
    done = finished_batch(scenario, rows=2)
    assert "Cancel batch" not in _page(client_as, persona, "runs:batch", batch_id=done.pk)


def test_the_batch_poll_that_sees_it_end_drops_cancel_in_place(
    client_as: ClientAs, scenario: Scenario
) -> None:
    batch = _batch(scenario, rows=2)
    client = client_as("editor")
    page = client.get(reverse("runs:batch", kwargs={"batch_id": batch.pk})).content.decode()
    assert "Cancel batch" in page
    url = _poll_url(page, "batch-live")
    assert _oob_ids(client.get(url, headers={"HX-Request": "true"}).content.decode()) == set()
    for child in Run.objects.filter(batch=batch):
        run_execute(run_id=child.pk)
    final = client.get(url, headers={"HX-Request": "true"})
    assert final.status_code == 286
    body = final.content.decode()
    assert _oob_ids(body) == {"batch-actions"}
    assert "Cancel batch" not in body
    assert 'data-testid="batch-junit"' in body


def test_a_cancelled_batch_counts_its_children_as_cancelled_on_the_page_and_the_api(
    client_as: ClientAs,
    scenario: Scenario,
    personas: dict[str, User | None],
    token_for: TokenFor,
) -> None:
    batch = _batch(scenario, rows=6)
    owner = personas["owner"]
    assert owner is not None
    batch_cancel(batch=batch, by=owner)
    text = _page(client_as, "viewer", "runs:batch", batch_id=batch.pk)
    counts = re.search(r'data-testid="batch-counts">([^<]+)<', text)
    assert counts is not None
    assert counts.group(1) == "0 passed · 0 failed · 6 cancelled"
    out = ApiClient(f"Bearer {token_for('viewer')}").get(f"/batches/{batch.pk}").json()
    assert out["status"] == "cancelled"
    assert out["counts"] == {"cancelled": 6}
