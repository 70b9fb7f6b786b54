"""Secrets and journeys together: usage on the secret's pages, and the journey editor's Run
check reporting a deleted secret as missing until it exists again."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.engine import definition_from_data, run_check
from reqflo.journeys.models import Journey
from reqflo.secrets import services
from reqflo.secrets.models import Secret
from reqflo.secrets.selectors import workspace_secret_names
from tests.secrets.conftest import publish_journey

pytestmark = pytest.mark.django_db


def run_check_errors(client: Client, journey: Journey) -> list[str]:
    """Return the error messages of the Run check panel of the journey's editor page."""
    response = client.get(reverse("journeys:journey_editor", args=[journey.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    panel = page.split('id="run-check"', 1)[1].split("</section>", 1)[0]
    return [html.unescape(m) for m in re.findall(r'issue-error"[^>]*data-message="([^"]*)"', panel)]


def test_deleting_a_referenced_secret_warns_then_the_run_check_reports_it_missing(
    secret: Secret,
    owner: User,
    editor: User,
    actor: services.Actor,
    login: Callable[[User | None], Client],
) -> None:
    checkout = publish_journey(
        secret.workspace, owner, "Checkout", "{{ secrets.payments_api_key }}"
    )
    refund = publish_journey(
        secret.workspace, owner, "Refund", "Key {{ secrets.payments_api_key }}"
    )
    other = publish_journey(secret.workspace, owner, "Health", "none")
    owner_client, editor_client = login(owner), login(editor)
    assert run_check_errors(editor_client, checkout) == []
    # Everyone sees the usage: counted in the list, linked on the secret's page.
    listing = editor_client.get(reverse("secrets:secret_list")).content.decode()
    assert "<td>2 journeys</td>" in listing
    detail = editor_client.get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
    for journey in (checkout, refund):
        url = reverse("journeys:journey_editor", args=[journey.pk])
        assert f'<a href="{url}">{journey.name}</a>' in detail
    assert "Health" not in detail

    confirm = owner_client.get(reverse("secrets:secret_delete", args=[secret.pk])).content.decode()
    assert "2 journeys reference this secret" in confirm
    for journey in (checkout, refund):
        url = reverse("journeys:journey_editor", args=[journey.pk])
        assert f'<a href="{url}">{journey.name}</a>' in confirm
    assert "Health" not in confirm

    deleted = owner_client.post(reverse("secrets:secret_delete", args=[secret.pk]), follow=True)
    assert "The Run check of 2 journey(s) now reports it missing." in deleted.content.decode()
    for journey in (checkout, refund):
        errors = run_check_errors(editor_client, journey)
        assert len(errors) == 1
        assert "payments_api_key" in errors[0]
        assert errors[0].startswith("Missing secret payments_api_key")
    assert run_check_errors(editor_client, other) == []

    # Adding the secret again (a new value) clears the Run check.
    services.secret_create(
        workspace=secret.workspace, actor=actor, name="payments_api_key", value="sk_new_value_1"
    )
    assert run_check_errors(editor_client, checkout) == []


def test_a_secret_of_another_workspace_does_not_satisfy_the_run_check(
    workspace: Workspace,
    other_workspace: Workspace,
    owner: User,
    actor: services.Actor,
    login: Callable[[User | None], Client],
) -> None:
    services.secret_create(
        workspace=other_workspace, actor=actor, name="payments_api_key", value="sk_elsewhere"
    )
    journey = publish_journey(workspace, owner, "Checkout", "{{ secrets.payments_api_key }}")
    errors = run_check_errors(login(owner), journey)
    assert len(errors) == 1
    assert errors[0].startswith("Missing secret payments_api_key")


def test_run_check_reports_a_deleted_secret_as_missing(secret: Secret, actor) -> None:
    definition = definition_from_data(
        {
            "journey": {
                "name": "J",
                "steps": [
                    {
                        "id": "s",
                        "request": {
                            "method": "GET",
                            "url": "http://x/",
                            "headers": {"X-Api-Key": "{{ secrets.payments_api_key }}"},
                        },
                    }
                ],
            }
        }
    )
    names = workspace_secret_names(secret.workspace)
    assert [i.code for i in run_check(definition, secret_names=names)] == ["no_assertions"]
    services.secret_delete(secret=secret, actor=actor)
    issues = run_check(definition, secret_names=workspace_secret_names(secret.workspace))
    missing = [i for i in issues if i.code == "missing_secret"]
    assert len(missing) == 1
    assert missing[0].message.startswith("Missing secret payments_api_key")
