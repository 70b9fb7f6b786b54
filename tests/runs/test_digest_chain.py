"""The evidence digest chain: stored, verified in the database and offline, tampering found."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from reqflo.engine.digest import (
    GENESIS,
    canonical_record,
    chain_digest,
    verify_bundle,
)
from reqflo.runners.execution import run_execute
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.runs.selectors import run_evidence_bundle, verify_run_chain
from tests.factories import RunFactory
from tests.runs.fixtures import MakeScenario, Target

pytestmark = pytest.mark.django_db

# PostgreSQL text holds no NUL and no lone surrogate; the evidence never does either.
TEXT = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@pytest.fixture
def finished_run(make_scenario: MakeScenario, target: Target, settings: Settings) -> Run:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    run = make_scenario().dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    return run


def _tamper(sql: str, *params: object) -> None:
    """Change rows behind the triggers' back, as a database superuser could."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, list(params))


def test_each_step_result_chains_to_the_previous_and_the_run_stores_the_head(
    finished_run: Run,
) -> None:
    rows = list(StepResult.objects.filter(run=finished_run).order_by("index"))
    previous = GENESIS
    for row in rows:
        canonical = canonical_record(
            run_id=str(finished_run.pk),
            index=row.index,
            step_id=row.step_id,
            status=row.status,
            evidence=row.evidence,
        )
        # The documented form: sha256(canonical bytes + previous digest's hex text).
        assert row.digest == hashlib.sha256(canonical + previous.encode()).hexdigest()
        previous = row.digest
    assert len(rows) == 3
    assert finished_run.head_digest == rows[-1].digest
    check = verify_run_chain(finished_run)
    assert (check.ok, check.steps, check.head, check.broken_at) == (True, 3, previous, None)


def test_an_exported_bundle_verifies_offline_from_its_json(finished_run: Run) -> None:
    text = json.dumps(run_evidence_bundle(run=finished_run))
    bundle = json.loads(text)
    assert bundle["format"] == "reqflo-evidence/1"
    assert verify_bundle(bundle).ok


@pytest.mark.parametrize(
    ("change", "broken_at", "reason"),
    [
        (lambda b: b["steps"][1]["evidence"].update(name="renamed"), 1, "does not match"),
        (lambda b: b["steps"][0].update(status="failed"), 0, "does not match"),
        (lambda b: b["steps"].pop(), None, "head digest does not match"),
        (lambda b: b["steps"].pop(0), 0, "missing"),
        (lambda b: b["run"].update(id="00000000-0000-0000-0000-000000000000"), 0, "not match"),
        (lambda b: b["run"].update(head_digest="0" * 64), None, "head digest"),
        (lambda b: b["steps"][2].pop("evidence"), 2, "cannot be read"),
    ],
)
def test_any_change_to_an_exported_bundle_is_found_and_placed(
    finished_run: Run, change: Any, broken_at: int | None, reason: str
) -> None:
    bundle = json.loads(json.dumps(run_evidence_bundle(run=finished_run)))
    change(bundle)
    check = verify_bundle(bundle)
    assert not check.ok
    assert check.broken_at == broken_at
    assert reason in check.reason


def test_a_swap_of_two_step_results_is_found(finished_run: Run) -> None:
    bundle = run_evidence_bundle(run=finished_run)
    steps = bundle["steps"]
    steps[0], steps[1] = copy.deepcopy(steps[1]), copy.deepcopy(steps[0])
    steps[0]["index"], steps[1]["index"] = 0, 1
    assert verify_bundle(bundle).broken_at == 0


def test_a_bundle_that_is_not_one_is_a_reason_not_a_crash() -> None:
    assert "run id" in verify_bundle({}).reason
    assert "not a list" in verify_bundle({"run": {"id": "r"}, "steps": "x"}).reason
    assert (
        "no head digest"
        in verify_bundle({"run": {"id": "r", "status": "passed"}, "steps": []}).reason
    )
    bad = {"run": {"id": "r", "status": "running"}, "steps": [{"index": 0, "evidence": {1j: 1}}]}
    assert "cannot be read" in verify_bundle(bad).reason


def test_a_running_run_verifies_its_links_without_a_final_head() -> None:
    run = RunFactory(steps=("passed", "failed"), step_count=3)
    assert run.status == RunStatus.RUNNING
    assert verify_run_chain(run).ok
    assert run.head_digest == StepResult.objects.get(run=run, index=1).digest


def test_evidence_changed_in_the_database_breaks_the_chain_at_that_step(finished_run: Run) -> None:
    _tamper(
        "UPDATE runs_stepresult SET evidence = jsonb_set(evidence::jsonb, '{name}', '\"x\"')::json "
        "WHERE run_id = %s AND index = 1",
        finished_run.pk,
    )
    check = verify_run_chain(finished_run)
    assert (check.ok, check.broken_at) == (False, 1)


def test_a_step_result_removed_from_the_database_breaks_the_head(finished_run: Run) -> None:
    _tamper("DELETE FROM runs_stepresult WHERE run_id = %s AND index = 2", finished_run.pk)
    check = verify_run_chain(finished_run)
    assert (check.ok, check.broken_at) == (False, None)
    assert "head digest" in check.reason


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(evidence=st.dictionaries(TEXT, JSON_VALUES, max_size=5))
def test_the_canonical_form_survives_a_round_trip_through_jsonb(evidence: dict[str, Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb", [json.dumps(evidence)])
        stored = cursor.fetchone()[0]
    stored = json.loads(stored) if isinstance(stored, str) else stored
    before = canonical_record(run_id="r", index=0, step_id="s", status="passed", evidence=evidence)
    after = canonical_record(run_id="r", index=0, step_id="s", status="passed", evidence=stored)
    assert before == after
    assert chain_digest(GENESIS, before) == chain_digest(GENESIS, after)
