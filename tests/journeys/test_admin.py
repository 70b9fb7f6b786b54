from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from tests.journeys.conftest import MakeJourney


@pytest.mark.parametrize(
    "model", ["journey", "journeyversion", "buildartifact", "case", "environment"]
)
def test_admin_lists_render(db: None, make_journey: MakeJourney, model: str) -> None:
    make_journey()
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    assert client.get(reverse(f"admin:journeys_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", ["journey", "journeyversion", "case", "environment"])
def test_admin_cannot_change_or_delete_what_services_own(
    db: None, make_journey: MakeJourney, workspace: Workspace, model: str
) -> None:
    journey = make_journey()
    objects = {
        "journey": journey,
        "journeyversion": journey.head,
        "case": services.case_create(journey=journey, name="Happy", values={}),
        "environment": services.environment_create(
            workspace=workspace, name="staging", base_url="https://s.example.test", values={}
        ),
    }
    pk = objects[model].pk
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    page = client.get(reverse(f"admin:journeys_{model}_change", args=[pk])).content.decode()
    assert 'name="_save"' not in page
    delete = reverse(f"admin:journeys_{model}_delete", args=[pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert type(objects[model]).objects.filter(pk=pk).exists()
