"""Admin → Runners: who may see and change what, settings validation, the change log, the queue.

The connection check against real workers and brokers is in ``test_connection_check.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.runners.config import runner_config_for
from reqflo.runners.models import RunnerConfig, RunnerConfigChange
from reqflo.runners.settings_services import runner_config_update
from reqflo.runs.models import Run, RunStatus
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario

PAGE = "runners:runners"

VALID: dict[str, Any] = {
    "region": "eu",
    "step_timeout_seconds": "45",
    "run_timeout_seconds": "900",
    "concurrency_limit": "7",
    "retry_policy": "restart",
    "max_attempts": "4",
    "step_max_retries": "2",
    "step_max_retry_delay_seconds": "5",
    "egress_allow_hosts": "api.internal\n10.20.0.0/16\n10.0.0.5",
}


def _config(workspace: Workspace) -> RunnerConfig:
    return runner_config_for(workspace_id=workspace.pk)


def _post(client: Client, data: dict[str, Any], *, htmx: bool = False) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse(PAGE), data, headers=headers)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_page_access(
    client_as: ClientAs, workspace: Workspace, owner: User, persona: str, status: int
) -> None:
    runner_config_update(config=_config(workspace), by=owner, region="acme-only")
    response = client_as(persona).get(reverse(PAGE))
    assert response.status_code == status
    body = response.content.decode()
    if persona == "anonymous":
        assert reverse("login") in response["Location"]
    elif persona == "outsider":
        # Their own workspace's page: nothing of Acme's settings.
        assert "Globex" in body
        assert "acme-only" not in body
    else:
        assert "reqflo.acme-only" in body
        assert ("Save settings" in body) == (persona == "owner")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 403), ("viewer", 403), ("outsider", 302), ("anonymous", 302)],
)
def test_only_owners_change_settings(
    client_as: ClientAs,
    workspace: Workspace,
    other_workspace: Workspace,
    persona: str,
    status: int,
) -> None:
    response = _post(client_as(persona), VALID)
    assert response.status_code == status
    acme = _config(workspace)
    assert (acme.region == "eu") == (persona == "owner")
    if persona == "editor":
        assert "You need the owner role" in response.content.decode()
    if persona == "outsider":
        # The outsider changed Globex, their own workspace, and nothing of Acme.
        assert _config(other_workspace).region == "eu"


def test_owner_saves_settings_and_the_change_is_recorded_old_to_new(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    client = client_as("owner")
    response = _post(client, VALID)
    assert response.status_code == 302
    config = _config(workspace)
    assert config.queue.endswith(".eu")
    assert (config.step_timeout_seconds, config.run_timeout_seconds) == (45, 900)
    assert (config.concurrency_limit, config.retry_policy, config.max_attempts) == (7, "restart", 4)
    assert (config.step_max_retries, config.step_max_retry_delay_seconds) == (2, 5)
    assert config.egress_allow_hosts == ["api.internal", "10.20.0.0/16", "10.0.0.5"]
    change = RunnerConfigChange.objects.get(workspace=workspace)
    assert change.changed_by == owner
    assert change.changes["concurrency_limit"] == {"old": 5, "new": 7}
    assert change.changes["region"] == {"old": "", "new": "eu"}
    page = client.get(reverse(PAGE)).content.decode()
    assert "Cloud Runner settings saved" in page
    assert "Concurrency limit: 5 → 7" in page
    assert "Step timeout: 30 s → 45 s" in page
    assert "Region: (default) → eu" in page
    assert "owner@acme.test" in page


def test_saving_the_same_settings_again_records_nothing(
    client_as: ClientAs, workspace: Workspace
) -> None:
    client = client_as("owner")
    _post(client, VALID)
    response = _post(client, VALID, htmx=True)
    assert response.status_code == 200
    assert "Nothing changed" in response.content.decode()
    assert RunnerConfigChange.objects.filter(workspace=workspace).count() == 1


def test_htmx_save_answers_the_settings_fragment_with_the_change(client_as: ClientAs) -> None:
    response = _post(client_as("owner"), {**VALID, "region": ""}, htmx=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="runner-settings"')
    assert "<html" not in body
    assert "Max attempts: 3 → 4" in body
    assert 'id="messages" class="messages" role="status" hx-swap-oob="true"' in body


def test_a_new_region_reloads_the_page_it_changes(client_as: ClientAs) -> None:
    # The region decides the page's queue, workers and check: htmx loads it again.
    response = _post(client_as("owner"), VALID, htmx=True)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(PAGE)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("region", "EU West", "Region “EU West” may use only lower-case letters"),
        ("step_timeout_seconds", "0", "Step timeout must be between 1 s and 3600 s."),
        ("step_timeout_seconds", "ten", "Step timeout must be a whole number."),
        ("run_timeout_seconds", "", "Run timeout is required."),
        ("run_timeout_seconds", "20", "Run timeout (20 s) must be at least the step timeout"),
        ("concurrency_limit", "0", "Concurrency limit must be between 1 and 1000."),
        ("max_attempts", "21", "Max attempts must be between 1 and 20."),
        ("retry_policy", "sometimes", "Select a valid choice"),
        (
            "egress_allow_hosts",
            "api.internal\nhttps://x.test/",
            "Entry 2, “https://x.test/”, is a URL",
        ),
        (
            "egress_allow_hosts",
            "10.0.0.1/8",
            "Entry 1, “10.0.0.1/8”, has host bits set; the network is written 10.0.0.0/8",
        ),
        ("egress_allow_hosts", "db.internal:5432", "Entry 1, “db.internal:5432”, has a port"),
        (
            "egress_allow_hosts",
            "bad_host.test",
            "Entry 1, “bad_host.test”, is not a valid host name",
        ),
        ("egress_allow_hosts", "*.internal", "Entry 1, “*.internal”, has a wildcard"),
        ("egress_allow_hosts", "10.0.0.300", "Entry 1, “10.0.0.300”, is not a valid IPv4 address"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_the_field(
    client_as: ClientAs, workspace: Workspace, field: str, value: str, message: str
) -> None:
    data = {**VALID, field: value}
    for htmx in (False, True):
        response = _post(client_as("owner"), data, htmx=htmx)
        assert response.status_code == 400
        body = response.content.decode()
        assert message in body.replace("&#x27;", "'").replace("&quot;", '"'), body
        assert f'id="id_{field}"' in body  # the form is shown again, the value kept
    assert _config(workspace).region == ""
    assert not RunnerConfigChange.objects.exists()


def test_the_service_refuses_bad_values_and_saves_nothing(
    workspace: Workspace, owner: User
) -> None:
    config = _config(workspace)
    with pytest.raises(ValidationError) as caught:
        runner_config_update(
            config=config,
            by=owner,
            concurrency_limit=True,
            egress_allow_hosts=["ok.test", "10.0.0.0/33"],
            region="eu",
        )
    errors = caught.value.message_dict
    assert errors["concurrency_limit"] == ["Concurrency limit must be a whole number."]
    assert errors["egress_allow_hosts"] == [
        "Entry 2, “10.0.0.0/33”, is not a CIDR network (write it like 10.20.0.0/16 or fd00::/8)."
    ]
    config.refresh_from_db()
    assert config.region == ""
    with pytest.raises(TypeError, match="does not know"):
        runner_config_update(config=config, by=owner, colour="blue")


def test_viewers_read_the_settings_in_words(client_as: ClientAs) -> None:
    _post(client_as("owner"), VALID)
    body = client_as("viewer").get(reverse(PAGE)).content.decode()
    assert "Only owners change these settings." in body
    assert f'action="{reverse(PAGE)}"' not in body
    assert "Restart from the first step" in body
    assert "api.internal, 10.20.0.0/16, 10.0.0.5" in body


def test_the_queue_lists_the_workspace_runs_and_never_another_workspace(
    client_as: ClientAs,
    make_scenario: MakeScenario,
    other_workspace: Workspace,
) -> None:
    scenario = make_scenario()
    run = scenario.dispatch()
    running = scenario.dispatch()
    Run.objects.filter(pk=running.pk).update(
        status=RunStatus.RUNNING, attempts=2, lease_holder="worker-7@host"
    )
    response = client_as("viewer").get(reverse("runners:live"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="runners-live"')
    assert f'data-run="{run.pk}"' in body
    assert f'data-run="{running.pk}"' in body
    assert "worker-7@host" not in body  # the holder's name is the owners'
    assert 'data-testid="queue-holder">a worker</td>' in body
    assert "1 queued · 1 running" in body
    owner = client_as("owner").get(reverse("runners:live"), headers={"HX-Request": "true"})
    assert "<code>worker-7@host</code>" in owner.content.decode()
    outsider_body = client_as("outsider").get(reverse(PAGE)).content.decode()
    assert str(run.pk) not in outsider_body
    assert "0 queued · 0 running" in outsider_body

    # A run given back to the queue part-way (running, held by nobody) counts as its row
    # shows it: queued.
    Run.objects.filter(pk=running.pk).update(lease_holder="")
    body = client_as("viewer").get(reverse("runners:live"), headers={"HX-Request": "true"})
    assert "2 queued · 0 running" in body.content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_live_part_access(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).get(reverse("runners:live"), headers={"HX-Request": "true"})
    if persona == "anonymous":
        # The login redirect of an htmx poll becomes a page load, never a swapped login form.
        assert reverse("login") in response["HX-Redirect"]
        assert 'id="runners-live"' not in response.content.decode()
    else:
        assert response.status_code == status
        assert 'id="runners-live"' in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_status_part_access(client_as: ClientAs, persona: str, status: int) -> None:
    """The connection status the page asks for on arrival (each member their own workspace)."""
    response = client_as(persona).get(reverse("runners:status"), headers={"HX-Request": "true"})
    body = response.content.decode()
    if persona == "anonymous":
        assert reverse("login") in response["HX-Redirect"]
        assert "connection-report" not in body
        return
    assert response.status_code == status
    assert body.lstrip().startswith('<div id="connection"')
    assert 'data-part="broker"' in body
    assert 'data-part="workers"' in body
    assert "connection-pending" not in body
    plain = client_as(persona).get(reverse("runners:status"))
    assert plain.status_code == 302
    assert plain["Location"] == reverse(PAGE)


def test_live_part_without_htmx_goes_to_the_page(client_as: ClientAs) -> None:
    response = client_as("viewer").get(reverse("runners:live"))
    assert response.status_code == 302
    assert response["Location"] == reverse(PAGE)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_connection_check_access(client_as: ClientAs, persona: str, status: int) -> None:
    # Nobody serves this workspace's queue here, so the check answers without a round trip.
    response = client_as(persona).post(reverse("runners:check"))
    assert response.status_code == status
    if status == 200:
        assert "Not tried: no worker consumes queue" in response.content.decode()


def test_the_runners_link_is_under_admin_for_every_member(client_as: ClientAs) -> None:
    for persona in ("owner", "editor", "viewer"):
        body = client_as(persona).get(reverse("core:home")).content.decode()
        assert f'href="{reverse(PAGE)}"' in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 403), ("outsider", 404), ("anonymous", 302)],
)
def test_cancel_access(
    client_as: ClientAs, make_scenario: MakeScenario, persona: str, status: int
) -> None:
    run = make_scenario().dispatch()
    response = client_as(persona).post(reverse("runners:cancel", args=[run.pk]))
    assert response.status_code == status
    run.refresh_from_db()
    assert (run.status == RunStatus.CANCELLED) == (persona in ("owner", "editor"))
    if status == 302 and persona != "anonymous":
        assert response["Location"] == reverse(PAGE)


def test_cancel_a_queued_run_from_the_queue_with_htmx(
    client_as: ClientAs, make_scenario: MakeScenario, editor: User
) -> None:
    run = make_scenario().dispatch()
    client = client_as("editor")
    before = client.get(reverse("runners:live"), headers={"HX-Request": "true"}).content.decode()
    assert reverse("runners:cancel", args=[run.pk]) in before
    response = client.post(reverse("runners:cancel", args=[run.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="runners-live"')
    assert f"Run {str(run.pk)[:8]} cancelled before it started." in body
    assert f'data-run="{run.pk}"' not in body  # it left the queue
    run.refresh_from_db()
    assert (run.status, run.cancelled_by) == (RunStatus.CANCELLED, editor)


def test_cancel_of_a_running_run_is_a_request_the_queue_shows(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    run = make_scenario().dispatch()
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, lease_holder="w1@host")
    client = client_as("owner")
    response = client.post(reverse("runners:cancel", args=[run.pk]), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "its worker stops it before its next request" in body
    assert "cancelling…" in body
    assert reverse("runners:cancel", args=[run.pk]) not in body  # asked once is enough
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.cancel_requested_at is not None


def test_cancel_of_a_finished_run_says_why_nothing_happened(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    run = make_scenario().dispatch()
    client = client_as("owner")
    client.post(reverse("runners:cancel", args=[run.pk]))
    response = client.post(reverse("runners:cancel", args=[run.pk]), follow=True)
    assert response.status_code == 200
    assert (
        "was not cancelled: The run has already finished (cancelled)." in response.content.decode()
    )


def test_viewers_see_no_cancel_button(client_as: ClientAs, make_scenario: MakeScenario) -> None:
    run = make_scenario().dispatch()
    body = client_as("viewer").get(reverse(PAGE)).content.decode()
    assert f'data-run="{run.pk}"' in body
    assert reverse("runners:cancel", args=[run.pk]) not in body


def test_a_run_whose_worker_stopped_renewing_is_marked_in_the_queue(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    run = make_scenario().dispatch()
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        lease_holder="gone@host",
        lease_expires_at=timezone.now() - timedelta(seconds=5),
    )
    body = client_as("owner").get(reverse(PAGE)).content.decode()
    assert 'gone@host</code> <span class="muted">lease expired; the sweeper re-queues it' in body
    body = client_as("viewer").get(reverse(PAGE)).content.decode()
    assert 'a worker <span class="muted">lease expired; the sweeper re-queues it' in body
    assert "gone@host" not in body


def test_connection_check_without_javascript_answers_the_whole_page(client_as: ClientAs) -> None:
    response = client_as("viewer").post(reverse("runners:check"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert 'id="connection"' in body
    assert "Checked " in body  # the check's report, not the status on arrival


def test_the_poll_costs_the_same_queries_for_one_run_or_twenty(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario()
    scenario.dispatch()
    client = client_as("viewer")
    url = reverse("runners:live")

    def poll() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
        return len(queries)

    poll()  # the first request of a session also saves the session
    one = poll()
    for _ in range(19):
        scenario.dispatch()
    assert poll() == one
