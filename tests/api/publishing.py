"""Build what ``reqflo run … --publish`` sends, by running a journey for real with the engine.

``published_body`` runs the document against a live target with ``run_artifact`` under a fresh
run id and returns the CLI's request body (``reqflo.cli.publish.publish_body``): the same
redaction and digest chain the CLI applies, so the API tests publish what the CLI publishes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from reqflo.cli.publish import CiJob, PublishTarget, new_run_id, publish_body
from reqflo.cli.server import ServerConfig
from reqflo.engine import Redactor, compile_definition, load_definition, run_artifact
from reqflo.engine.digest import GENESIS, step_digest

GITHUB_JOB = CiJob(
    provider="github",
    base_key="github|https://github.com|acme/shop|9001|ci|smoke",
    repository="acme/shop",
    commit="0123456789abcdef0123456789abcdef01234567",
    ref="main",
    job_url="https://github.com/acme/shop/actions/runs/9001",
    pipeline_id="9001",
    job="smoke",
    attempt="1",
)


def published_body(
    document: dict[str, Any],
    base_url: str,
    *,
    job: CiJob | None = GITHUB_JOB,
    environment: str = "staging",
    secrets: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """Run ``document`` against ``base_url`` and return (request body, idempotency key)."""
    text = json.dumps(document)
    artifact = compile_definition(load_definition(text, source="test"))
    secrets = secrets or {}
    result = run_artifact(
        artifact,
        inputs={},
        environment={"base_url": base_url},
        secrets=secrets,
        run_id=new_run_id(),
        environment_name=environment,
    )
    target = PublishTarget(
        config=ServerConfig(url="http://unused", token="unused"),
        job=job,
        definition_text=text,
        environment=environment,
        environment_base_url=base_url,
        case=None,
        sets=(),
        invocation="laptop",
    )
    return publish_body(target, result, Redactor(secrets.values())), target.key(result)


def rechained(body: dict[str, Any]) -> dict[str, Any]:
    """Return a copy whose digests and head are recomputed (what a careful forger sends)."""
    body = copy.deepcopy(body)
    previous = GENESIS
    for step in body["run"]["steps"]:
        previous = step_digest(
            previous,
            run_id=body["run"]["id"],
            index=step["index"],
            step_id=step["step_id"],
            status=step["status"],
            evidence=step["evidence"],
        )
        step["digest"] = previous
    body["run"]["head_digest"] = previous
    return body
