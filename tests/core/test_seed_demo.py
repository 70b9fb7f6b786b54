"""``manage.py seed_demo``: idempotent demo workspaces and logins."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from reqflo.core.models import Membership, Role, Workspace
from reqflo.core.seeding import DEMO_PASSWORD


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_workspaces_and_prints_the_logins(db: None) -> None:
    output = _seed()
    for email in ("owner@demo.reqflo.test", "editor@demo.reqflo.test", "viewer@demo.reqflo.test"):
        assert email in output
    assert DEMO_PASSWORD in output
    demo = Workspace.objects.get(slug="demo")
    roles = dict(Membership.objects.filter(workspace=demo).values_list("user__email", "role"))
    assert roles == {
        "owner@demo.reqflo.test": Role.OWNER,
        "editor@demo.reqflo.test": Role.EDITOR,
        "viewer@demo.reqflo.test": Role.VIEWER,
    }
    assert Membership.objects.filter(user__email="owner@demo.reqflo.test").count() == 2


def test_seed_demo_twice_changes_nothing(db: None) -> None:
    _seed()
    counts = (User.objects.count(), Workspace.objects.count(), Membership.objects.count())
    _seed()
    assert (User.objects.count(), Workspace.objects.count(), Membership.objects.count()) == counts


def test_seed_demo_logins_work(db: None) -> None:
    _seed()
    client = Client()
    response = client.post(
        reverse("login"), {"username": "editor@demo.reqflo.test", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("core:home")).context["current_workspace"].name == "Demo"
