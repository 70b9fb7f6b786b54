"""``POST /api/v1/ci/runs``: store a run that ``reqflo run … --publish`` executed in CI.

The rules (digest chain verified on arrival, one result per plan step, the journey version
matched by content or pushed, idempotency per CI job) are ``reqflo.runners.publish``'s; this
module parses, checks the role (editor: publishing creates runs and may push a version) and
answers. docs/ci.md describes the request for other clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status

from reqflo.api.auth import require
from reqflo.api.errors import ApiError, issue_dicts
from reqflo.api.journeys_api import ERRORS
from reqflo.api.runs_api import run_out
from reqflo.api.schemas import ErrorOut, RunOut
from reqflo.core.models import Role
from reqflo.engine import DefinitionError
from reqflo.engine.redaction import REDACTED
from reqflo.journeys.documents import check_text
from reqflo.runners.publish import CiFacts, PublishedRun, PublishRefused, run_publish
from reqflo.runs.models import CiRunInfo

router = Router(tags=["ci"])

PublishKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        description="Derived from the CI job (docs/ci.md): every attempt of the job sends the "
        "same key and lands on the same run",
        min_length=8,
        max_length=150,
    ),
]


class CiIn(Schema):
    provider: Literal["github", "gitlab", "other"]
    repository: str = Field("", max_length=300)
    commit: str = Field("", max_length=64)
    ref: str = Field("", max_length=300)
    job_url: str = Field("", max_length=1000)
    pipeline_id: str = Field("", max_length=100)
    job: str = Field("", max_length=200)
    attempt: str = Field("", max_length=20)


class PublishedStepIn(Schema):
    index: int = Field(ge=0)
    step_id: str = Field(max_length=100)
    status: str = Field(max_length=20)
    evidence: dict[str, Any]
    digest: str = Field(max_length=64)


class PublishedRunIn(Schema):
    id: UUID = Field(description="The run id the CLI ran under; the digest chain names it")
    head_digest: str = Field(max_length=64)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    steps: list[PublishedStepIn]


class PublishIn(Schema):
    definition: str = Field(description="The journey file's text (YAML or JSON) the CLI ran")
    artifact_id: str = Field(max_length=24, description="The artifact the CLI compiled and ran")
    environment: str = Field("ci", min_length=1, max_length=60)
    environment_base_url: str = Field("", max_length=500)
    case: str | None = Field(None, max_length=120)
    inputs: dict[str, Any] = Field(default_factory=dict)
    run: PublishedRunIn
    ci: CiIn | None = None


class CiOut(Schema):
    provider: str
    repository: str
    commit: str
    ref: str
    job_url: str
    pipeline_id: str
    job: str
    attempt: str
    later_attempts: list[dict[str, Any]]


class PublishOut(Schema):
    outcome: Literal["created", "replayed", "kept_first"] = Field(
        description="created: stored now; replayed: this very bundle was stored before; "
        "kept_first: another attempt of the CI job published first, and its run is kept"
    )
    run: RunOut
    ci: CiOut | None


def ci_out(info: CiRunInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    fields = ("provider", "repository", "commit", "ref", "job_url", "pipeline_id", "job")
    return {
        **{name: getattr(info, name) for name in fields},
        "attempt": info.attempt,
        "later_attempts": list(info.later_attempts),
    }


class PublishAccessOut(Schema):
    workspace: str
    role: str


@router.get(
    "/ci/access",
    response={200: PublishAccessOut, **ERRORS},
    summary="Whether this token may publish CI runs (asked before a run starts)",
)
def publish_access_endpoint(request: HttpRequest) -> dict[str, str]:
    """Answer 200 with the workspace's slug and the caller's role when the token may publish
    runs (an editor's or an owner's); the token's refusal (401) or 403 ``role_required``
    otherwise. ``reqflo run --publish`` asks this before it runs anything, so a job whose token
    cannot publish fails at once, not after the whole run (docs/ci.md)."""
    caller = require(request, Role.EDITOR, action="publish runs")
    return {"workspace": caller.workspace.slug, "role": str(caller.membership.role)}


@router.post(
    "/ci/runs",
    response={200: PublishOut, 201: PublishOut, 409: ErrorOut, 422: ErrorOut, **ERRORS},
    summary="Publish a run executed in CI (reqflo run --publish)",
)
def run_publish_endpoint(
    request: HttpRequest, payload: PublishIn, key: PublishKey
) -> Status[dict[str, Any]]:
    """Store a finished run with its evidence: 201 created, 200 when the key already has one.

    The evidence digest chain is verified before anything is stored; a tampered, truncated or
    reordered bundle answers 422 ``evidence_rejected`` naming the first step result that does
    not verify.
    """
    caller = require(request, Role.EDITOR, action="publish runs")
    try:
        checked = check_text(payload.definition, source="<published definition>")
    except DefinitionError as error:
        raise ApiError(
            400,
            "invalid_definition",
            "The published journey definition has errors: "
            + "; ".join(str(i) for i in error.issues[:5]),
            issues=issue_dicts(error.issues),
        ) from None
    secret_inputs = {d.name for d in checked.definition.inputs if d.secret}
    # The CLI masks secret inputs already; a client that did not is masked here, not stored.
    inputs = {k: REDACTED if k in secret_inputs else v for k, v in payload.inputs.items()}
    ci = payload.ci
    published = PublishedRun(
        run_id=payload.run.id,
        head_digest=payload.run.head_digest,
        steps=[step.dict() for step in payload.run.steps],
        artifact_id=payload.artifact_id,
        environment=payload.environment,
        environment_base_url=payload.environment_base_url,
        case=payload.case,
        inputs=inputs,
        started_at=payload.run.started_at,
        finished_at=payload.run.finished_at,
    )
    try:
        outcome = run_publish(
            workspace=caller.workspace,
            user=caller.user,
            checked=checked,
            published=published,
            ci=CiFacts(key=key, **ci.dict()) if ci else None,
            key=key,
        )
    except PublishRefused as refused:
        raise ApiError(refused.status, refused.code, str(refused)) from None
    except DefinitionError as error:
        raise ApiError(
            400,
            "invalid_definition",
            "The published journey does not compile: "
            + "; ".join(str(i) for i in error.issues[:5]),
            issues=issue_dicts(error.issues),
        ) from None
    run = outcome.run
    body = {
        "outcome": outcome.outcome,
        "run": run_out(request, run),
        "ci": ci_out(CiRunInfo.objects.filter(run=run).first()),
    }
    return Status(201 if outcome.outcome == "created" else 200, body)
