"""A long-lived self-hosted runner masks the secrets of the runs it holds in everything it prints,
and lets them go with the run: its redactor never grows with every secret it ever held (a
runner seeing a fresh secret input per run slowed down without end: `Redactor.add` costs in
proportion to what is registered, and every printed line is scanned for all of it)."""

from __future__ import annotations

import io

from reqflo.cli.runner import RunnerOptions, SelfHostedRunner
from reqflo.engine.redaction import REDACTED


def _claim(run: int, secret: str) -> dict[str, object]:
    return {
        "run_id": f"run-{run}",
        "lease": {"token": run, "attempt": 1, "seconds": 30},
        "secrets": {"api_key": secret},
        "redact": [f"pw-{secret}"],
    }


def test_a_held_runs_secrets_are_masked_until_it_is_let_go() -> None:
    out = io.StringIO()
    runner = SelfHostedRunner(RunnerOptions(url="http://127.0.0.1:9", token="rqr_tok3n"), out=out)
    first = runner._hold_texts(_claim(1, "Alpha-Secret-1"))
    second = runner._hold_texts(_claim(2, "Bravo-Secret-2"))
    runner.log("rqr_tok3n Alpha-Secret-1 Bravo-Secret-2 pw-Bravo-Secret-2")
    assert out.getvalue().count(REDACTED) == 4

    runner._forget(first)
    runner.log("still held: Bravo-Secret-2; token rqr_tok3n")
    assert "Bravo-Secret-2" not in out.getvalue()
    assert "rqr_tok3n" not in out.getvalue()
    assert "Alpha-Secret-1" not in runner.redactor.texts()
    runner._forget(second)
    runner._forget(second)  # a second let-go of the same claim changes nothing
    assert runner.redactor.texts() == frozenset({"rqr_tok3n"})


def test_a_thousand_runs_leave_the_redactor_as_it_started() -> None:
    runner = SelfHostedRunner(
        RunnerOptions(url="http://127.0.0.1:9", token="rqr_tok3n"), out=io.StringIO()
    )
    start = runner.redactor.texts()
    held = runner._hold_texts(_claim(0, "Always-Held-0"))
    for run in range(1, 1001):
        runner._forget(runner._hold_texts(_claim(run, f"Fresh-Secret-{run:04d}")))
    assert runner.redactor.texts() == start | {"Always-Held-0", "pw-Always-Held-0"}
    runner._forget(held)
    assert runner.redactor.texts() == start
