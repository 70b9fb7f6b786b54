from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from pytest_django.fixtures import Settings

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


def test_the_demo_environment_follows_the_port_make_run_serves_on(
    db: None, settings: Settings
) -> None:
    settings.REQFLO_BIND = "127.0.0.1:8123"
    call_command("seed_demo", stdout=StringIO())
    environment = Environment.objects.get(workspace__slug="demo", name="demo")
    assert environment.base_url == "http://127.0.0.1:8123/demo-shop/api"

    settings.REQFLO_BIND = "0.0.0.0:9000"  # started again, listening everywhere
    call_command("seed_demo", stdout=StringIO())
    environment.refresh_from_db()
    assert environment.base_url == "http://127.0.0.1:9000/demo-shop/api"

    # A URL the owner set by hand is theirs: seeding again leaves it alone.
    Environment.objects.filter(pk=environment.pk).update(base_url="https://shop.example.test/api")
    call_command("seed_demo", stdout=StringIO())
    environment.refresh_from_db()
    assert environment.base_url == "https://shop.example.test/api"
