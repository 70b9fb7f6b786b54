"""Dispatch and re-run cloud runs: the one way a run comes into being, whoever triggers it.

Every caller (editor, API, CLI, CI, schedules) dispatches through ``run_dispatch`` or
``batch_dispatch``: the Run check first (blocking errors create nothing), an optional
idempotency key (the same key and parameters give the same run; other parameters under it are
refused), the run row, then one nudge to a worker after the transaction commits. A broker that is
down at that point does not undo the run: it stays queued, the sweeper nudges it when the broker
is back, and the caller is told so. The run rows themselves are made by ``leases.run_new``, and
cancels live there too, with the rest of the run lifecycle (re-exported here:
``run_cancel``, ``batch_cancel``, ``NotCancellable``); the runs app below holds the rows and reads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from reqflo.core.models import Workspace
from reqflo.engine import Artifact, DefinitionError, Issue, merge_inputs, numbers
from reqflo.engine import run_check as engine_run_check
from reqflo.engine.data_rows import row_label
from reqflo.engine.errors import errors_only, suggest
from reqflo.journeys.checks import registered_run_check_issues
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import BuildArtifact, Case, Environment, JourneyVersion
from reqflo.journeys.services import build_artifact_for_version
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.config import runner_config_for
from reqflo.runners.labels import Route, route_for
from reqflo.runners.leases import NotCancellable, batch_cancel, run_cancel, run_new
from reqflo.runs.inputs import run_inputs, seal_inputs, secret_input_names
from reqflo.runs.models import Run, RunBatch, RunnerKind, Trigger

__all__ = [
    "BatchDispatched",
    "DispatchRefused",
    "Dispatched",
    "IdempotencyConflict",
    "NotCancellable",
    "batch_cancel",
    "batch_dispatch",
    "run_cancel",
    "run_dispatch",
    "run_rerun",
]
from reqflo.secrets.selectors import workspace_secret_names

# An idempotency key names one dispatch; keys are the caller's (a CI run id, a schedule tick).
MAX_IDEMPOTENCY_KEY = 200


class DispatchRefused(Exception):
    """The Run check found blocking errors; nothing was created. ``issues`` lists every one."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class IdempotencyConflict(Exception):
    """The idempotency key already names a dispatch with other parameters."""


@dataclass(frozen=True)
class Dispatched:
    """What a dispatch did: the run, whether it is new, and the broker's refusal if any.

    ``broker_error`` set means the run is queued and safe, but its nudge did not reach the
    broker; the sweeper nudges it again once the broker answers.
    """

    run: Run
    created: bool
    broker_error: str | None = None


@dataclass(frozen=True)
class BatchDispatched:
    """What a batch dispatch did: the batch, whether it is new, and any broker refusal."""

    batch: RunBatch
    created: bool
    broker_error: str | None = None


@dataclass
class _Nudge:
    """Carries the after-commit nudge's outcome back to the dispatching caller."""

    workspace_id: UUID
    broker_error: str | None = None
    done: bool = field(default=False)

    def __call__(self) -> None:
        self.broker_error = runs_enqueue_waiting(workspace_id=self.workspace_id).broker_error
        self.done = True


def _check_same_workspace(
    *, workspace: Workspace, version: JourneyVersion, environment: Environment, case: Case | None
) -> None:
    errors: dict[str, str] = {}
    if version.journey.workspace_id != workspace.pk:
        errors["version"] = "The journey version belongs to another workspace."
    if environment.workspace_id != workspace.pk:
        errors["environment"] = "The environment belongs to another workspace."
    elif environment.archived:
        errors["environment"] = f"The environment {environment.name} is archived."
    if case is not None and case.journey_id != version.journey_id:
        errors["case"] = f"The case {case.name} belongs to another journey."
    if errors:
        raise ValidationError(errors)


def _fingerprint(parameters: Mapping[str, Any]) -> str:
    """Return an HMAC-SHA256 of the dispatch parameters under the store key.

    Keyed, because the parameters may hold secret inputs: a plain hash of a short secret could
    be guessed back from the column.
    """
    canonical = json.dumps(numbers.plain(dict(parameters)), sort_keys=True, default=str)
    key = hashlib.sha256(b"reqflo-dispatch:" + settings.REQFLO_SECRETS_KEY.encode()).digest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _check_key(key: str) -> str:
    key = key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationError(
            {"idempotency_key": f"At most {MAX_IDEMPOTENCY_KEY} characters (got {len(key)})."}
        )
    return key


@dataclass(frozen=True)
class _RunCheck:
    """The Run check of one version on one environment, made once and applied per input set."""

    definition: Any
    environment: Mapping[str, Any]
    secret_names: frozenset[str]
    cloud_issues: list[Issue]

    @classmethod
    def of(
        cls, *, workspace: Workspace, version: JourneyVersion, environment: Environment
    ) -> _RunCheck:
        return cls.of_definition(
            workspace=workspace,
            definition=check_document(version.document).definition,
            environment=environment,
        )

    @classmethod
    def of_definition(
        cls, *, workspace: Workspace, definition: Any, environment: Environment
    ) -> _RunCheck:
        return cls(
            definition=definition,
            environment=environment.as_mapping(),
            secret_names=workspace_secret_names(workspace),
            # As run on the Cloud Runner: its limits (registered by this app's config).
            cloud_issues=registered_run_check_issues(workspace=workspace, definition=definition),
        )

    def issues(self, inputs: Mapping[str, Any]) -> list[Issue]:
        """Return every issue (errors and warnings) of the Run check for these inputs."""
        issues = engine_run_check(
            self.definition,
            inputs=inputs,
            environment=self.environment,
            secret_names=self.secret_names,
        )
        return [*issues, *self.cloud_issues]

    def require(self, inputs: Mapping[str, Any]) -> None:
        """Raise ``DispatchRefused`` with every blocking issue for these inputs."""
        blocking = errors_only(self.issues(inputs))
        if blocking:
            raise DispatchRefused(blocking)


def _merged_inputs(
    artifact: Artifact,
    *,
    case: Case | None,
    inputs: Mapping[str, Any] | None,
    row: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge default < case < ``inputs`` < ``row`` into the declared inputs only.

    A name in ``inputs`` the journey does not declare is refused (a typo would otherwise run with
    the default, and a mistyped secret be stored unsealed), as ``reqflo run --set`` refuses it.
    Data-row columns that are not inputs (the label columns ``case``/``name``, or others) and
    undeclared case values are left out, as the CLI leaves them out.
    """
    declared = [str(decl["name"]) for decl in artifact.plan["inputs"]]
    unknown = [
        Issue(
            "error",
            "unknown_input",
            f"inputs.{name}",
            f"'{name}' is not an input of this journey{suggest(str(name), declared)}",
        )
        for name in (inputs or {})
        if name not in declared
    ]
    if unknown:
        raise DispatchRefused(unknown)
    if row is not None:
        row = {name: value for name, value in row.items() if name in declared}
    try:
        merged = merge_inputs(
            artifact, case=case.values if case else None, overrides=inputs, row=row
        )
    except DefinitionError as exc:
        raise DispatchRefused(exc.issues) from None
    return {name: value for name, value in merged.items() if name in declared}


def _route_parameters(route: Route) -> dict[str, Any]:
    # The Cloud Runner adds nothing, so a key made before routing existed keeps its meaning.
    if route.kind == RunnerKind.CLOUD:
        return {}
    return {"runner": str(route.kind), "runner_labels": list(route.labels)}


def _same_or_conflict(existing: Run | RunBatch, fingerprint: str, key: str) -> None:
    if existing.dispatch_fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"The idempotency key {key!r} was used for another dispatch with different "
            "parameters; use a new key for a different run."
        )


def _new_run(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    artifact_row: BuildArtifact,
    plan: Mapping[str, Any],
    environment: Environment,
    case: Case | None,
    merged: dict[str, Any],
    trigger: Trigger,
    triggered_by: User | None,
    key: str = "",
    fingerprint: str = "",
    batch: RunBatch | None = None,
    batch_row: int | None = None,
    route: Route | None = None,
    batch_label: str = "",
) -> Run:
    # The inputs column keeps exact numbers (`100.10`, 20 digits) as JSON numbers; a number
    # written in a way JSON cannot (`00012`, `+5`) is stored as its text, which the worker
    # coerces again (engine `merge_inputs`), so the run sends it as written.
    as_written = {
        name: str(value)
        if isinstance(value, numbers.Literal) and value.json_text != value.text
        else value
        for name, value in merged.items()
    }
    shown, sealed = seal_inputs(as_written, plan)
    return run_new(
        workspace=workspace,
        journey_version=version,
        artifact=artifact_row,
        environment=environment,
        case=case,
        inputs=shown,
        sealed_inputs=sealed,
        trigger=trigger,
        triggered_by=triggered_by,
        step_count=len(plan["steps"]),
        idempotency_key=key,
        dispatch_fingerprint=fingerprint,
        batch=batch,
        batch_row=batch_row,
        runner_kind=route.kind if route else RunnerKind.CLOUD,
        runner_labels=list(route.labels) if route else [],
        batch_label=batch_label,
    )


def run_dispatch(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    environment: Environment,
    trigger: Trigger,
    triggered_by: User | None = None,
    case: Case | None = None,
    inputs: Mapping[str, Any] | None = None,
    idempotency_key: str = "",
    artifact_row: BuildArtifact | None = None,
    runner: str | None = None,
    runner_labels: Sequence[str] | None = None,
) -> Dispatched:
    """Run the Run check, create a cloud run ``queued`` and nudge a worker after the commit.

    Inputs are merged (default < case < ``inputs``) now, so the run records exactly what it ran
    with (secret inputs sealed, see ``reqflo.runs.inputs``); secrets are resolved later, by the
    worker. ``artifact_row`` pins an artifact (a re-run); otherwise the version's is compiled or
    reused. Runs beyond the workspace's concurrency limit stay queued and start as others finish.
    ``runner`` (``cloud`` or ``self_hosted``) and ``runner_labels`` route the run
    (``reqflo.runners.labels.route_for``; the journey's default runner when neither is given,
    else the workspace's): a
    self-hosted run is never sent to Celery, a runner claims it.

    Raises ``ValidationError`` for objects of another workspace or an archived environment,
    ``DispatchRefused`` with every blocking Run check issue, and ``IdempotencyConflict`` when
    ``idempotency_key`` already names a dispatch with other parameters.
    """
    key = _check_key(idempotency_key)
    _check_same_workspace(workspace=workspace, version=version, environment=environment, case=case)
    route = route_for(
        config=runner_config_for(workspace_id=workspace.pk),
        runner=runner,
        labels=runner_labels,
        journey=version.journey,
    )
    if artifact_row is None:
        artifact_row = build_artifact_for_version(version=version)
    artifact = Artifact.from_json(artifact_row.plan)
    merged = _merged_inputs(artifact, case=case, inputs=inputs)
    fingerprint = _fingerprint(
        {
            "version": version.pk,
            "artifact": artifact_row.pk,
            "environment": environment.pk,
            "case": case.pk if case else None,
            "inputs": merged,
            **_route_parameters(route),
        }
    )
    if key:
        existing = Run.objects.filter(workspace=workspace, idempotency_key=key).first()
        if existing is not None:
            _same_or_conflict(existing, fingerprint, key)
            return Dispatched(run=existing, created=False)
    _RunCheck.of(workspace=workspace, version=version, environment=environment).require(merged)
    runner_config_for(workspace_id=workspace.pk)
    run = _new_run(
        workspace=workspace,
        version=version,
        artifact_row=artifact_row,
        plan=artifact.plan,
        environment=environment,
        case=case,
        merged=merged,
        trigger=trigger,
        triggered_by=triggered_by,
        key=key,
        fingerprint=fingerprint if key else "",
        route=route,
    )
    nudge = _Nudge(workspace_id=workspace.pk)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            transaction.on_commit(nudge)
    except IntegrityError:
        if not key:
            raise
        # A concurrent dispatch with the same key won the insert.
        existing = Run.objects.get(workspace=workspace, idempotency_key=key)
        _same_or_conflict(existing, fingerprint, key)
        return Dispatched(run=existing, created=False)
    return Dispatched(run=run, created=True, broker_error=nudge.broker_error)


def dispatch_check(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    environment: Environment,
    case: Case | None = None,
    inputs: Mapping[str, Any] | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
    source: str = "the data file",
) -> list[Issue]:
    """Return the Run check ``run_dispatch`` would make for these parameters; create no run.

    With ``rows`` (a data file's, named ``source``), the check ``batch_dispatch`` makes: each
    row's values over the case and ``inputs``, every issue said once with the rows it holds
    for, and a required input no row, case, override or default gives named as a missing
    column of ``source``. Errors block the dispatch, warnings do not (``errors_only``). An
    input that does not convert to its declared type is an ``invalid_input`` error here too.
    Raises ``ValidationError`` for objects of another workspace or an archived environment.
    """
    _check_same_workspace(workspace=workspace, version=version, environment=environment, case=case)
    artifact = Artifact.from_json(build_artifact_for_version(version=version).plan)
    if rows is not None:
        check = _RunCheck.of(workspace=workspace, version=version, environment=environment)
        return _rows_check(artifact, check, case=case, inputs=inputs, rows=rows, source=source)
    try:
        merged = _merged_inputs(artifact, case=case, inputs=inputs)
    except DispatchRefused as refused:
        return refused.issues
    return _RunCheck.of(workspace=workspace, version=version, environment=environment).issues(
        merged
    )


def _merged_rows(
    artifact: Artifact,
    check: _RunCheck,
    *,
    case: Case | None,
    inputs: Mapping[str, Any] | None,
    rows: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Merge and Run-check each row; the blocking issues name their row (``rows[3].…``)."""
    merged_rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for index, row in enumerate(rows):
        try:
            merged = _merged_inputs(artifact, case=case, inputs=inputs, row=row)
            check.require(merged)
        except DispatchRefused as refused:
            issues += [
                Issue(i.severity, i.code, f"rows[{index}].{i.path}".rstrip("."), i.message)
                for i in refused.issues
            ]
            continue
        merged_rows.append(merged)
    return merged_rows, issues


def batch_check(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    environment: Environment,
    rows: Sequence[Mapping[str, Any]],
    case: Case | None = None,
) -> list[Issue]:
    """Return the errors ``batch_dispatch`` would refuse these rows with; create nothing.

    Each issue's path names its row and input (``rows[3].inputs.quantity``). Raises
    ``ValidationError`` for objects of another workspace or an archived environment.
    """
    _check_same_workspace(workspace=workspace, version=version, environment=environment, case=case)
    artifact = Artifact.from_json(build_artifact_for_version(version=version).plan)
    check = _RunCheck.of(workspace=workspace, version=version, environment=environment)
    return _merged_rows(artifact, check, case=case, inputs=None, rows=rows)[1]


def _rows_check(
    artifact: Artifact,
    check: _RunCheck,
    *,
    case: Case | None,
    inputs: Mapping[str, Any] | None,
    rows: Sequence[Mapping[str, Any]],
    source: str,
) -> list[Issue]:
    found: dict[tuple[str, str, str, str], list[int]] = {}
    for number, row in enumerate(rows, start=1):
        try:
            issues = check.issues(_merged_inputs(artifact, case=case, inputs=inputs, row=row))
        except DispatchRefused as refused:
            issues = refused.issues
        for issue in issues:
            found.setdefault((issue.severity, issue.code, issue.path, issue.message), []).append(
                number
            )
    declared = [str(decl["name"]) for decl in artifact.plan["inputs"]]
    columns = {name for row in rows for name in row}
    said: list[Issue] = []
    for (severity, code, path, message), numbers_ in found.items():
        where = source if len(numbers_) == len(rows) else f"{source} {_row_list(numbers_)}"
        if code == "missing_input":
            name = next((n for i, n in enumerate(declared) if path == f"inputs[{i}]"), "")
            if name and name not in columns:
                message = (
                    f"{source} has no '{name}' column, and no case, override or default gives "
                    f"the required input '{name}'"
                )
            elif name:
                message = f"required input '{name}' has an empty cell"
        said.append(Issue(severity, code, f"{where}: {path}", message))  # type: ignore[arg-type]
    return said


def _row_list(numbers_: list[int]) -> str:
    """Say which rows: "row 3", "rows 1, 4, 9" or "rows 1, 2, 3 and 7 more"."""
    if len(numbers_) == 1:
        return f"row {numbers_[0]}"
    shown = ", ".join(str(n) for n in numbers_[:5])
    more = f" and {len(numbers_) - 5} more" if len(numbers_) > 5 else ""
    return f"rows {shown}{more}"


def batch_dispatch(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    environment: Environment,
    rows: Sequence[Mapping[str, Any]],
    trigger: Trigger,
    triggered_by: User | None = None,
    case: Case | None = None,
    inputs: Mapping[str, Any] | None = None,
    idempotency_key: str = "",
    runner: str | None = None,
    runner_labels: Sequence[str] | None = None,
) -> BatchDispatched:
    """Fan ``rows`` out as one child run per row (default < case < ``inputs`` < row).

    Every row passes the Run check before anything is created, and the errors name the row
    (``rows[3].inputs.quantity: …``). Children are identified by (batch, row index), so a
    retried fan-out (same key, same rows) completes a half-made batch without duplicating a
    child. Children wait ``queued`` within the concurrency limit like any run.

    Raises as ``run_dispatch`` does, and ``ValidationError`` for an empty ``rows``.
    """
    key = _check_key(idempotency_key)
    if not rows:
        raise ValidationError({"rows": "The data file has no rows: nothing to run."})
    _check_same_workspace(workspace=workspace, version=version, environment=environment, case=case)
    route = route_for(
        config=runner_config_for(workspace_id=workspace.pk),
        runner=runner,
        labels=runner_labels,
        journey=version.journey,
    )
    artifact_row = build_artifact_for_version(version=version)
    artifact = Artifact.from_json(artifact_row.plan)
    check = _RunCheck.of(workspace=workspace, version=version, environment=environment)
    merged_rows, issues = _merged_rows(artifact, check, case=case, inputs=inputs, rows=rows)
    if issues:
        raise DispatchRefused(issues)
    fingerprint = _fingerprint(
        {
            "version": version.pk,
            "artifact": artifact_row.pk,
            "environment": environment.pk,
            "case": case.pk if case else None,
            "rows": merged_rows,
            **_route_parameters(route),
        }
    )
    runner_config_for(workspace_id=workspace.pk)
    batch, created = _batch_row(
        workspace=workspace,
        version=version,
        environment=environment,
        case=case,
        row_count=len(merged_rows),
        trigger=trigger,
        triggered_by=triggered_by,
        key=key,
        fingerprint=fingerprint,
    )
    nudge = _Nudge(workspace_id=workspace.pk)
    if batch.cancel_requested_at is not None:
        # Cancelled before its fan-out completed: a retry creates nothing more.
        return BatchDispatched(batch=batch, created=False)
    with transaction.atomic():
        if RunBatch.objects.select_for_update().get(pk=batch.pk).cancel_requested_at:
            return BatchDispatched(batch=batch, created=False)
        have = set(batch.runs.values_list("batch_row", flat=True))
        Run.objects.bulk_create(
            [
                _new_run(
                    workspace=workspace,
                    version=version,
                    artifact_row=artifact_row,
                    plan=artifact.plan,
                    environment=environment,
                    case=case,
                    merged=merged,
                    trigger=trigger,
                    triggered_by=triggered_by,
                    batch=batch,
                    batch_row=index,
                    route=route,
                    batch_label=(row_label(rows[index]) or "")[:200],
                )
                for index, merged in enumerate(merged_rows)
                if index not in have
            ],
            batch_size=500,
            # A concurrent retry of the same fan-out may insert some children first.
            ignore_conflicts=True,
        )
        transaction.on_commit(nudge)
    return BatchDispatched(batch=batch, created=created, broker_error=nudge.broker_error)


def _batch_row(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    environment: Environment,
    case: Case | None,
    row_count: int,
    trigger: Trigger,
    triggered_by: User | None,
    key: str,
    fingerprint: str,
) -> tuple[RunBatch, bool]:
    """Return the batch this fan-out fills: the key's earlier one, or a new one."""
    if key:
        existing = RunBatch.objects.filter(workspace=workspace, idempotency_key=key).first()
        if existing is not None:
            _same_or_conflict(existing, fingerprint, key)
            return existing, False
    batch = RunBatch(
        workspace=workspace,
        journey_version=version,
        environment=environment,
        case=case,
        row_count=row_count,
        trigger=trigger,
        triggered_by=triggered_by,
        idempotency_key=key,
        dispatch_fingerprint=fingerprint,
    )
    try:
        with transaction.atomic():
            batch.save(force_insert=True)
    except IntegrityError:
        if not key:
            raise
        existing = RunBatch.objects.get(workspace=workspace, idempotency_key=key)
        _same_or_conflict(existing, fingerprint, key)
        return existing, False
    return batch, True


# --- Re-run -------------------------------------------------------------------------------------


def run_rerun(
    *,
    run: Run,
    by: User,
    trigger: Trigger,
    secret_inputs: Mapping[str, Any] | None = None,
) -> Dispatched:
    """Dispatch a new run of exactly ``run``'s artifact, environment, case and inputs.

    Secret inputs are not kept once a run finishes (``reqflo.runs.inputs``), so a finished
    run's secret inputs must be given again in ``secret_inputs``; ``DispatchRefused`` names any
    that are missing. Raises as ``run_dispatch`` does.
    """
    artifact_row = run.artifact
    secret_names = secret_input_names(Artifact.from_json(artifact_row.plan).plan)
    inputs = run_inputs(run) if run.sealed_inputs else dict(run.inputs)
    given = dict(secret_inputs or {})
    missing = []
    for name in sorted(secret_names):
        if name in given:
            inputs[name] = given[name]
        elif not run.sealed_inputs and name in run.inputs and run.inputs[name] is not None:
            missing.append(
                Issue(
                    "error",
                    "secret_input_needed",
                    f"inputs.{name}",
                    "secret inputs are not kept after a run finishes; give it again to re-run",
                )
            )
    if missing:
        raise DispatchRefused(missing)
    return run_dispatch(
        workspace=run.workspace,
        version=run.journey_version,
        environment=run.environment,
        case=run.case,
        inputs=inputs,
        trigger=trigger,
        triggered_by=by,
        artifact_row=artifact_row,
        # Where the first run went, whatever the workspace's default is now.
        runner="self_hosted" if run.runner_kind == RunnerKind.SELF_HOSTED else "cloud",
        runner_labels=run.runner_labels if run.runner_kind == RunnerKind.SELF_HOSTED else None,
    )
