from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from reqflo.journeys.models import Environment, Journey


def test_seed_demo_creates_the_checkout_journey_and_demo_environment_once(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: nothing is duplicated
    journey = Journey.objects.get(workspace__slug="demo", slug="checkout")
    assert journey.name == "Checkout flow"
    assert journey.head_number == 1
    assert len(journey.head.document["journey"]["steps"]) == 5
    environment = Environment.objects.get(workspace__slug="demo", name="demo")
    assert environment.base_url == "http://127.0.0.1:8000/demo-shop/api"
