"""Fixtures for import tests: the real documents, a loopback httpbin, and a way to run a journey."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reqflo.engine import (
    RunResult,
    compile_definition,
    definition_from_data,
    merge_inputs,
    run_artifact,
)
from reqflo.engine.imports import ImportedJourney, ImportResult
from tests.httpbin_server import running_httpbin

DATA = Path(__file__).resolve().parents[2] / "data" / "imports"


@pytest.fixture(scope="session")
def httpbin() -> Iterator[str]:
    with running_httpbin() as base_url:
        yield base_url


def journey(result: ImportResult, slug: str) -> ImportedJourney:
    return next(j for j in result.journeys if j.slug == slug)


def run_journey(
    imported: ImportedJourney,
    base_url: str,
    *,
    inputs: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> RunResult:
    """Parse, compile and run an imported journey with the engine against `base_url`."""
    artifact = compile_definition(definition_from_data(copy.deepcopy(imported.document)))
    return run_artifact(
        artifact,
        inputs=merge_inputs(artifact, overrides=inputs or {}),
        environment={"base_url": base_url},
        secrets=secrets or {},
    )


def statuses(run: RunResult) -> dict[str, str]:
    return {step.step_id: step.status for step in run.steps}
