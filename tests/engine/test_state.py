from __future__ import annotations

import json

from reqflo.engine import (
    REDACTED,
    RunState,
    StepResult,
    compile_definition,
    execute_step,
    load_definition,
    run_steps,
)
from tests.engine.conftest import Target

JOURNEY = """
journey:
  name: Resumable
  steps:
    - id: login
      request: {method: POST, url: "{{ env.base_url }}/login", json: {password: Secret-Pw-1}}
      assertions: [{type: status_code, expected: 200}]
      outputs:
        token: {from: body, path: $.token, secret: true}
    - id: who
      request:
        method: GET
        url: "{{ env.base_url }}/whoami"
        headers: {Authorization: "Bearer {{ steps.login.outputs.token }}"}
      assertions:
        - {type: json_path, path: $.cookie, operator: equals, expected: shop_session=s3ss10n}
        - type: json_path
          path: $.authorization
          operator: equals
          expected: "Bearer {{ steps.login.outputs.token }}"
"""


def test_a_run_resumes_from_a_json_checkpoint_in_a_new_state(target: Target) -> None:
    artifact = compile_definition(load_definition(JOURNEY))
    context = {"inputs": {}, "environment": {"base_url": target.base_url}, "secrets": {}}
    with RunState(artifact, run_id="run_resume", **context) as first:  # type: ignore[arg-type]
        login = execute_step(first, 0)
        checkpoint = json.dumps(first.snapshot())
        stored = json.dumps(login.to_dict())

    with RunState.restore(
        artifact,
        json.loads(checkpoint),
        results=[StepResult.from_dict(json.loads(stored))],
        **context,  # type: ignore[arg-type]
    ) as second:
        who = execute_step(second, 1)

    assert login.outputs == {"token": REDACTED}
    assert who.status == "passed", who.failed_assertions
    assert second.run_id == "run_resume"
    assert sorted(second.results) == [0, 1]
    # The restored secret output is still masked in the resumed step's evidence.
    assert "tok-Secret-Pw-1" not in json.dumps(who.to_dict())


def test_a_failed_step_in_the_checkpoint_still_skips_the_rest(target: Target) -> None:
    artifact = compile_definition(load_definition(JOURNEY.replace("Secret-Pw-1", "''")))
    context = {"inputs": {}, "environment": {"base_url": target.base_url}, "secrets": {}}
    with RunState(artifact, **context) as first:  # type: ignore[arg-type]
        assert execute_step(first, 0).status == "failed"
        checkpoint = first.snapshot()

    with RunState.restore(artifact, checkpoint, **context) as second:  # type: ignore[arg-type]
        skipped = execute_step(second, 1)

    assert skipped.status == "skipped"
    assert skipped.skip_reason == "skipped because step 'login' did not pass"


PEEK_FIRST = JOURNEY.replace(
    "  steps:\n",
    "  steps:\n"
    "    - id: peek\n"
    '      request: {method: POST, url: "{{ env.base_url }}/login", '
    "json: {password: Secret-Pw-1}}\n",
    1,
)


def test_the_one_loop_resumes_at_a_start_index_and_re_redacts_restored_steps(
    target: Target,
) -> None:
    # Step peek shows the token before step login captures it as a secret; the run is
    # interrupted after peek (the hook stops the loop) and resumed from its checkpoint.
    artifact = compile_definition(load_definition(PEEK_FIRST))
    context = {"inputs": {}, "environment": {"base_url": target.base_url}, "secrets": {}}
    with RunState(artifact, run_id="run_peek", **context) as first:  # type: ignore[arg-type]
        assert not run_steps(first, after_step=lambda result, amended: False)
        assert sorted(first.results) == [0]
        checkpoint = json.dumps(first.snapshot())
        stored = json.dumps(first.results[0].to_dict())
    assert "tok-Secret-Pw-1" in stored  # nothing was secret yet

    calls: list[tuple[str, list[str]]] = []
    with RunState.restore(
        artifact,
        json.loads(checkpoint),
        results=[StepResult.from_dict(json.loads(stored))],
        **context,  # type: ignore[arg-type]
    ) as second:
        assert run_steps(
            second,
            start=1,
            after_step=lambda result, amended: (
                calls.append((result.step_id, [a.step_id for a in amended])) is None
            ),
        )
    assert calls == [("login", ["peek"]), ("who", [])]
    assert second.results[2].status == "passed", second.results[2].failed_assertions
    assert "tok-Secret-Pw-1" not in json.dumps([r.to_dict() for r in second.results.values()])
