"""factory_boy factories: workspaces and people, journeys, versions, environments, runs, steps."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from reqflo.core.models import Invitation, Membership, Role, Workspace
from reqflo.engine import StepResult as EngineStepResult
from reqflo.journeys import services as journeys
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey, JourneyVersion
from reqflo.runners.leases import Lease, checkpoint_commit, lease_take, run_finish
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, StepResult, Trigger

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    """A user who logs in with their email address (the username) and ``PASSWORD``."""

    class Meta:
        model = User
        django_get_or_create = ("username",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.SelfAttribute("email")
    password = factory.django.Password(PASSWORD)


class WorkspaceFactory(DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.LazyAttribute(lambda w: slugify(w.name))


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


class InvitationFactory(DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.EDITOR
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


# --- Journeys, versions, environments, runs, step results ------------------------------------
#
# These go through the services, as the app does: a journey gets its v1 (and its head, digest
# and secret names), a run is dispatched, leased, checkpointed and finished like a worker would.


def journey_document(name: str, *, steps: int = 1, description: str = "") -> dict[str, Any]:
    """Return a valid document: ``steps`` GET steps (``s1``, ``s2``…) checking for a 200."""
    body: dict[str, Any] = {"name": name}
    if description:
        body["description"] = description
    body["steps"] = [
        {
            "id": f"s{number}",
            "request": {"method": "GET", "url": "{{ env.base_url }}" + f"/p{number}"},
            "assertions": [{"type": "status_code", "expected": 200}],
        }
        for number in range(1, steps + 1)
    ]
    return {"journey": body}


class JourneyFactory(factory.Factory[Journey]):
    """A journey and its v1, created by ``journey_create``; pass ``document`` to choose it."""

    class Meta:
        model = Journey

    workspace = factory.SubFactory(WorkspaceFactory)
    author = None
    name = factory.Sequence(lambda n: f"Journey {n}")
    document = factory.LazyAttribute(lambda o: journey_document(o.name))

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> Journey:
        return journeys.journey_create(
            workspace=fields["workspace"],
            author=fields["author"],
            checked=check_document(fields["document"]),
        )


class JourneyVersionFactory(factory.Factory[JourneyVersion]):
    """The next version of ``journey`` (a new one by default): its head with a new description."""

    class Meta:
        model = JourneyVersion

    journey = factory.SubFactory(JourneyFactory)
    author = None
    description = factory.Sequence(lambda n: f"revision {n}")
    message = ""

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> JourneyVersion:
        journey: Journey = fields["journey"]
        assert journey.head is not None
        document = copy.deepcopy(journey.head.document)
        document["journey"]["description"] = fields["description"]
        version = journeys.journey_version_create(
            journey=journey,
            author=fields["author"],
            checked=check_document(document),
            base_number=journey.head_number,
            message=fields["message"],
        )
        assert version is not None, "a new description always makes a new version"
        return version


class EnvironmentFactory(factory.Factory[Environment]):
    class Meta:
        model = Environment

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"env{n}")
    base_url = "http://127.0.0.1:9"
    values = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> Environment:
        return journeys.environment_create(**fields)


def _passed_step(index: int, step_id: str, status: str) -> dict[str, Any]:
    step = EngineStepResult(index=index, step_id=step_id, name=step_id, status=status)  # type: ignore[arg-type]
    return step.to_dict()


class RunFactory(factory.Factory[Run]):
    """A cloud run of ``version``, dispatched; with ``status`` it is also run to that end.

    ``steps`` lists step statuses to checkpoint through the run's lease first, as a worker
    would (its step results are then the run's evidence); the journey has ``step_count`` steps
    (as many as ``steps``, at least one) unless ``version`` is given.
    """

    class Meta:
        model = Run

    status: RunStatus | None = None
    steps: tuple[str, ...] = ()
    step_count = factory.LazyAttribute(lambda o: max(1, len(o.steps)))
    version = factory.LazyAttribute(
        lambda o: (
            JourneyFactory(
                document=journey_document(f"Run journey {o.step_count}", steps=o.step_count)
            ).head
        )
    )
    environment = factory.LazyAttribute(
        lambda o: EnvironmentFactory(workspace=o.version.journey.workspace)
    )
    case = None
    trigger = Trigger.API

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> Run:
        environment: Environment = fields["environment"]
        run = run_dispatch(
            workspace=environment.workspace,
            version=fields["version"],
            environment=environment,
            trigger=fields["trigger"],
            case=fields["case"],
        ).run
        if fields["status"] is None and not fields["steps"]:
            return run
        lease = lease_take(run_id=run.pk)
        assert lease is not None, "the workspace's concurrency limit left the run queued"
        for index, status in enumerate(fields["steps"]):
            checkpoint_commit(
                lease,
                index=index,
                step_id=f"s{index + 1}",
                evidence=_passed_step(index, f"s{index + 1}", status),
                snapshot={},
            )
        if fields["status"] is not None:
            run_finish(lease, status=fields["status"])
        run.refresh_from_db()
        return run


class StepResultFactory(factory.Factory[StepResult]):
    """The next step result of a running ``run``, stored through its lease like a worker's."""

    class Meta:
        model = StepResult

    run = factory.SubFactory(RunFactory, step_count=3)
    status = "passed"

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> StepResult:
        run: Run = fields["run"]
        run.refresh_from_db()
        lease = lease_take(run_id=run.pk) if run.status == RunStatus.QUEUED else None
        if lease is None:
            lease = Lease(run_id=run.pk, token=run.lease_token, attempt=run.attempts)
        index = run.next_step
        step_id = f"s{index + 1}"
        checkpoint_commit(
            lease,
            index=index,
            step_id=step_id,
            evidence=_passed_step(index, step_id, fields["status"]),
            snapshot={},
        )
        return StepResult.objects.get(run=run, index=index)
