"""Demo data for ``manage.py seed_demo``: the core part, and the hook later apps extend.

``SEED_STEPS`` lists dotted paths of functions taking a ``DemoSeed``; the command calls them in
order. A later app adds its own (``"reqflo.journeys.demo.seed_journeys"``) to the list, and
each function must be idempotent: look rows up by a natural key before creating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from reqflo.core.models import Membership, Role, Workspace
from reqflo.core.services import user_create

# Documented as demo-only in the README: never seed a production database.
DEMO_PASSWORD = "reqflo-demo"


@dataclass
class DemoSeed:
    """What the core step created, for later steps to build on, plus lines to print."""

    workspace: Workspace
    second_workspace: Workspace
    owner: User
    editor: User
    viewer: User
    notes: list[str] = field(default_factory=list)


def _user(email: str) -> User:
    user = User.objects.filter(username=email).first() or user_create(email=email, password=None)
    # Reset every run, so the printed password always works.
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


def _workspace(slug: str, name: str) -> Workspace:
    workspace, _ = Workspace.objects.get_or_create(slug=slug, defaults={"name": name})
    return workspace


def _member(user: User, workspace: Workspace, role: Role) -> None:
    Membership.objects.update_or_create(user=user, workspace=workspace, defaults={"role": role})


@transaction.atomic
def seed_core() -> DemoSeed:
    """Create (or refresh) the demo workspaces and the owner, editor and viewer logins."""
    demo = _workspace("demo", "Demo")
    sandbox = _workspace("demo-sandbox", "Demo sandbox")
    owner = _user("owner@demo.reqflo.test")
    editor = _user("editor@demo.reqflo.test")
    viewer = _user("viewer@demo.reqflo.test")
    _member(owner, demo, Role.OWNER)
    _member(editor, demo, Role.EDITOR)
    _member(viewer, demo, Role.VIEWER)
    # The owner also owns a second workspace, to show the switcher.
    _member(owner, sandbox, Role.OWNER)
    return DemoSeed(
        workspace=demo, second_workspace=sandbox, owner=owner, editor=editor, viewer=viewer
    )


# Later apps append "reqflo.<app>.<module>.<function>"; each takes the DemoSeed.
SEED_STEPS: list[str] = []
