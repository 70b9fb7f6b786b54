"""``manage.py seed_demo``: create the demo workspace and logins, then run the apps' seed steps."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from reqflo.core.seeding import DEMO_PASSWORD, SEED_STEPS, seed_core


class Command(BaseCommand):
    help = "Create or refresh the demo workspaces and logins (idempotent; demo use only)."

    def handle(self, *args: Any, **options: Any) -> None:
        seed = seed_core()
        for dotted in SEED_STEPS:
            step = import_string(dotted)
            step(seed)
        self.stdout.write(
            self.style.SUCCESS(f"Demo workspaces: {seed.workspace}, {seed.second_workspace}")
        )
        self.stdout.write(f"Log in with password {DEMO_PASSWORD!r} (demo only) as:")
        for user, role in ((seed.owner, "owner"), (seed.editor, "editor"), (seed.viewer, "viewer")):
            self.stdout.write(f"  {user.email:<28} {role}")
        for note in seed.notes:
            self.stdout.write(note)
