"""Demo data: the demo-shop "Checkout flow" journey and a ``demo`` environment.

Registered as a ``seed_demo`` step by ``JourneysConfig.ready``; safe to run again.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from reqflo.core.seeding import DemoSeed
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import Environment, Journey

DEMO_BASE_URL = "http://127.0.0.1:8000/demo-shop/api"
CHECKOUT_EXAMPLE = Path(settings.BASE_DIR) / "examples" / "checkout.yaml"


def seed_journeys(seed: DemoSeed) -> None:
    """Create the demo environment and the checkout journey unless they already exist."""
    workspace = seed.workspace
    if not Environment.objects.filter(workspace=workspace, name="demo").exists():
        services.environment_create(
            workspace=workspace, name="demo", base_url=DEMO_BASE_URL, values={}
        )
    if not CHECKOUT_EXAMPLE.exists():
        seed.notes.append(f"Skipped the demo journey: {CHECKOUT_EXAMPLE} is missing.")
        return
    checked = check_text(CHECKOUT_EXAMPLE.read_text(encoding="utf-8"), source="checkout.yaml")
    if Journey.objects.filter(workspace=workspace, slug=checked.definition.slug).exists():
        return
    services.journey_create(
        workspace=workspace, author=seed.editor, checked=checked, message="Demo journey"
    )
    seed.notes.append("Demo journey: Checkout flow (environment 'demo').")
