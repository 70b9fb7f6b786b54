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
    # Where runs go when the dispatch does not say (``reqflo run --cloud --runner``, the API's
    # ``runner``): the Cloud Runner, or the workspace's self-hosted runners with these labels.
    default_runner = models.CharField(max_length=20, default="cloud", blank=True)
    default_runner_labels = models.JSONField(default=list, blank=True)

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


class RunnerConfigChange(BaseModel):
    """One saved change of a workspace's Cloud Runner settings: who, when, and old → new.

    ``changes`` maps each changed field to ``{"old": …, "new": …}``; a save that changes
    nothing records nothing.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"runner settings of {self.workspace_id} changed at {self.created_at}"


class WorkerHeartbeat(models.Model):
    """A Celery worker process as it last reported itself (``reqflo.runners.heartbeats``).

    Celery's remote control is off on the embedded broker, so Admin → Runners learns which
    workers exist from these rows. ``last_seen_at`` comes from the database clock; a row whose
    stamp is older than a few heartbeat intervals belongs to a worker that is gone, and
    ``stopped_at`` is set by a worker that shut down cleanly.
    """

    hostname = models.CharField(max_length=255, primary_key=True)
    queues = models.JSONField(default=list)
    pool_size = models.PositiveIntegerField(default=0)
    runs_in_progress = models.PositiveIntegerField(default=0)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Set when the worker starts a warm shutdown (SIGTERM): its runs release their lease after
    # the step in progress is checkpointed, for another worker to pick up at once.
    draining_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return f"worker {self.hostname}"


class AttemptEnd(models.TextChoices):
    """Why one attempt at a run ended (``RunAttempt.ended_why``)."""

    FINISHED = "finished", "Finished the run"
    WORKER_LOST = "worker_lost", "Worker lost"
    INFRASTRUCTURE_FAULT = "infrastructure_fault", "Infrastructure fault"
    TIMEOUT = "timeout", "Time limit reached"
    CANCELLED = "cancelled", "Cancelled"
    RELEASED = "released", "Released by a stopping worker"
    UNDELIVERED = "undelivered", "Claim never taken up by its runner"


# Attempts that end this way count against ``RunnerConfig.max_attempts``: the cap exists for a
# step that keeps killing its worker, not for a flaky network or a worker being redeployed.
COUNTED_ENDS = frozenset({AttemptEnd.WORKER_LOST})


class RunAttempt(models.Model):
    """One lease claim of one run: who held it, from when, and why it ended.

    ``number`` is the run's attempt number (``Run.attempts`` right after the claim) and
    ``lease_token`` the fencing token the claim got. ``ended_at`` is null while the attempt is
    in progress (or its worker died silently and nobody has noticed yet). ``holder`` is the
    worker's Celery hostname and pool process id; ``detail`` says in words what ended it.
    """

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    lease_token = models.BigIntegerField()
    holder = models.CharField(max_length=255, blank=True, default="")
    claimed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_why = models.CharField(max_length=30, choices=AttemptEnd.choices, blank=True)
    detail = models.TextField(blank=True)
    # False from a self-hosted claim until its runner's heartbeat names the lease: a claim
    # answered to a runner that was gone or paused ends ``undelivered`` and does not count.
    delivered = models.BooleanField(default=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="run_attempt_once"),
            models.CheckConstraint(
                condition=models.Q(ended_why="") | models.Q(ended_why__in=AttemptEnd.values),
                name="run_attempt_end_known",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of run {self.run_id} ({self.ended_why or 'in progress'})"


class RunnerChoice(models.TextChoices):
    """Where a workspace's runs go unless the dispatch says otherwise (``default_runner``)."""

    CLOUD = "cloud", "Cloud Runner"
    SELF_HOSTED = "self_hosted", "Self-hosted runners"


# Every self-hosted runner token starts with this, so people and secret scanners tell it from an
# API token (``rqf_``); an API token is never accepted by the runner protocol, nor the reverse.
RUNNER_TOKEN_PREFIX = "rqr_"


class SelfHostedRunner(BaseModel):
    """A runner an owner registered on Admin → Runners, and how it last reported itself.

    Only the SHA-256 of its token is stored (``key_hash``); ``hint`` tells tokens apart in the
    list. A revoked runner keeps its row (the page shows what existed). The presence fields come
    from the runner's own calls, stamped by the database clock: ``boot_id`` changes each time the
    process starts (``booted_at`` is then its last restart), ``last_seen_at`` with every claim
    poll and heartbeat. ``labels`` are the registered ones; ``started_labels`` those the process
    added with ``--labels``; runs with a label selector go to runners that have every label.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="self_hosted_runners"
    )
    name = models.CharField(max_length=100)
    labels = models.JSONField(default=list, blank=True)
    capacity = models.PositiveIntegerField(default=4, validators=[MinValueValidator(1)])
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    boot_id = models.CharField(max_length=64, blank=True, default="")
    booted_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=40, blank=True, default="")
    hostname = models.CharField(max_length=255, blank=True, default="")
    started_capacity = models.PositiveIntegerField(null=True, blank=True)
    started_labels = models.JSONField(default=list, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Boot ids of the processes this runner replaced (newest last, a few kept): a call from
    # one of them is a stale process and is refused (409 ``stale_boot``).
    retired_boot_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="self_hosted_runner_capacity_positive"
            ),
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="self_hosted_runner_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"self-hosted runner {self.name} ({self.pk})"

    @property
    def holder_prefix(self) -> str:
        """Return how ``Run.lease_holder`` starts for runs this runner holds (any boot)."""
        return f"runner:{self.pk}:"

    @property
    def all_labels(self) -> list[str]:
        return sorted({*self.labels, *self.started_labels})

    @property
    def slots(self) -> int:
        """Return how many runs it may hold: the registered capacity, or less if it said so."""
        if self.started_capacity:
            return min(self.capacity, self.started_capacity)
        return self.capacity

    @property
    def display_token(self) -> str:
        return f"{RUNNER_TOKEN_PREFIX}{self.hint}…"


SWEEP_MARK = 1
SERVER_MARK = 2


class SweepMark(models.Model):
    """When the sweeper last reached the database, and since when it has without a gap.

    One row (``pk=1``), written by every sweep (``reqflo.runners.sweeper``). A lease that ran
    out while the database could not be reached was not lost by its worker: nobody could renew
    anything. So an expired lease is taken as a lost worker only once the sweeper has reached
    the database without a gap for a whole lease (``reqflo.runners.leases.settle_window``).

    Row ``pk=2`` (``SERVER_MARK``) is the same for the self-hosted runner protocol: written by
    the web processes that serve runners (``reqflo.runners.servermark``), so a lease that ran
    out while the server was down is not taken for a lost runner.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_swept_at = models.DateTimeField()
    reachable_since = models.DateTimeField()

    def __str__(self) -> str:
        return (
            f"swept {self.last_swept_at:%Y-%m-%d %H:%M:%S}, since {self.reachable_since:%H:%M:%S}"
        )
