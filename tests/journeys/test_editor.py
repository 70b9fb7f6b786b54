from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, yaml_core
from reqflo.journeys.documents import check_document, check_text, render_yaml
from reqflo.journeys.editor import (
    OutputRow,
    PairRow,
    apply_operation,
    document_from_state,
    issue_anchor,
    state_from_document,
    state_from_post,
    text_to_value,
    value_to_text,
)
from tests.journeys import samples

CHECKOUT = Path(__file__).resolve().parents[2] / "examples" / "checkout.yaml"


def form_round_trip(text: str) -> tuple[str, str]:
    """Return the fingerprints of a document and of the same document after the form view."""
    original = check_text(text)
    state = state_from_post(samples.post_data(state_from_document(original.document)))
    document, issues = document_from_state(state)
    assert issues == []
    return original.digest, check_document(document).digest


@pytest.mark.parametrize(
    "text", [samples.LOGIN_YAML, render_yaml(samples.document(steps=5))], ids=["login", "plain"]
)
def test_the_form_view_keeps_the_definition(text: str) -> None:
    before, after = form_round_trip(text)
    assert before == after


def test_the_checkout_example_survives_the_form_view() -> None:
    before, after = form_round_trip(CHECKOUT.read_text())
    assert before == after


def test_keys_without_form_fields_ride_along() -> None:
    checked = check_text(CHECKOUT.read_text())
    state = state_from_document(checked.document)
    document, _ = document_from_state(state)
    journey = document["journey"]
    assert journey["slug"] == "checkout"
    assert journey["inputs"][1]["secret"] is True
    assert journey["inputs"][3]["type"] == "integer"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200", 200),
        ("[200, 201]", [200, 201]),
        ("2xx", "2xx"),
        ("paid", "paid"),
        ("true", True),
        ("{{ inputs.quantity }}", "{{ inputs.quantity }}"),
        ('"200"', "200"),
        ("", ""),
        ("19.99", 19.99),
        ("0.12345678901234567891", Decimal("0.12345678901234567891")),  # not rounded to a float
        ("12345678901234567.5", Decimal("12345678901234567.5")),
    ],
)
def test_typed_values_read_like_yaml(text: str, value: object) -> None:
    assert text_to_value(text) == value
    assert text_to_value(value_to_text(value)) == value


@given(
    st.one_of(
        st.integers(-(10**20), 10**20).map(str),
        st.from_regex(r"\A[-+ ]?[0-9_xo.eE+-]{1,8}\Z"),
        st.sampled_from(["0", "-0", "+0", "012", "0x1F", "0o17", "1_000", "+12", "1e3", "08"]),
    )
)
def test_integers_read_as_yaml_reads_them(text: str) -> None:
    # The editor reads a plain integer without YAML (a status code per step, thousands of
    # steps); whatever it reads that way is what the journey's YAML (1.2 core) reads, type too.
    value = text_to_value(text)
    if isinstance(value, int) and not isinstance(value, bool):
        assert value == yaml_core.load(text.strip())
        assert type(yaml_core.load(text.strip())) is int


def test_an_unparsable_json_body_is_an_issue_with_its_path_and_the_text_is_kept() -> None:
    state = state_from_document(samples.document())
    state.steps[1].body_kind = "json"
    state.steps[1].body = '{"a": '
    _, issues = document_from_state(state)
    assert [issue.path for issue in issues] == ["steps[1].request.json"]
    assert state.steps[1].body == '{"a": '
    assert issue_anchor(issues[0].path, state) == "steps-1-request-body"


def test_a_header_row_without_a_name_or_given_twice_is_an_issue_at_its_row() -> None:
    state = state_from_document(samples.document())
    state.steps[0].headers = [
        PairRow("Accept", "text/plain"),
        PairRow("", ""),  # a new row, nothing typed: not an issue
        PairRow("", "orphan"),
        PairRow("Accept", "x"),
    ]
    _, issues = document_from_state(state)
    assert [(i.path, i.code) for i in issues] == [
        ("steps[0].request.headers[2]", "missing_name"),
        ("steps[0].request.headers.Accept", "duplicate"),
    ]
    assert "row 3" in issues[0].message
    # The row's own fields: the third row's name, the repeated (later) row's value.
    assert issue_anchor(issues[0].path, state) == "steps-0-request-headers-2-name"
    assert issue_anchor(issues[1].path, state) == "steps-0-request-headers-3-value"


# Header names and values as YAML allows them: separators, braces, a long bearer token.
_names = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1).filter(
    lambda n: n.strip() == n
)
_values = st.one_of(
    st.sampled_from(["Bearer {{ steps.login.outputs.token }}", "a=b: c", "200", "[1, 2]"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30).filter(
        lambda v: v.strip() == v
    ),
    st.integers(),
    st.booleans(),
)


@given(st.dictionaries(_names, _values, max_size=4), st.dictionaries(_names, _values, max_size=4))
def test_headers_and_query_rows_round_trip_with_the_document(
    headers: dict[str, object], query: dict[str, object]
) -> None:
    document = samples.document(steps=1)
    request = document["journey"]["steps"][0]["request"]
    request.pop("headers", None)
    if headers:
        request["headers"] = headers
    if query:
        request["query"] = query
    state = state_from_post(samples.post_data(state_from_document(document)))
    assert [row.name for row in state.steps[0].headers] == list(headers)
    rebuilt, issues = document_from_state(state)
    assert not issues
    assert rebuilt["journey"]["steps"][0]["request"].get("headers", {}) == headers
    assert rebuilt["journey"]["steps"][0]["request"].get("query", {}) == query


# Values as typed: text around "{{", "}}" and references, half-typed or whole.
_typed = (
    st.lists(
        st.sampled_from(
            ["{{", "}}", " ", "steps.", "login", ".outputs.token", "inputs.x", "a", "{"]
        ),
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(lambda v: v.strip() != "")
)


@given(kind=st.sampled_from(["headers", "query"]), value=_typed)
def test_a_value_without_a_name_has_its_references_read_as_a_named_one_has(
    kind: str, value: str
) -> None:
    """A row with no name never reaches the document; its value still gets the engine's word
    on its references (a half-typed "{{"), at its own field, as if the row had a name."""
    named_state = state_from_document(samples.document(steps=1))
    getattr(named_state.steps[0], kind)[:] = [PairRow("X-Name", value)]
    named, _ = document_from_state(named_state)
    try:
        check_document(named)
        expected = []
    except DefinitionError as error:
        expected = [i.message for i in error.issues if i.code == "invalid_reference"]

    state = state_from_document(samples.document(steps=1))
    getattr(state.steps[0], kind)[:] = [PairRow("Accept", "x"), PairRow("", value)]
    _, issues = document_from_state(state)
    assert [(i.code, i.path) for i in issues][:1] == [
        ("missing_name", f"steps[0].request.{kind}[1]")
    ]
    found = [i for i in issues if i.code == "invalid_reference"]
    assert [i.message for i in found] == expected
    for issue in found:
        assert issue.path == f"steps[0].request.{kind}[1].value"
        assert issue_anchor(issue.path, state) == f"steps-0-request-{kind}-1-value"
    assert issue_anchor(issues[0].path, state) == f"steps-0-request-{kind}-1-name"


@given(
    name=st.sampled_from(["", " ", "  \t"]),
    path=st.sampled_from(["", " ", "$.token", "$.items[0].id"]),
    before=st.integers(min_value=0, max_value=2),
)
def test_an_output_row_without_a_name_is_named_at_its_own_field(
    name: str, path: str, before: int
) -> None:
    """A verifier added an output with a path and no name: the problem read
    `steps[0].outputs..path` and pointed nowhere. Outputs are keyed by name, so a nameless row
    never reaches the document: a new row (nothing typed) is skipped; one with a path is a
    problem at that row's Name field, whatever rows come before it."""
    state = state_from_document(samples.document(steps=1))
    rows = [OutputRow(name=f"out{k}", path=f"$.v{k}") for k in range(before)]
    state.steps[0].outputs[:] = [*rows, OutputRow(name=name, path=path)]
    document, issues = document_from_state(state)

    outputs = document["journey"]["steps"][0].get("outputs", {})
    assert list(outputs) == [f"out{k}" for k in range(before)]
    if path.strip():
        assert [(i.code, i.path) for i in issues] == [
            ("missing_name", f"steps[0].outputs[{before}]")
        ]
        assert issue_anchor(issues[0].path, state) == f"steps-0-outputs-{before}-name"
        assert "no name" in issues[0].message
    else:
        assert issues == []
        check_document(document)


def test_add_and_remove_header_and_query_rows() -> None:
    state = state_from_document(samples.document(steps=1))
    before = len(state.steps[0].headers)
    assert apply_operation(state, "add_header:0")
    assert state.steps[0].headers[-1] == PairRow()
    assert apply_operation(state, "add_query:0")
    assert apply_operation(state, "add_query:0")
    assert apply_operation(state, "remove_query:0:0")
    assert len(state.steps[0].query) == 1
    assert apply_operation(state, "remove_header:0:0")
    assert len(state.steps[0].headers) == before
    assert not apply_operation(state, "add_header:5")


def test_operations_add_move_duplicate_and_remove_steps() -> None:
    state = state_from_document(samples.document(steps=2))
    assert apply_operation(state, "add_step")
    assert [s.id for s in state.steps] == ["s1", "s2", "step-3"]
    assert apply_operation(state, "move_up:2")
    assert [s.id for s in state.steps] == ["s1", "step-3", "s2"]
    assert apply_operation(state, "duplicate_step:0")
    assert [s.id for s in state.steps] == ["s1", "s1-copy", "step-3", "s2"]
    assert apply_operation(state, "remove_step:1")
    assert apply_operation(state, "add_assertion:0")
    assert apply_operation(state, "add_output:0")
    assert len(state.steps[0].assertions) == 2
    assert apply_operation(state, "remove_assertion:0:0")
    assert [a.type for a in state.steps[0].assertions] == ["json_path"]
    assert apply_operation(state, "remove_output:0:0")
    assert state.steps[0].outputs == []


@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(0, n - 1))
    )
)
def test_moving_a_step_puts_it_at_its_new_place_and_keeps_the_others_in_order(
    case: tuple[int, int, int],
) -> None:
    count, source, target = case
    state = state_from_document(samples.document(steps=count))
    before = [step.id for step in state.steps]
    assert apply_operation(state, f"move_step:{source}:{target}")
    after = [step.id for step in state.steps]
    assert after[target] == before[source]
    assert [i for i in after if i != before[source]] == [i for i in before if i != before[source]]


@pytest.mark.parametrize(
    "operation",
    ["remove_step:9", "move_up:x", "explode", "add_step:1", "move_step:0:2", "move_step:0"],
)
def test_unknown_or_out_of_range_operations_change_nothing(operation: str) -> None:
    state = state_from_document(samples.document(steps=2))
    before = document_from_state(state)
    assert not apply_operation(state, operation)
    assert document_from_state(state) == before


@pytest.mark.parametrize(
    ("path", "anchor"),
    [
        ("steps[2].request.url", "steps-2-request-url"),
        ("steps[2].assertions[1].operator", "steps-2-assertions-1-operator"),
        ("steps[2].assertions[1].path", "steps-2-assertions-1-target"),
        ("steps[0].request.json.email", "steps-0-request-body"),
        ("inputs[1].default", "inputs-1-default"),
        ("variables[0].value", "variables-0-value"),
        ("slug", "journey-name"),
        ("steps[3]", "step-3"),
    ],
)
def test_issue_paths_point_at_form_fields(path: str, anchor: str) -> None:
    assert issue_anchor(path) == anchor


@pytest.mark.parametrize("kind", ["body_contains", "body_equals", "json_schema"])
def test_an_operator_left_from_another_check_type_is_dropped(kind: str) -> None:
    state = state_from_document(samples.document(steps=1))
    row = state.steps[0].assertions[0]
    row.type, row.operator, row.target = kind, "equals", "$.left.over"
    row.expected = '{"type": "object"}' if kind == "json_schema" else "ok"
    document, issues = document_from_state(state)
    assert issues == []
    assertion = document["journey"]["steps"][0]["assertions"][0]
    assert "operator" not in assertion
    assert "path" not in assertion
    check_document(document)  # the engine accepts it


def test_a_json_schema_keeps_its_line_breaks_through_the_form() -> None:
    schema = {"type": "object", "required": ["token"]}
    steps = [samples.step("s1")]
    steps[0]["assertions"].append({"type": "json_schema", "schema": schema})
    state = state_from_document(samples.document(steps=steps))
    assert state.steps[0].assertions[1].expected.count("\n") >= 3
    posted = state_from_post(samples.post_data(state))
    document, issues = document_from_state(posted)
    assert issues == []
    assert document["journey"]["steps"][0]["assertions"][1]["schema"] == schema


def test_keys_without_fields_come_back_before_the_steps() -> None:
    document, _ = document_from_state(
        state_from_document(check_text(CHECKOUT.read_text()).document)
    )
    keys = list(document["journey"])
    assert keys[0] == "name"
    assert keys.index("slug") < keys.index("inputs") < keys.index("steps")
    assert keys[-1] == "steps"
