from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reqflo.runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        # Journeys sits below runs: its list and history get run facts through its hooks.
        from reqflo.core import navigation
        from reqflo.core.models import Role
        from reqflo.journeys import hooks
        from reqflo.runs import selectors
        from reqflo.runs.resealing import reseal_unfinished_runs, resign_run_seals
        from reqflo.secrets.rotation import store_key_rotating

        hooks.register_journey_annotator(selectors.journeys_with_run_facts)
        hooks.register_version_annotator(selectors.versions_with_run_facts)
        hooks.register_send_statuses(selectors.last_send_statuses)
        # A store key rotation re-seals what unfinished runs still need (inputs, checkpoints).
        store_key_rotating.connect(reseal_unfinished_runs, dispatch_uid="runs-reseal")
        # ... and re-signs the seals of finished runs, which are signed under a derived key.
        store_key_rotating.connect(resign_run_seals, dispatch_uid="runs-resign-seals")
        navigation.register(
            navigation.NavLink(
                "Runs",
                "runs:list",
                Role.VIEWER,
                "Every run of the workspace: what each step sent and got back, and why it failed.",
                position=20,
            )
        )
