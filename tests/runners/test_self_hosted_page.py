"""Admin → Runners, self-hosted part: register, rotate and revoke (owners), the list (everyone).

Every action against every persona: owner, editor, viewer, a member of another workspace (its
runners are a 404 to them) and anonymous. The token is shown once, stored hashed, and every
change is in the runner settings' change log.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.runners.models import RunnerConfigChange, SelfHostedRunner
from reqflo.runners.protocol import clean_presence, runner_seen
from reqflo.runners.selfhosted import runner_register
from reqflo.runners.settings_services import describe_change
from tests.conftest import ClientAs

pytestmark = pytest.mark.django_db

PAGE = "runners:runners"
REGISTER = "runners:self_hosted_register"
NEW = {"name": "vpn-eu-1", "labels": "vpn, EU", "capacity": "3"}


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 403), ("viewer", 403), ("anonymous", 302)],
)
def test_only_owners_register_runners(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).post(reverse(REGISTER), NEW)

    assert response.status_code == status
    assert SelfHostedRunner.objects.exists() == (status == 200)


def test_an_owner_of_another_workspace_registers_in_their_own(
    client_as: ClientAs, workspace: Workspace, other_workspace: Workspace
) -> None:
    client_as("outsider").post(reverse(REGISTER), NEW)

    assert SelfHostedRunner.objects.get().workspace == other_workspace


def test_the_token_is_shown_once_and_stored_hashed(
    client_as: ClientAs, workspace: Workspace
) -> None:
    owner = client_as("owner")
    response = owner.post(reverse(REGISTER), NEW)
    body = response.content.decode()
    runner = SelfHostedRunner.objects.get()
    start = body.index("rqr_", body.index('data-testid="runner-token"'))
    key = body[start : start + 47]

    assert runner.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # The token once, as the environment variable the runner reads (never on a command line).
    assert f"export REQFLO_RUNNER_TOKEN={key}\nreqflo runner start --url http://testserver<" in body
    assert body.count(key) == 1
    assert "--token" not in body
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert (runner.name, runner.labels, runner.capacity) == ("vpn-eu-1", ["eu", "vpn"], 3)
    assert key not in owner.get(reverse(PAGE)).content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM runners_selfhostedrunner")
        assert key not in repr(cursor.fetchall())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Give the runner a name"),
        ("capacity", "0", "Capacity must be between 1 and 256."),
        ("capacity", "many", "Capacity must be a whole number of runs."),
        ("labels", "ok,not ok", "Label “not ok” may use only letters"),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(
    client_as: ClientAs, field: str, value: str, message: str
) -> None:
    response = client_as("owner").post(reverse(REGISTER), {**NEW, field: value})

    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not SelfHostedRunner.objects.exists()


def test_a_taken_name_is_refused(client_as: ClientAs, workspace: Workspace, owner: User) -> None:
    runner_register(workspace=workspace, by=owner, name="vpn-eu-1")

    response = client_as("owner").post(reverse(REGISTER), NEW)

    assert response.status_code == 400
    assert "already registered" in response.content.decode()


@pytest.fixture
def registered(workspace: Workspace, owner: User) -> SelfHostedRunner:
    return runner_register(workspace=workspace, by=owner, name="vpn-1", labels=["vpn"]).runner


@pytest.mark.parametrize("action", ["self_hosted_rotate", "self_hosted_revoke"])
@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 403), ("viewer", 403), ("outsider", 404), ("anonymous", 302)],
)
def test_only_owners_rotate_and_revoke_their_workspaces_runners(
    client_as: ClientAs, registered: SelfHostedRunner, action: str, persona: str, status: int
) -> None:
    old_hash = registered.key_hash
    response = client_as(persona).post(reverse(f"runners:{action}", args=[registered.pk]))

    if action == "self_hosted_revoke" and status == 200:
        assert response.status_code == 302
    else:
        assert response.status_code == status
    after = SelfHostedRunner.objects.get(pk=registered.pk)
    changed = after.key_hash != old_hash or after.revoked_at is not None
    assert changed == (status == 200)


def test_changes_are_recorded_in_the_change_log(
    client_as: ClientAs, registered: SelfHostedRunner
) -> None:
    owner = client_as("owner")
    owner.post(reverse("runners:self_hosted_rotate", args=[registered.pk]))
    owner.post(reverse("runners:self_hosted_revoke", args=[registered.pk]))

    described = [
        (v.label, v.old, v.new)
        for change in RunnerConfigChange.objects.order_by("created_at")
        for v in describe_change(change)
    ]
    assert described[0] == ("Self-hosted runner", "—", "registered vpn-1 (vpn; capacity 4)")
    assert described[1][2].startswith("token rqr_")
    assert described[2] == ("Self-hosted runner", "vpn-1 (vpn; capacity 4)", "revoked vpn-1")
    page = owner.get(reverse(PAGE)).content.decode()
    assert "revoked vpn-1" in page


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer"])
def test_every_member_sees_the_runners_live_status_load_and_version(
    client_as: ClientAs, registered: SelfHostedRunner, persona: str
) -> None:
    presence: Any = clean_presence(boot_id="b1", version="9.9.9", hostname="box", capacity=2)
    runner_seen(registered, presence)

    body = client_as(persona).get(reverse(PAGE)).content.decode()

    assert 'data-runner="vpn-1" data-status="online"' in body
    assert "0 / 2" in body
    assert "9.9.9" in body
    assert ("Register runner" in body) == (persona == "owner")


def test_another_workspaces_runners_are_not_listed(
    client_as: ClientAs, registered: SelfHostedRunner
) -> None:
    assert "vpn-1" not in client_as("outsider").get(reverse(PAGE)).content.decode()


def test_the_run_panel_routes_a_run_to_self_hosted_runners_by_label(
    client_as: ClientAs, make_scenario: Any
) -> None:
    from reqflo.runs.models import Run

    scenario = make_scenario()
    journey = scenario.version.journey
    panel = client_as("editor").get(reverse("dispatch:new", args=[journey.pk]))
    assert "Workspace default: Cloud Runner" in panel.content.decode()

    response = client_as("editor").post(
        reverse("dispatch:new", args=[journey.pk]),
        {
            "version": scenario.version.number,
            "environment": scenario.environment.pk,
            "runner": "self_hosted",
            "runner_labels": "vpn",
            "op": "run",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    run = Run.objects.get()
    assert (run.runner_kind, run.runner_labels) == ("self_hosted", ["vpn"])
    page = client_as("viewer").get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Self-hosted runner labelled vpn" in page


def test_the_run_panel_refuses_labels_for_the_cloud_runner(
    client_as: ClientAs, make_scenario: Any
) -> None:
    scenario = make_scenario()
    response = client_as("editor").post(
        reverse("dispatch:new", args=[scenario.version.journey.pk]),
        {
            "version": scenario.version.number,
            "environment": scenario.environment.pk,
            "runner": "cloud",
            "runner_labels": "vpn",
            "op": "run",
        },
    )

    assert response.status_code == 400
    assert "Labels pick self-hosted runners" in response.content.decode()
