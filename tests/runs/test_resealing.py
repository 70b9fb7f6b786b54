"""A store key rotation re-seals what unfinished runs still need, all or nothing.

The end-to-end case (a real worker resumes a run from a re-sealed checkpoint after the old key
is gone) is tests/runners/test_worker_runs.py; these check each column and the refusals.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from pytest_django.fixtures import Settings

from reqflo.runners.leases import checkpoint_commit, lease_take
from reqflo.runs.inputs import run_inputs
from reqflo.runs.models import Run, StepResult
from reqflo.secrets.crypto import StoreCipher, UndecryptableValue
from reqflo.secrets.models import SecretValue
from tests.runners.test_dispatch_service import WITH_INPUTS
from tests.runs.fixtures import MakeScenario, Scenario
from tests.runs.test_immutability import _raw

pytestmark = pytest.mark.django_db

NEW_KEY = "resealing-new-store-key-" + "q4" * 12
PASSWORD = "pw-given-Xk29-secret"


def _running(scenario: Scenario) -> Run:
    from reqflo.runners.services import run_dispatch
    from reqflo.runs.models import Trigger

    run = run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        inputs={"n": 3, "password": PASSWORD},
        trigger=Trigger.API,
        triggered_by=scenario.owner,
    ).run
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    snapshot = {"outputs": {"echo": {"token": PASSWORD}}}
    checkpoint_commit(
        lease, index=0, step_id="echo", evidence={"status": "passed"}, snapshot=snapshot
    )
    return run


def _finish(run: Run) -> Run:
    _raw("UPDATE runs_run SET status = 'passed', finished_at = now() WHERE id = %s", run.pk)
    return run


def _rotate(tmp_path: Path) -> str:
    (tmp_path / "new.key").write_text(NEW_KEY)
    out = StringIO()
    call_command("rotate_secrets_key", new_key_file=str(tmp_path / "new.key"), stdout=out)
    return out.getvalue()


def test_sealed_inputs_and_checkpoints_of_unfinished_runs_move_to_the_new_key(
    make_scenario: MakeScenario, settings: Settings, tmp_path: Path
) -> None:
    old_key = settings.REQFLO_SECRETS_KEY
    scenario = make_scenario(WITH_INPUTS)
    run = _running(scenario)
    finished_run = _finish(_running(scenario))
    finished_rows = {r.pk: bytes(r.checkpoint) for r in StepResult.objects.filter(run=finished_run)}
    output = _rotate(tmp_path)
    assert "Re-sealed the secret inputs of 1 and 1 checkpoint(s) of the unfinished runs" in output
    assert PASSWORD not in output
    settings.REQFLO_SECRETS_KEY = NEW_KEY  # the old key is dropped
    run.refresh_from_db()
    assert run_inputs(run)["password"] == PASSWORD
    checkpoint = bytes(StepResult.objects.get(run=run).checkpoint)
    assert PASSWORD in StoreCipher(NEW_KEY).decrypt(checkpoint)
    with pytest.raises(UndecryptableValue):
        StoreCipher(old_key).decrypt(checkpoint)
    # A finished run's rows are immutable and never read again: left as they were.
    after = {r.pk: bytes(r.checkpoint) for r in StepResult.objects.filter(run=finished_run)}
    assert after == finished_rows


def test_a_checkpoint_that_does_not_decrypt_refuses_the_whole_rotation(
    make_scenario: MakeScenario, settings: Settings, tmp_path: Path
) -> None:
    run = _running(make_scenario(WITH_INPUTS))
    foreign = StoreCipher("a-key-from-somewhere-else-" + "z" * 10).encrypt("{}")
    StepResult.objects.filter(run=run).update(checkpoint=foreign)
    values_before = {v.pk: bytes(v.value_raw) for v in _raw_values()}
    with pytest.raises(CommandError, match=f"The checkpoint of step 1 of run {run.pk} does not"):
        _rotate(tmp_path)
    assert {v.pk: bytes(v.value_raw) for v in _raw_values()} == values_before
    run.refresh_from_db()
    assert run_inputs(run)["password"] == PASSWORD  # still under the old key: nothing changed


def _raw_values() -> list[SecretValue]:
    from django.db.models import BinaryField
    from django.db.models.functions import Cast

    return list(SecretValue.objects.annotate(value_raw=Cast("value", output_field=BinaryField())))


def test_only_an_unfinished_runs_checkpoint_may_be_resealed_in_the_database(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    run, finished_run = _running(scenario), _finish(_running(scenario))
    reseal = (
        "UPDATE runs_stepresult SET checkpoint = checkpoint || '\\x00'::bytea WHERE run_id = %s"
    )
    _raw(reseal, run.pk)
    with pytest.raises(IntegrityError, match="immutable"):
        _raw(reseal, finished_run.pk)
