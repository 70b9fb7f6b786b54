"""Demo data: the demo-shop "Checkout flow" journey and a ``demo`` environment.

Registered as a ``seed_demo`` step by ``JourneysConfig.ready``; safe to run again.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from reqflo.core.models import Workspace
from reqflo.core.seeding import DemoSeed
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import Environment, Journey

CHECKOUT_EXAMPLE = Path(settings.BASE_DIR) / "examples" / "checkout.yaml"
# What an earlier seed wrote: the demo shop on loopback at some port.
_SEEDED_BASE_URL = re.compile(r"http://127\.0\.0\.1:\d+/demo-shop/api")


def demo_base_url() -> str:
    """Return the demo shop's URL on the address ``make run`` serves (``REQFLO_BIND``)."""
    host, _, port = settings.REQFLO_BIND.rpartition(":")
    if host in {"", "0.0.0.0", "::", "[::]", "localhost"}:  # listening everywhere: use loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}/demo-shop/api"


def _seed_environment(workspace: Workspace) -> None:
    """Create the ``demo`` environment, or point it at this start's port if it was seeded."""
    base_url = demo_base_url()
    environment = Environment.objects.filter(workspace=workspace, name="demo").first()
    if environment is None:
        services.environment_create(workspace=workspace, name="demo", base_url=base_url, values={})
    elif environment.base_url != base_url and _SEEDED_BASE_URL.fullmatch(environment.base_url):
        # Started again with another PORT; a URL the owner changed by hand is left alone.
        services.environment_update(
            environment=environment,
            name=environment.name,
            base_url=base_url,
            values=environment.values,
        )


def seed_journeys(seed: DemoSeed) -> None:
    """Create the demo environment and the checkout journey unless they already exist."""
    workspace = seed.workspace
    _seed_environment(workspace)
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
