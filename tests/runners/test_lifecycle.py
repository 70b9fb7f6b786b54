"""One lifecycle module: every run row is made by ``leases.run_new``; restart copies a whole run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reqflo.runners.leases import RUN_DEFINITION, checkpoint_commit, lease_take, run_new
from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus
from tests.runs.fixtures import MakeScenario

PACKAGE = Path(__file__).resolve().parent.parent.parent / "reqflo"
MAKERS = {"create", "get_or_create", "update_or_create"}


def _run_constructions() -> list[str]:
    """Return "path:line in function" for every ``Run(...)`` or ``Run.objects.create(...)``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                call = ast.unparse(node.func)
                if call == "Run" or (
                    call.startswith("Run.objects.") and call.rsplit(".", 1)[1] in MAKERS
                ):
                    found.append(f"{path.relative_to(PACKAGE)} in {function.name}")
    return found


def test_runs_are_created_in_one_place() -> None:
    assert _run_constructions() == ["runners/leases.py in run_new"]


def test_run_new_names_a_field_it_does_not_set() -> None:
    with pytest.raises(TypeError, match="does not set lease_token, status"):
        run_new(status="passed", lease_token=3)


@pytest.mark.django_db
def test_restart_copies_everything_that_defines_the_run(make_scenario: MakeScenario) -> None:
    run = make_scenario(retry_policy="restart").dispatch()
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    checkpoint_commit(lease, index=0, step_id="login", evidence={"status": "passed"}, snapshot={})
    Run.objects.filter(pk=run.pk).update(lease_expires_at=run.created_at)  # expired
    assert run.pk in runs_sweep().settled
    run.refresh_from_db()  # its sealed inputs (none here) are dropped as it finishes
    fresh = Run.objects.get(retry_of=run)
    assert {name: getattr(fresh, name) for name in RUN_DEFINITION} == {
        name: getattr(run, name) for name in RUN_DEFINITION
    }
    assert (fresh.status, fresh.next_step, fresh.attempts, fresh.head_digest) == (
        RunStatus.QUEUED,
        0,
        1,
        "",
    )
