"""``reqflo run … --publish``: run here (in the CI job), then publish each run to the server.

The run executes with the local engine under a run id chosen here; the step results are
redacted again with every secret this process knows, their digest chain is computed exactly as
a cloud worker computes it, and the finished run is sent to ``POST /api/v1/ci/runs`` (retried on
connection errors and 5xx answers; the request is idempotent). docs/ci.md is the user's page.

The idempotency key names the CI job, not the attempt, so a retried job lands on the same run:

- GitHub Actions: ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``,
  ``GITHUB_WORKFLOW``, ``GITHUB_JOB`` (not ``GITHUB_RUN_ATTEMPT``);
- GitLab CI: ``CI_SERVER_URL``, ``CI_PROJECT_ID``, ``CI_PIPELINE_ID``, ``CI_JOB_NAME`` (not
  ``CI_JOB_ID``, which a retry changes; a ``parallel: matrix`` job's name holds its values);
- ``REQFLO_CI_KEY`` is added to those (a GitHub matrix passes ``toJSON(matrix)`` to tell its
  legs apart), and names the job alone in any other CI;
- then the journey's slug, ``--env``, ``--case``, the ``--set`` values and the data row.

Without CI variables (``--publish`` on a laptop) every invocation gets a fresh key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reqflo.cli.errors import ExitCode
from reqflo.cli.server import Server, ServerConfig, ServerError
from reqflo.engine import Redactor, RunResult
from reqflo.engine.digest import GENESIS, step_digest

PUBLISH_PATH = "/ci/runs"
ACCESS_PATH = "/ci/access"


@dataclass(frozen=True)
class CiJob:
    """The CI job this process runs in, read from the CI system's variables."""

    provider: str  # github | gitlab | other
    base_key: str  # "" when nothing names the job: every invocation is its own
    repository: str = ""
    commit: str = ""
    ref: str = ""
    job_url: str = ""
    pipeline_id: str = ""
    job: str = ""
    attempt: str = ""

    def metadata(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "repository": self.repository,
            "commit": self.commit,
            "ref": self.ref,
            "job_url": self.job_url,
            "pipeline_id": self.pipeline_id,
            "job": self.job,
            "attempt": self.attempt,
        }


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _job_key(parts: list[str], override: str, *, named: bool) -> str:
    """The job's variables, then ``REQFLO_CI_KEY`` (a matrix leg of that job); the override
    alone only when the variables do not name a job (so a new workflow run is a new run)."""
    if not named:
        return override
    return "|".join([*parts, override]) if override else "|".join(parts)


def ci_job(environ: Mapping[str, str]) -> CiJob | None:
    """Return the CI job from GitHub Actions or GitLab CI variables; None outside CI."""
    get = environ.get
    override = get("REQFLO_CI_KEY", "").strip()
    if _truthy(get("GITHUB_ACTIONS")):
        server, repo, run_id = (
            get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
            get("GITHUB_REPOSITORY", ""),
            get("GITHUB_RUN_ID", ""),
        )
        parts = ["github", server, repo, run_id, get("GITHUB_WORKFLOW", ""), get("GITHUB_JOB", "")]
        return CiJob(
            provider="github",
            base_key=_job_key(parts, override, named=bool(repo and run_id)),
            repository=repo,
            commit=get("GITHUB_SHA", ""),
            # A pull request's branch is GITHUB_HEAD_REF; GITHUB_REF_NAME is then "123/merge".
            ref=get("GITHUB_HEAD_REF") or get("GITHUB_REF_NAME", ""),
            job_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else "",
            pipeline_id=run_id,
            job=get("GITHUB_JOB", ""),
            attempt=get("GITHUB_RUN_ATTEMPT", ""),
        )
    if _truthy(get("GITLAB_CI")):
        parts = [
            "gitlab",
            get("CI_SERVER_URL", ""),
            get("CI_PROJECT_ID", "") or get("CI_PROJECT_PATH", ""),
            get("CI_PIPELINE_ID", ""),
            get("CI_JOB_NAME", ""),
        ]
        return CiJob(
            provider="gitlab",
            base_key=_job_key(parts, override, named=bool(get("CI_PIPELINE_ID"))),
            repository=get("CI_PROJECT_PATH", ""),
            commit=get("CI_COMMIT_SHA", ""),
            ref=get("CI_COMMIT_REF_NAME", ""),
            job_url=get("CI_JOB_URL", ""),
            pipeline_id=get("CI_PIPELINE_ID", ""),
            job=get("CI_JOB_NAME", ""),
            attempt=get("CI_JOB_ID", ""),
        )
    if _truthy(get("CI")) or override:
        return CiJob(provider="other", base_key=override, commit=get("CI_COMMIT_SHA", ""))
    return None


@dataclass(frozen=True)
class PublishTarget:
    """Where and how this invocation publishes: the server, the CI job, the shared key parts."""

    config: ServerConfig
    job: CiJob | None
    definition_text: str
    environment: str
    environment_base_url: str
    case: str | None
    sets: Sequence[str]
    invocation: str  # the fallback key of an invocation outside a named CI job

    def key(self, result: RunResult) -> str:
        """Return the run's idempotency key: the CI job, then what makes this run its own."""
        base = self.job.base_key if self.job and self.job.base_key else self.invocation
        parts = [
            base,
            result.journey_slug,
            self.environment,
            self.case or "",
            *sorted(self.sets),
            str(result.row or 0),
        ]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def publish_target(
    environ: Mapping[str, str],
    *,
    definition_text: str,
    environment: str | None,
    environment_base_url: str,
    case: str | None,
    sets: Sequence[str],
) -> PublishTarget:
    """Check the server settings before anything runs (exit 3 when they are missing)."""
    return PublishTarget(
        config=ServerConfig.from_environ(environ, what="reqflo run --publish"),
        job=ci_job(environ),
        definition_text=definition_text,
        environment=environment or "ci",
        environment_base_url=environment_base_url,
        case=case,
        sets=tuple(sets),
        invocation=os.urandom(16).hex(),
    )


def new_run_id() -> str:
    """Return a run id in the form the server's chain uses (``str(UUID)``)."""
    import uuid  # here: `uuid` imports `platform`, ~3 ms of every run's start

    return str(uuid.uuid4())


def chained_steps(result: RunResult, redactor: Redactor) -> tuple[list[dict[str, Any]], str]:
    """Return the step records with their chained digests, and the head, as the server checks."""
    records: list[dict[str, Any]] = []
    previous = GENESIS
    for index, step in enumerate(result.steps):
        evidence = redactor.redact_obj(step.to_dict())
        status = str(evidence.get("status", ""))
        previous = step_digest(
            previous,
            run_id=result.run_id,
            index=index,
            step_id=step.step_id,
            status=status,
            evidence=evidence,
        )
        records.append(
            {
                "index": index,
                "step_id": step.step_id,
                "status": status,
                "evidence": evidence,
                "digest": previous,
            }
        )
    return records, previous


def publish_body(target: PublishTarget, result: RunResult, redactor: Redactor) -> dict[str, Any]:
    steps, head = chained_steps(result, redactor)
    return {
        "definition": target.definition_text,
        "artifact_id": result.artifact_id,
        "environment": target.environment,
        "environment_base_url": target.environment_base_url,
        "case": target.case,
        "inputs": redactor.redact_obj(dict(result.inputs)),
        "run": {
            "id": result.run_id,
            "head_digest": head,
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "steps": steps,
        },
        "ci": target.job.metadata() if target.job else None,
    }


class Publisher:
    """Publish finished runs one by one; remember failures instead of raising them."""

    def __init__(self, target: PublishTarget, redactor: Redactor, stderr: Any) -> None:
        self.target = target
        self.redactor = redactor
        self.stderr = stderr
        self.failures: list[str] = []
        self._server: Server | None = None

    def _connection(self) -> Server:
        if self._server is None:
            trigger = "ci" if self.target.job else "cli"
            self._server = Server(self.target.config, trigger=trigger)
        return self._server

    def check_access(self) -> None:
        """Ask the server whether the token may publish, before anything runs: a token it
        refuses (401: unknown, expired or revoked; 403: a viewer's; 404: no such API) raises
        ``ServerError`` (exit 3) at once. A server that cannot be reached now is only noted:
        publishing is retried after the run, and the local run still decides its exit code."""
        try:
            self._connection().request("GET", ACCESS_PATH, retries=0)  # the run is waiting
        except ServerError as error:
            if error.status in (401, 403, 404):
                raise ServerError(
                    f"the server at {self.target.config.url} will not take published runs: "
                    f"{self.redactor.redact(error.message)} Nothing was run.",
                    status=error.status,
                    code=error.code,
                ) from None
            self.stderr.write(
                f"reqflo: warning: could not check publishing access: "
                f"{self.redactor.redact(error.message)}; running anyway, publishing after.\n"
            )

    def publish(self, result: RunResult) -> None:
        body = publish_body(self.target, result, self.redactor)
        try:
            answer = self._connection().post(
                PUBLISH_PATH, body, idempotency_key=self.target.key(result)
            )
            run, outcome = answer["run"], answer["outcome"]
        except ServerError as error:
            self._failed(result, error.message)
            return
        except (KeyError, TypeError, ValueError) as error:
            # A 2xx answer that is not the API's (a proxy's page, another service).
            self._failed(result, f"the answer was not a publish result ({type(error).__name__})")
            return
        if outcome == "kept_first":
            self.stderr.write(
                f"reqflo: this CI job already published run {run['id']} ({run['status']}); "
                f"that first result is kept and this run ({result.status}) is noted on "
                f"it: {run['url']}\n"
            )
        else:
            verb = "Published" if outcome == "created" else "Already published"
            self.stderr.write(f"{verb} run {run['id']} ({run['status']}): {run['url']}\n")

    def _failed(self, result: RunResult, why: str) -> None:
        self.failures.append(result.run_id)
        self.stderr.write(
            f"reqflo: error: could not publish run {result.run_id} to "
            f"{self.target.config.url}: {self.redactor.redact(why)}\n"
        )

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def exit_code(self, local: ExitCode) -> ExitCode:
        """The local run decides; a passed run whose publish failed exits 3 (docs/ci.md)."""
        if self.failures:
            self.stderr.write(
                f"reqflo: error: {len(self.failures)} run(s) were not published "
                f"({', '.join(self.failures)}); the report was still written. "
                "Re-run the CI job to publish them (the same job publishes once).\n"
            )
            if local == ExitCode.PASSED:
                return ExitCode.SERVER
        return local
