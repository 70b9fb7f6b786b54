"""Runs, their per-step results (the evidence) and data-driven batches.

Rows are created and changed only by the run lifecycle module, ``reqflo.runners.leases``
(create, claim, checkpoint, finish, restart, cancel; dispatch in ``reqflo.runners.services``
calls it). This app never imports ``runners``. Finished runs and their step results are
unchangeable in the database itself (``reqflo.runs.triggers``), not only here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reqflo.core.fields import ExactJSONField
from reqflo.core.models import BaseModel, Workspace
from reqflo.journeys.models import BuildArtifact, Case, Environment, JourneyVersion


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = frozenset(
    {RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED}
)


def batch_row_label(row: int, label: str = "") -> str:
    """Name a batch's row ``row`` (0-based) everywhere: "row 3", or "row 3 · Grace" with a name."""
    return f"row {row + 1} · {label}" if label else f"row {row + 1}"


class RunnerKind(models.TextChoices):
    LOCAL = "local", "Local"
    CLOUD = "cloud", "Cloud Runner"
    SELF_HOSTED = "self_hosted", "Self-hosted runner"
    CI = "ci", "CI"


class Trigger(models.TextChoices):
    EDITOR = "editor", "Editor"
    CLI = "cli", "CLI"
    CI = "ci", "CI"
    API = "api", "API"
    SCHEDULE = "schedule", "Schedule"
    # Send in the editor: one step (and the steps before it) of the unsaved journey.
    SEND = "editor_send", "Editor send"


class RunBatch(BaseModel):
    """A data-driven run: one child run per data row, identified by (batch, row index)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    journey_version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="+")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    row_count = models.PositiveIntegerField()
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.API)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The caller's key for a retried fan-out: same key and parameters, same batch.
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    dispatch_fingerprint = models.CharField(max_length=64, blank=True, default="")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="run_batch_idempotency_key_unique",
            ),
        ]


class Run(BaseModel):
    """One execution of one artifact with one set of inputs on one environment.

    ``lease_token`` is the fencing token: every claim increments it, and a worker's writes are
    accepted only while its token is still the current one. ``next_step`` is the index of the
    first step without a stored result. Immutable once ``status`` is terminal.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="runs")
    journey_version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="+")
    artifact = models.ForeignKey(BuildArtifact, on_delete=models.PROTECT, related_name="+")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Secret inputs are never here: they are masked, and sealed in ``sealed_inputs`` (see
    # ``reqflo.runs.inputs``) until the run finishes.
    inputs = ExactJSONField(default=dict, blank=True)
    sealed_inputs = models.BinaryField(null=True, blank=True)
    runner_kind = models.CharField(max_length=20, choices=RunnerKind.choices)
    # A self-hosted run's label selector: only a runner with every one of these labels claims it.
    runner_labels = models.JSONField(default=list, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    # PROTECT, not SET_NULL: nulling the column would be an UPDATE of an immutable finished run.
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    error_message = models.TextField(blank=True)
    step_count = models.PositiveIntegerField()
    next_step = models.PositiveIntegerField(default=0)
    lease_token = models.BigIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    retry_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    batch = models.ForeignKey(
        RunBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    batch_row = models.PositiveIntegerField(null=True, blank=True)
    # The row's name from its data file's ``case`` (else ``name``) column, when it has one.
    batch_label = models.CharField(max_length=200, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The caller's key (API, CLI, CI, schedules): the same key with the same parameters is the
    # same run; ``dispatch_fingerprint`` is the SHA-256 of those parameters.
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    dispatch_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # When "work on this run" was last published; a run is nudged once, not on every dispatch.
    nudged_at = models.DateTimeField(null=True, blank=True)
    # The worker (Celery hostname) holding the current lease, for Admin → Runners.
    lease_holder = models.CharField(max_length=255, blank=True, default="")
    # A cancel of a running run is a request the worker honours before its next request.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The digest of the last stored step result (``reqflo.engine.digest``): moves with every
    # checkpoint and is final once the run finishes; "" before the first step result.
    head_digest = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "status", "created_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
            # Run history pages by keyset on (created_at, id), newest first (runs/history.py).
            models.Index(fields=["workspace", "-created_at", "-id"], name="run_history"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="run_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(next_step__lte=models.F("step_count")),
                name="run_next_step_in_plan",
            ),
            # A retried fan-out never creates a second child for the same row.
            models.UniqueConstraint(fields=["batch", "batch_row"], name="run_one_child_per_row"),
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="run_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def waiting(self) -> bool:
        """Whether the run was given back to the queue part-way and waits to be resumed.

        Its row stays ``running`` (its steps so far are kept, its lease is settled), but no
        worker or runner holds it: released by a stopping worker or runner, or a revoked one,
        or swept after its lease ran out. Pages show it as queued (``shown_status``).
        """
        return self.status == RunStatus.RUNNING and not self.lease_holder

    @property
    def shown_status(self) -> str:
        """The status pages show: ``queued`` for a run waiting to be resumed, else its own."""
        return str(RunStatus.QUEUED if self.waiting else self.status)

    @property
    def shown_status_label(self) -> str:
        return str(RunStatus(self.shown_status).label)

    @property
    def row_label(self) -> str | None:
        """Name a batch child: "row 3 · Grace" (its row number and name), None for other runs."""
        if self.batch_row is None:
            return None
        return batch_row_label(self.batch_row, self.batch_label)


class StepResult(models.Model):
    """The stored evidence of one step of one run: insert-only, one row per (run, index).

    ``evidence`` is the engine's redacted ``StepResult.to_dict()``. ``checkpoint`` is the raw
    ``RunState.snapshot()`` after this step, encrypted under the store key, because it holds
    unredacted outputs, bodies and cookies that a resumed run needs. ``digest`` is
    ``sha256(canonical record + previous step's digest)`` (``reqflo.engine.digest``).
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="step_results")
    index = models.PositiveIntegerField()
    step_id = models.CharField(max_length=100)
    status = models.CharField(max_length=20)
    evidence = ExactJSONField()
    checkpoint = models.BinaryField()
    lease_token = models.BigIntegerField()
    attempt = models.PositiveIntegerField()
    digest = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="step_result_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} step {self.index} ({self.status})"


class CiProvider(models.TextChoices):
    GITHUB = "github", "GitHub Actions"
    GITLAB = "gitlab", "GitLab CI"
    OTHER = "other", "Other CI"


class CiRunInfo(models.Model):
    """Where a published CI run came from: the CI system's repository, commit, ref and job.

    Written once, with its run, by ``reqflo.runners.publish``. ``ci_key`` is the SHA-256 of the
    variables that name the CI job (docs/ci.md); every attempt of that job publishes under it.
    ``later_attempts`` lists the attempts of the same job that published after the first: their
    status and head digest, not their evidence (the first published result is the run).
    """

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="ci", primary_key=True)
    provider = models.CharField(max_length=20, choices=CiProvider.choices)
    repository = models.CharField(max_length=300, blank=True, db_index=True)
    commit = models.CharField(max_length=64, blank=True, db_index=True)
    ref = models.CharField(max_length=300, blank=True, db_index=True)
    job_url = models.URLField(max_length=1000, blank=True)
    pipeline_id = models.CharField(max_length=100, blank=True)
    job = models.CharField(max_length=200, blank=True)
    attempt = models.CharField(max_length=20, blank=True)
    ci_key = models.CharField(max_length=64)
    later_attempts = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.repository}@{self.commit[:12]}"

    def attempt_label(self, attempt: str | None = None) -> str:
        """Name a CI attempt as its CI does: ``attempt 2`` (GitHub's run attempt), ``job id 7781``
        (GitLab's job id: each retry is a new job); ``""`` when the CI did not say."""
        value = self.attempt if attempt is None else attempt
        if not value:
            return ""
        return f"job id {value}" if self.provider == CiProvider.GITLAB else f"attempt {value}"

    @property
    def later_publishes(self) -> list[dict[str, str]]:
        """Each later publish under this job's key: ``label`` (its CI attempt, or the same
        attempt again when the CLI ran twice in one attempt), ``status`` and ``run_id``."""
        notes = []
        for entry in self.later_attempts:
            attempt = str(entry.get("attempt") or "")
            label = self.attempt_label(attempt) or "an attempt the CI did not number"
            if attempt and attempt == self.attempt:
                label = f"another run in the same {label}"
            notes.append(
                {
                    "label": label,
                    "status": str(entry.get("status", "")),
                    "run_id": str(entry.get("run_id", "")),
                }
            )
        return notes


class RunSeal(models.Model):
    """The seal of a finished run: a digest over its facts and the server's signature of it.

    ``digest`` is ``reqflo.engine.digest.seal_digest`` of the run's facts (status, step
    counts, head, artifact, inputs' digest, attempts); ``signature`` is its HMAC under a key
    derived from the secret store's key (``reqflo.runs.seals``). Written once, in the transaction
    that finishes the run; runs finished before seals existed were sealed by migration 0013
    when it ran (docs/runs.md, "What the seal proves").
    """

    run = models.OneToOneField(Run, on_delete=models.CASCADE, primary_key=True, related_name="seal")
    digest = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"seal of run {self.run_id}"
