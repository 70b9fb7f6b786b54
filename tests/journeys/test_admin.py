from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.journeys.conftest import MakeJourney


@pytest.mark.parametrize(
    "model", ["journey", "journeyversion", "buildartifact", "case", "environment"]
)
def test_admin_lists_render(db: None, make_journey: MakeJourney, model: str) -> None:
    make_journey()
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    assert client.get(reverse(f"admin:journeys_{model}_changelist")).status_code == 200


def test_admin_cannot_change_or_delete_a_version(db: None, make_journey: MakeJourney) -> None:
    version = make_journey().head
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    url = reverse("admin:journeys_journeyversion_change", args=[version.pk])
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page
    delete = reverse("admin:journeys_journeyversion_delete", args=[version.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
