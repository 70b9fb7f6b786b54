"""Publish a run executed elsewhere (``reqflo run … --publish`` in a CI job) into run history.

The CLI runs the journey with its own engine under a run id it chose, chains the step results'
digests exactly as a cloud worker does (``reqflo.engine.digest``) and sends the finished run at
once. Nothing here executes anything: the service checks what arrived and stores it in one
transaction, so a published run never exists half-written and never sits ``running``.

What is checked before anything is stored:

- the digest chain, link by link and its head, for the run id sent; and one step result per
  step of the plan, with the plan's step ids in order (a truncated or reordered bundle is
  refused even if its sender re-chained it);
- the journey version: the sent definition is matched to an existing version of the journey
  with the same content (the newest such), else pushed as a new version as ``reqflo push``
  would; its compiled artifact must be the one the CLI ran (same ``art_`` id).

Idempotency (docs/ci.md): the CLI derives a key from the CI job's variables. The first publish
under a key creates the run; the same bundle again (a retried request) answers that run
(``replayed``); a later attempt of the same CI job (another run id or head) also answers that
run, unchanged, and is noted on its CI record (``kept_first``): finished runs never change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.engine import DefinitionError
from reqflo.engine.digest import verify_records
from reqflo.journeys import services as journey_services
from reqflo.journeys.documents import CheckedDocument
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.runners.leases import overall_status, run_new
from reqflo.runners.models import AttemptEnd, RunAttempt
from reqflo.runs.models import (
    CiProvider,
    CiRunInfo,
    Run,
    RunnerKind,
    RunStatus,
    StepResult,
    Trigger,
)
from reqflo.runs.seals import run_seal_create

# The CI job's attempts noted on one run at most (a job retried more often is not news).
LATER_ATTEMPTS_KEPT = 20
STEP_STATUSES = frozenset({"passed", "failed", "error", "skipped"})


class PublishRefused(Exception):
    """The published run cannot be stored; ``code`` is the API's error code, the text says why."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class CiFacts:
    """Where the run was published from (all optional but ``provider`` and ``key``)."""

    provider: str
    key: str
    repository: str = ""
    commit: str = ""
    ref: str = ""
    job_url: str = ""
    pipeline_id: str = ""
    job: str = ""
    attempt: str = ""


@dataclass(frozen=True)
class PublishedRun:
    """What the CLI sent: the run under its id, its step records and head, how it ran."""

    run_id: UUID
    head_digest: str
    steps: Sequence[Mapping[str, Any]]
    artifact_id: str
    environment: str
    environment_base_url: str
    case: str | None
    inputs: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PublishOutcome:
    """The stored run and how this publish related to it: created, replayed or kept_first."""

    run: Run
    outcome: str


def run_publish(
    *,
    workspace: Workspace,
    user: User,
    checked: CheckedDocument,
    published: PublishedRun,
    ci: CiFacts | None,
    key: str,
) -> PublishOutcome:
    """Verify and store a run executed outside the server; see the module text for the rules.

    ``key`` scopes idempotency within the workspace (the CI key, or the CLI's per-invocation
    key outside CI). Raises ``PublishRefused`` naming what is wrong; stores nothing then.
    """
    _verify_chain(published)
    idempotency_key = f"publish:{key}"
    existing = Run.objects.filter(workspace=workspace, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _again(existing, published, ci)
    try:
        # One transaction: a refused publish leaves no pushed version or new environment.
        with transaction.atomic():
            version = _version_for(workspace=workspace, user=user, checked=checked, ci=ci)
            artifact = journey_services.build_artifact_for_version(version=version)
            if artifact.artifact_id != published.artifact_id:
                raise PublishRefused(
                    "artifact_mismatch",
                    f"The run executed {published.artifact_id}, but {version.journey.slug} "
                    f"v{version.number} compiles on the server to {artifact.artifact_id}: the "
                    "CLI and the server differ in version; upgrade reqflo to the server's.",
                    status=409,
                )
            _check_plan(published, artifact.plan)
            run = _store(
                workspace=workspace,
                user=user,
                version=version,
                artifact_pk=artifact.pk,
                environment=_environment(workspace, published),
                case=Case.objects.filter(journey=version.journey, name=published.case).first(),
                published=published,
                ci=ci,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # Another attempt published under the key between the look-up and the insert, or the
        # run id is taken (by that attempt, or by chance).
        existing = Run.objects.filter(workspace=workspace, idempotency_key=idempotency_key).first()
        if existing is None:
            raise PublishRefused(
                "run_id_taken",
                f"The run id {published.run_id} is already in use; publish again with a new one.",
                status=409,
            ) from None
        return _again(existing, published, ci)
    return PublishOutcome(run=run, outcome="created")


def _verify_chain(published: PublishedRun) -> None:
    records = sorted(published.steps, key=lambda s: s.get("index", -1))
    check = verify_records(str(published.run_id), records, head=published.head_digest)
    if not check.ok:
        where = f" (step result {check.broken_at})" if check.broken_at is not None else ""
        raise PublishRefused(
            "evidence_rejected",
            f"The published evidence does not verify{where}: {check.reason}. Nothing was stored.",
        )
    for record in records:
        if record.get("status") not in STEP_STATUSES:
            raise PublishRefused(
                "evidence_rejected",
                f"Step result {record.get('index')} has the status {record.get('status')!r}; "
                f"expected one of {', '.join(sorted(STEP_STATUSES))}. Nothing was stored.",
            )


def _check_plan(published: PublishedRun, plan_text: str) -> None:
    import json

    expected = [str(step.get("id")) for step in json.loads(plan_text).get("steps", [])]
    sent = [str(s.get("step_id")) for s in sorted(published.steps, key=lambda s: s["index"])]
    if sent != expected:
        raise PublishRefused(
            "evidence_rejected",
            f"The published run has {len(sent)} step results ({', '.join(sent) or 'none'}) "
            f"but the journey's plan has {len(expected)} steps ({', '.join(expected)}): "
            "a published run carries one result per step, in plan order. Nothing was stored.",
        )


def _version_for(
    *, workspace: Workspace, user: User, checked: CheckedDocument, ci: CiFacts | None
) -> JourneyVersion:
    """Return the journey version with this content: an existing one, else a new one."""
    slug = checked.definition.slug
    message = "Published from CI" if ci else "Published by reqflo run --publish"
    if ci and ci.repository:
        message += f" ({ci.repository}@{ci.commit[:12]})" if ci.commit else f" ({ci.repository})"
    journey = Journey.objects.filter(workspace=workspace, slug=slug).first()
    if journey is None:
        try:
            journey = journey_services.journey_create(
                workspace=workspace, author=user, checked=checked, message=message
            )
        except DefinitionError:
            # Created by a concurrent publish a moment ago: use it.
            journey = Journey.objects.get(workspace=workspace, slug=slug)
    for _ in range(3):
        same = (
            JourneyVersion.objects.filter(journey=journey, digest=checked.digest)
            .order_by("-number")
            .first()
        )
        if same is not None:
            return same
        journey.refresh_from_db()
        try:
            created = journey_services.journey_version_create(
                journey=journey,
                author=user,
                checked=checked,
                base_number=journey.head_number,
                message=message,
            )
        except journey_services.VersionConflict:
            continue  # someone saved a version meanwhile: look again
        if created is not None:
            return created
    raise PublishRefused(
        "version_conflict",
        f"The journey {slug!r} kept changing while the run was published; publish again.",
        status=409,
    )


def _environment(workspace: Workspace, published: PublishedRun) -> Environment:
    found = Environment.objects.filter(workspace=workspace, name=published.environment).first()
    if found is not None:
        return found
    from django.core.exceptions import ValidationError

    if not published.environment_base_url:
        raise PublishRefused(
            "unknown_environment",
            f"The server has no environment {published.environment!r} and the run sent no "
            "base_url to create it with: create it on the Environments page, or run with an "
            "--env whose reqflo.yaml entry has a base_url.",
        )
    try:
        return journey_services.environment_create(
            workspace=workspace,
            name=published.environment,
            base_url=published.environment_base_url,
            values={},
        )
    except ValidationError as error:
        found = Environment.objects.filter(workspace=workspace, name=published.environment).first()
        if found is not None:
            return found  # created by a concurrent publish
        raise PublishRefused(
            "unknown_environment",
            f"Cannot create the environment {published.environment!r}: "
            + "; ".join(error.messages),
        ) from None


def _store(
    *,
    workspace: Workspace,
    user: User,
    version: JourneyVersion,
    artifact_pk: UUID,
    environment: Environment,
    case: Case | None,
    published: PublishedRun,
    ci: CiFacts | None,
    idempotency_key: str,
) -> Run:
    records = sorted(published.steps, key=lambda s: s["index"])
    now = timezone.now()
    started = published.started_at or now
    run = run_new(
        workspace=workspace,
        journey_version=version,
        artifact_id=artifact_pk,
        environment=environment,
        case=case,
        inputs=published.inputs,
        runner_kind=RunnerKind.CI if ci else RunnerKind.LOCAL,
        trigger=Trigger.CI if ci else Trigger.CLI,
        triggered_by=user,
        step_count=len(records),
        attempts=1,
        idempotency_key=idempotency_key,
        dispatch_fingerprint=published.head_digest,
    )
    run.pk = published.run_id
    run.status = RunStatus.RUNNING
    run.started_at = started
    run.next_step = len(records)
    run.head_digest = published.head_digest
    run.save(force_insert=True)
    StepResult.objects.bulk_create(
        StepResult(
            run=run,
            index=record["index"],
            step_id=record["step_id"],
            status=record["status"],
            evidence=record["evidence"],
            checkpoint=b"",  # nothing resumes a published run
            lease_token=0,
            attempt=1,
            digest=record["digest"],
        )
        for record in records
    )
    holder = "reqflo run --publish" if ci is None else f"{provider_label(ci.provider)} {ci.job}"
    finished = published.finished_at or now
    RunAttempt.objects.create(
        run=run,
        number=1,
        lease_token=0,
        holder=holder.strip()[:255],
        claimed_at=started,
        ended_at=finished,
        ended_why=AttemptEnd.FINISHED,
    )
    if ci is not None:
        CiRunInfo.objects.create(
            run=run,
            provider=ci.provider,
            repository=ci.repository[:300],
            commit=ci.commit[:64],
            ref=ci.ref[:300],
            # Shown as a link on the run page: http(s) only, never ``javascript:``.
            job_url=ci.job_url[:1000] if ci.job_url.startswith(("https://", "http://")) else "",
            pipeline_id=ci.pipeline_id[:100],
            job=ci.job[:200],
            attempt=ci.attempt[:20],
            ci_key=ci.key[:64],
        )
    # The last write of the row: once finished, the database refuses any change to it. It
    # ended when the CI job says it did (it never held a slot of the Cloud Runner, so no
    # waiting run is admitted on its account).
    Run.objects.filter(pk=run.pk).update(
        status=overall_status([str(r["status"]) for r in records]),
        finished_at=max(finished, started),
        lease_expires_at=None,
    )
    run_seal_create(run_id=run.pk)  # sealed and signed like every finished run
    return Run.objects.get(pk=run.pk)


def _again(existing: Run, published: PublishedRun, ci: CiFacts | None) -> PublishOutcome:
    """Answer a publish under a key that already has its run: a replay, or a later attempt."""
    if existing.pk == published.run_id and existing.head_digest == published.head_digest:
        return PublishOutcome(run=existing, outcome="replayed")
    info = CiRunInfo.objects.filter(run=existing).first()
    if info is not None:
        status = overall_status([str(s.get("status")) for s in published.steps])
        note = {
            "run_id": str(published.run_id),
            "attempt": ci.attempt if ci else "",
            "status": str(status),
            "head_digest": published.head_digest,
            "published_at": timezone.now().isoformat(timespec="seconds"),
        }
        with transaction.atomic():
            locked = CiRunInfo.objects.select_for_update().get(pk=info.pk)
            seen = {entry.get("run_id") for entry in locked.later_attempts}
            if note["run_id"] not in seen and len(locked.later_attempts) < LATER_ATTEMPTS_KEPT:
                locked.later_attempts = [*locked.later_attempts, note]
                locked.save(update_fields=["later_attempts"])
    return PublishOutcome(run=existing, outcome="kept_first")


def provider_label(provider: str) -> str:
    return dict(CiProvider.choices).get(provider, provider)
