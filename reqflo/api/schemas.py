"""Request and response shapes of the JSON API (pydantic, through django-ninja).

The OpenAPI document at ``/api/v1/openapi.json`` is generated from these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str = Field(description="Stable error code, see docs/api.md")
    message: str
    issues: list[dict[str, Any]] = Field(default_factory=list)


class JourneyOut(Schema):
    slug: str
    name: str
    description: str
    tags: list[str]
    latest_version: int
    archived: bool
    updated_at: datetime
    default_runner: str = Field(
        description="where runs go when a dispatch does not say: '' (the workspace's default), "
        "'cloud' or 'self_hosted'"
    )
    default_runner_labels: list[str]


class JourneyRunnerIn(Schema):
    default_runner: str = Field(
        "", description="'' (the workspace's default), 'cloud' or 'self_hosted'"
    )
    default_runner_labels: list[str] = Field(
        default_factory=list, description="only with self_hosted"
    )


class VersionOut(Schema):
    number: int
    message: str
    author: str | None
    created_at: datetime
    digest: str


class VersionDetailOut(VersionOut):
    journey: str
    document: dict[str, Any]


class ArtifactOut(Schema):
    artifact_id: str = Field(description="art_ + 16 hex digits of the plan's SHA-256")
    journey: str
    version: int
    plan: dict[str, Any]


class PushIn(Schema):
    """A journey definition: ``text`` (YAML or JSON, as in a file) or a parsed ``document``."""

    text: str | None = None
    document: dict[str, Any] | None = None
    message: str = ""
    base_version: int | None = Field(
        None, description="The version the edit started from; a newer one gives 409"
    )


class PushOut(Schema):
    journey: str
    version: int
    created: bool = Field(description="False when the definition equals the latest version")
    journey_created: bool


class CaseOut(Schema):
    id: UUID
    name: str
    values: dict[str, Any]
    archived: bool


class EnvironmentOut(Schema):
    id: UUID
    name: str
    base_url: str
    values: dict[str, Any]
    archived: bool


class DispatchIn(Schema):
    """A cloud run: ``case`` and ``environment`` match names forgivingly ("happy-path")."""

    journey: str = Field(description="journey slug")
    environment: str
    version: int | None = Field(None, description="version number; the latest when omitted")
    case: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    runner: str | None = Field(
        None,
        description="cloud or self_hosted; when omitted, the journey's default runner, else the "
        "workspace's",
    )
    runner_labels: list[str] | None = Field(
        None, description="self-hosted runners with every one of these labels (implies self_hosted)"
    )


class BatchIn(DispatchIn):
    rows: list[dict[str, Any]] = Field(description="one child run per row (data file rows)")


class StepOut(Schema):
    index: int
    step_id: str
    status: str
    evidence: dict[str, Any]


class RunOut(Schema):
    id: UUID
    url: str
    status: str
    finished: bool
    journey: str
    journey_name: str
    version: int
    artifact_id: str
    environment: str
    case: str | None
    inputs: dict[str, Any]
    runner_kind: str
    runner_labels: list[str] = []
    trigger: str
    step_count: int
    next_step: int
    error_message: str
    batch: UUID | None
    batch_row: int | None
    row_name: str | None = Field(
        None, description="the batch row's name: its data file's case (else name) column"
    )
    row_label: str | None = Field(
        None, description='the batch row as pages name it: "row 3 · Grace"'
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunDetailOut(RunOut):
    steps: list[StepOut]


class RunPage(Schema):
    runs: list[RunOut]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )


class BatchOut(Schema):
    id: UUID
    url: str
    status: str
    finished: bool
    journey: str
    environment: str
    case: str | None
    total: int
    counts: dict[str, int]
    runs: list[RunOut]
    created_at: datetime


class VerifyOut(Schema):
    verified: bool = Field(description="The chain holds and the recorded facts agree with it")
    problems: list[str] = Field(description="Every problem found, in sentences; empty if verified")
    steps: int = Field(description="Step results checked")
    head: str = Field(description="The chain's last digest")
    signed: bool = Field(
        default=False, description="The seal's signature was checked with the server's key"
    )
