"""Issue 17 item 3: a command's rows register their common secrets once (`Seeds`).

A redactor handed out by `Seeds` must be, field for field, the redactor the run would have
built itself (`Redactor(secrets)` then `add(*secret_inputs)`), stay so while the run adds its
own values (captured tokens, strings built from them), and leave the seed untouched for the
next row: its copies share nothing either may change. Secrets include the characters whose
lower case depends on where they stand or changes length (sigma, dotted I).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.cli.execute import Job, RunContext, execute
from reqflo.engine import compile_definition, load_definition
from reqflo.engine.redaction import Redactor, Seeds
from tests.engine.test_redaction_step_oracle import LONG_SECRETS, SECRET_CHARS, SHORT_SECRETS

VALUES = st.lists(LONG_SECRETS | SHORT_SECRETS | st.text(SECRET_CHARS, max_size=3), max_size=3)


def fields(redactor: Redactor) -> dict[str, Any]:
    """Every field of a redactor but the `stop` it asks."""
    return {name: value for name, value in vars(redactor).items() if name != "_stop"}


def built(secrets: list[Any], inputs: list[Any]) -> Redactor:
    """What a run builds on its own."""
    redactor = Redactor(secrets)
    redactor.add(*inputs)
    return redactor


@settings(max_examples=150, deadline=None)
@given(
    secrets=VALUES,
    inputs=VALUES,
    captured=VALUES,
    derived=st.lists(LONG_SECRETS, max_size=2),
    texts=st.lists(st.text(SECRET_CHARS, max_size=40), max_size=4),
)
def test_a_seeded_redactor_is_the_one_a_run_builds(
    secrets: list[str],
    inputs: list[str],
    captured: list[str],
    derived: list[str],
    texts: list[str],
) -> None:
    seeds = Seeds()
    stop = lambda: False  # noqa: E731
    first = seeds.redactor(secrets, inputs, stop=stop)
    assert first._stop is stop
    assert fields(first) == fields(built(secrets, inputs))
    # The run adds its own values; the copy changes, the seed does not.
    fresh = built(secrets, inputs)
    for redactor in (first, fresh):
        redactor.add(*captured)
        redactor.add(*derived, derived=True)
    assert fields(first) == fields(fresh)
    for text in [*texts, *captured, *derived, *(t.upper() for t in texts)]:
        assert first.redact(text) == fresh.redact(text)
    second = seeds.redactor(list(secrets), list(inputs))
    assert second._stop is None
    assert fields(second) == fields(built(secrets, inputs))
    assert second._run_memo == {}
    assert second._run_memo is not first._run_memo


def test_other_values_replace_the_seed_and_non_strings_are_registered_afresh() -> None:
    seeds = Seeds()
    one = seeds.redactor(["ΣecretΣ-one"], ["İstanbul-pw"])
    two = seeds.redactor(["ΣecretΣ-one"], ["other-password"])
    assert fields(two) == fields(built(["ΣecretΣ-one"], ["other-password"]))
    assert fields(one) == fields(built(["ΣecretΣ-one"], ["İstanbul-pw"]))
    structured = {"user": "alice-user", "pin": 12345678}
    three = seeds.redactor(["ΣecretΣ-one"], [structured, 42424242])
    assert fields(three) == fields(built(["ΣecretΣ-one"], [structured, 42424242]))
    # A value equal as a key but of another type (1 == 1.0 == True) is never taken for it.
    assert seeds.redactor([], [True]).redact("true") == "true"
    assert fields(seeds.redactor([], [1234.0])) == fields(built([], [1234.0]))


JOURNEY = """
journey:
  name: Seeds
  inputs:
    - {name: password, default: dm0-Qv8x-R2kp, secret: true}
    - {name: label, default: plain}
  steps:
    - id: echo
      request:
        method: POST
        url: "http://shop.test/echo"
        json: {password: "{{ inputs.password }}", label: "{{ inputs.label }}"}
"""


class Echo:
    """A transport that answers each request with its body."""

    def handle_request(self, request: Any) -> Any:
        import httpx

        return httpx.Response(200, content=request.read())

    def close(self) -> None:
        pass


def test_rows_with_their_own_password_are_redacted_with_it() -> None:
    import httpx

    artifact = compile_definition(load_definition(JOURNEY))
    context = RunContext(artifact=artifact, environment={}, environment_name=None, secrets={})
    rows = [
        {"password": "dm0-Qv8x-R2kp", "label": "a"},
        {"password": "row-two-Σecret", "label": "b"},
        {"password": "dm0-Qv8x-R2kp", "label": "c"},
        {"password": "row-two-Σecret", "label": "dm0-Qv8x-R2kp"},
    ]
    jobs = (Job(index=i, inputs=row, label=None) for i, row in enumerate(rows))
    transport: Any = type("T", (Echo, httpx.BaseTransport), {})()
    results = list(execute(context, jobs, parallel=1, transport=transport))
    for row, result in zip(rows, results, strict=True):
        response = result.steps[0].attempts[0].response
        assert response is not None
        body = response.body or ""
        assert row["password"] not in body
        # The other row's password is no secret of this row: shown as the label it is.
        assert (row["label"] in body) == (row["label"] != row["password"])
