"""Issue 13, kind 2: text becomes a number without losing a digit, everywhere.

Inputs (`--set`, CSV and JSON data rows, defaults), header values, JSON bodies and operators all
read numbers exactly; what is sent is what was written. The issue's inputs are cases: a CSV
cell `11234567800033596096` and `--set n=9007199254740993` for a `type: number` input, and
numeric text compared with an ordering operator.
"""

from __future__ import annotations

import json
from decimal import Context, Decimal, localcontext
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.engine.definition import parse_document
from reqflo.engine.inputs import coerce
from reqflo.engine.operators import evaluate
from reqflo.engine.report import render_json
from tests.cli.conftest import run_in_process
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

SEND = """
journey:
  name: Send a number
  inputs: [{name: n, type: number, required: true}]
  steps:
    - id: send
      request:
        method: POST
        url: "{{ env.base_url }}/echo?n={{ inputs.n }}"
        json: {n: "{{ inputs.n }}"}
      assertions:
        # The echo's "body" is the request body as the target received it.
        - {type: json_path, path: $.body, operator: contains, expected: "{{ inputs.n }}"}
"""


def sent(result_body: str) -> tuple[str, str]:
    """Return (the JSON body's text, the query value) as the target received them."""
    echo = json.loads(result_body)
    return echo["body"], echo["query"]["n"][0]


@pytest.mark.parametrize(
    "text",
    [
        "11234567800033596096",  # the CSV cell
        "9007199254740993",  # the issue's --set value: 2**53 + 1
        "-98765432109876543210987654321",
        "0.1000000000000000055511151231257827",
        "12345678901234567.89",
        "19.99",
        "1e-7",
    ],
)
def test_a_number_input_is_sent_digit_for_digit(targets: Targets, text: str) -> None:
    result = run_text(SEND, targets.main.base_url, inputs={"n": text})

    step = result.steps[0]
    assert step.status == "passed", step.attempts[0].assertions
    body, query = sent(step.attempts[0].response.body)  # type: ignore[union-attr]
    assert Decimal(json.loads(body, parse_float=Decimal)["n"]) == Decimal(text)
    assert Decimal(query) == Decimal(text)


def test_the_cli_sends_csv_cells_and_set_values_exactly(targets: Targets, tmp_path: Path) -> None:
    (tmp_path / "send.yaml").write_text(SEND)
    (tmp_path / "reqflo.yaml").write_text(
        f"environments:\n  local:\n    base_url: {targets.main.base_url}\n"
    )
    (tmp_path / "rows.csv").write_text("case,n\ncell,11234567800033596096\n")
    (tmp_path / "rows.json").write_text(
        '[{"case": "json", "n": 0.1000000000000000055511151231257827}]'
    )
    report = tmp_path / "out"

    written = {
        "rows.csv": "11234567800033596096",
        "rows.json": "0.1000000000000000055511151231257827",
        "n=9007199254740993": "9007199254740993",
    }
    for option, value in (
        ("--data", "rows.csv"),
        ("--data", "rows.json"),
        ("--set", "n=9007199254740993"),
    ):
        argument = tmp_path / value if option == "--data" else value
        result = run_in_process(
            "run",
            tmp_path / "send.yaml",
            "--env",
            "local",
            option,
            argument,
            "--reporter",
            "json",
            "--output",
            report,
            cwd=tmp_path,
        )
        assert result.code == 0, result.output
        document = json.loads(report.read_text())
        echo = json.loads(document["runs"][0]["steps"][0]["attempts"][0]["response"]["body"])
        assert echo["body"] == f'{{"n":{written[value]}}}'


COMPARE = """
journey:
  name: Compare
  steps:
    - id: numbers
      request: {method: GET, url: "{{ env.base_url }}/numbers"}
      assertions:
        - {type: header, name: X-Big, operator: greater_than, expected: 9007199254740992}
        - {type: header, name: X-Big, operator: not_equals, expected: 9007199254740992}
        - {type: header, name: X-Price, operator: equals, expected: 19.99}
        - {type: json_path, path: $.text, operator: greater_than, expected: 9007199254740992}
        - {type: json_path, path: $.big, operator: greater_or_equal, expected: 9007199254740993}
        - {type: json_path, path: $.big, operator: less_than, expected: 9007199254740994}
        - {type: json_path, path: $.cents, operator: greater_than, expected: 0.1}
        - {type: json_path, path: $.cents, operator: not_equals, expected: 0.1}
        - {type: json_path, path: $.price, operator: equals, expected: 19.99}
        - {type: json_path, path: $.cents, operator: is_type, expected: number}
"""


def test_numeric_text_compares_without_losing_digits(targets: Targets) -> None:
    result = run_text(COMPARE, targets.main.base_url)

    failed = [a.message for a in result.steps[0].attempts[0].assertions if not a.passed]
    assert failed == []
    report = json.loads(render_json([result]), parse_float=Decimal)
    actual = report["runs"][0]["steps"][0]["attempts"][0]["assertions"][6]["actual"]
    assert actual == Decimal("0.1000000000000000055511151231257827")


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1_000", "0x10", "", "1e"])
def test_text_that_is_not_a_json_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        coerce(text, "number")


BIG_INTEGERS = st.integers(min_value=-(10**40), max_value=10**40)
DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 60
)


@settings(max_examples=300, deadline=None)
@given(number=st.one_of(BIG_INTEGERS, DECIMALS))
def test_any_number_written_as_text_keeps_its_value_through_the_engine(
    number: int | Decimal,
) -> None:
    text = str(number)
    value = coerce(text, "number")

    # Sent in a JSON body, interpolated into text, compared: the same number each time.
    assert Decimal(json.loads(numbers.dumps({"n": value}), parse_float=Decimal)["n"]) == Decimal(
        text
    )
    assert Decimal(numbers.dumps(value)) == Decimal(text)
    assert evaluate("equals", text, value) == (True, None)
    assert evaluate("greater_or_equal", text, value) == (True, None)
    with localcontext() as context:
        context.prec = 200  # the default 28 digits would round the step away
        bigger = Decimal(text) + Decimal(10) ** (Decimal(text).adjusted() - 40)
    assert evaluate("less_than", text, numbers.parse_number(str(bigger))) == (True, None)
    if isinstance(number, int):
        assert value == number
        assert type(value) is int


@settings(max_examples=25, deadline=None)
@given(number=st.one_of(BIG_INTEGERS, DECIMALS))
def test_any_number_input_reaches_the_target_exactly(targets: Targets, number: object) -> None:
    result = run_text(SEND, targets.main.base_url, inputs={"n": str(number)})

    step = result.steps[0]
    assert step.status == "passed"
    body, _ = sent(step.attempts[0].response.body)  # type: ignore[union-attr]
    assert Decimal(json.loads(body, parse_float=Decimal)["n"]) == Decimal(str(number))


LITERALS = """
journey:
  name: Literals
  inputs: [{name: d, type: number, default: NUMBER}]
  variables: [{name: v, value: NUMBER}]
  steps:
    - id: send
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        json: {literal: NUMBER, input: "{{ inputs.d }}", variable: "{{ variables.v }}"}
      assertions:
        - {type: json_path, path: $.body, operator: contains, expected: "NUMBER"}
    - id: answer
      request: {method: GET, url: "{{ env.base_url }}/unhex?d=HEX"}
      assertions:
        - {type: json_path, path: $.n, operator: equals, expected: NUMBER}
        - {type: json_path, path: $.next, operator: greater_than, expected: NUMBER}
        - {type: json_path, path: $.next, operator: not_equals, expected: NUMBER}
"""


def literal_journey(number: str, answered: dict[str, Decimal], *, as_json: bool) -> str:
    text = LITERALS.replace("NUMBER", number).replace("HEX", numbers.dumps(answered).encode().hex())
    if not as_json:
        return text
    document = yaml.safe_load(text.replace(number, "NUMBER_TOKEN"))
    return json.dumps(document).replace('"NUMBER_TOKEN"', number).replace("NUMBER_TOKEN", number)


@pytest.mark.parametrize("as_json", [False, True], ids=["yaml", "json"])
@pytest.mark.parametrize(
    "number",
    [
        "0.12345678901234567891",  # 20 significant digits
        "12345678901234567.5",
        "1.00000000000000001",
        "-2.718281828459045235360287",
    ],
)
def test_a_long_decimal_in_a_journey_file_keeps_its_digits(
    targets: Targets, number: str, as_json: bool
) -> None:
    """A value, an input default, a variable and an expected value written with 17+ significant
    digits are sent, compared and reported with every digit (a float would round them)."""
    exact = Decimal(number)
    # The next number after it at 30 significant digits: the same float, another Decimal.
    answered = {"n": exact, "next": exact.next_plus(Context(prec=30))}
    result = run_text(literal_journey(number, answered, as_json=as_json), targets.main.base_url)

    send, answer = result.steps
    sent_body = json.loads(send.attempts[0].response.body)["body"]  # type: ignore[union-attr]
    sent_values = json.loads(sent_body, parse_float=Decimal)
    assert sent_values == {"literal": exact, "input": exact, "variable": exact}
    checks = answer.attempts[0].assertions
    assert [c.passed for c in checks] == [True, True, True], [c.message for c in checks]
    report = json.loads(render_json([result]), parse_float=Decimal)
    expected = report["runs"][0]["steps"][1]["attempts"][0]["assertions"][0]["expected"]
    assert expected == exact


@settings(max_examples=60, deadline=None)
@given(number=DECIMALS)
def test_any_decimal_literal_loads_exactly(number: Decimal) -> None:
    text = str(number)
    if "E" in text.upper() or "." not in text:
        text = f"{number:f}"
        if "." not in text:
            text += ".0"
    for document in (f"v: {text}\n", f'{{"v": {text}}}'):
        value = parse_document(document)["v"]
        assert numbers.is_number(value)
        assert Decimal(numbers.text(value)) == Decimal(text), document


# Number texts a float or an int would print differently: trailing zeros, exponents, signs.
AS_WRITTEN = ["100.10", "1e5", "2.50E-3", "-0.0", "-0", "1.0e+2", "123456789012345678901.10"]


@pytest.mark.parametrize("as_json", [False, True], ids=["yaml", "json"])
def test_body_literals_and_number_inputs_are_sent_as_written(
    targets: Targets, as_json: bool
) -> None:
    """A `json:` literal goes out as its text; a number input keeps its text in a URL and in a
    body (`00012` is text only a URL can carry: its JSON number is 12)."""
    fields = "".join(f'"f{i}": {text}, ' for i, text in enumerate(AS_WRITTEN))
    journey = (
        '{"journey": {"name": "As written", '
        '"inputs": [{"name": "n", "type": "number", "required": true}], '
        '"steps": [{"id": "send", "request": {"method": "POST", '
        '"url": "{{ env.base_url }}/echo?n={{ inputs.n }}", '
        f'"json": {{{fields}"m": "{{{{ inputs.n }}}}"}}}}}}]}}}}'
    )
    if not as_json:
        journey = "# read as YAML (a flow mapping), not as JSON\n" + journey
    for text, in_json in [
        ("00012", "12"),
        ("0.50", "0.50"),
        ("100.10", "100.10"),
        ("9007199254740993", "9007199254740993"),
        ("1e5", "1e5"),
    ]:
        result = run_text(journey, targets.main.base_url, inputs={"n": text})
        step = result.steps[0]
        assert step.status == "passed", step.attempts[0]
        body, query = sent(step.attempts[0].response.body)  # type: ignore[union-attr]
        assert query == text
        for index, literal in enumerate(AS_WRITTEN):
            assert f'"f{index}":{literal},' in body
        assert body.endswith(f'"m":{in_json}}}')
