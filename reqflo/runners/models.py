"""Per-workspace Cloud Runner settings."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from reqflo.core.models import BaseModel, Workspace


class RetryPolicy(models.TextChoices):
    RESUME = "resume", "Resume from the interruption"
    RESTART = "restart", "Restart from the first step"
    NONE = "none", "Do not retry"


class RunnerConfig(BaseModel):
    """How the Cloud Runner executes one workspace's runs (Admin → Runners).

    ``region`` maps to a Celery queue (``queue``); a worker started with ``-Q <queue>`` serves
    it. ``egress_allow_hosts`` lists host names or IP addresses a run may call even though they
    are private, loopback or link-local.
    """

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="runner_config"
    )
    region = models.CharField(max_length=60, blank=True, default="")
    step_timeout_seconds = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1)]
    )
    run_timeout_seconds = models.PositiveIntegerField(
        default=600, validators=[MinValueValidator(1)]
    )
    concurrency_limit = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    retry_policy = models.CharField(
        max_length=20, choices=RetryPolicy.choices, default=RetryPolicy.RESUME
    )
    max_attempts = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1)])
    # Caps on what a journey's steps may ask for (a step's own timeout_ms and retries): a
    # step's timeout is capped at step_timeout_seconds, its retries and their delay here.
    step_max_retries = models.PositiveIntegerField(default=3)
    step_max_retry_delay_seconds = models.PositiveIntegerField(default=10)
    egress_allow_hosts = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(concurrency_limit__gte=1), name="runner_concurrency_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="runner_attempts_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(retry_policy__in=RetryPolicy.values),
                name="runner_retry_policy_known",
            ),
        ]

    def __str__(self) -> str:
        return f"runner config of {self.workspace_id}"

    @property
    def queue(self) -> str:
        """Return the Celery queue of this workspace's region (the default queue without one)."""
        default: str = settings.CELERY_TASK_DEFAULT_QUEUE
        return f"{default}.{self.region}" if self.region else default
