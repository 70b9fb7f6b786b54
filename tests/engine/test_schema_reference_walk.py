"""The Run check walks a JSON Schema by what its keywords mean.

Property names and ``$defs`` names are only names: ``{properties: {"$id": {...}}}`` is a valid
schema (it crashed the walk), and a remote ``$ref`` under a property named ``enum`` or
``default`` is a reference (it was missed). ``enum``, ``const``, ``default`` and ``examples`` hold
data, not schemas. A ``$ref`` or ``$id`` that is not a string is a Run check error, never a
crash. The property: schemas whose names are drawn from keyword names, with references planted
in schema positions anywhere; the check never raises, finds every planted reference, and
nothing else.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, load_definition, run_check
from reqflo.engine.json_schemas import schema_reference_problems

KEYWORD_NAMES = [
    "$id", "$ref", "$defs", "$anchor", "$schema", "$dynamicRef", "id", "enum", "const",
    "default", "examples", "properties", "items", "not", "if", "then", "else", "allOf",
    "type", "definitions", "required", "contains", "additionalProperties", "x",
]  # fmt: skip
MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]
LISTS = ["allOf", "anyOf", "oneOf", "prefixItems", "items"]
SINGLES = ["not", "if", "then", "else", "items", "contains", "additionalProperties"]
SINGLES += ["propertyNames", "unevaluatedItems", "unevaluatedProperties"]
DATA = ["enum", "const", "default", "examples"]
REMOTE = ["http://127.0.0.1:9/s{n}", "file:///etc/hostname#{n}", "https://example.com/{n}.json"]

Planted = list[str]


@st.composite
def schemas(draw: st.DrawFn, depth: int = 0) -> tuple[dict[str, Any], Planted]:
    """Return a schema and the non-local references planted in it (in schema positions)."""
    node: dict[str, Any] = {}
    planted: Planted = []
    if draw(st.booleans()):
        ref = draw(st.sampled_from(REMOTE)).format(n=draw(st.integers(0, 10**6)))
        node["$ref"] = ref
        planted.append(ref)
    if draw(st.booleans()):
        node["type"] = draw(st.sampled_from(["string", "object", "array"]))
    if depth >= 3:
        return node, planted
    keywords = draw(st.lists(st.sampled_from(MAPS + LISTS + SINGLES + DATA), max_size=3))
    for keyword in dict.fromkeys(keywords):
        if keyword in DATA:
            # Data that looks like a schema with a remote reference: not a reference.
            data = {"$ref": "http://127.0.0.1:9/data-only", "$id": {"not": "a string"}}
            node[keyword] = [data] if keyword in ("enum", "examples") else data
        elif keyword in MAPS:
            names = draw(st.lists(st.sampled_from(KEYWORD_NAMES), min_size=1, max_size=3))
            node[keyword] = {}
            for name in dict.fromkeys(names):
                node[keyword][name], inner = draw(schemas(depth + 1))
                planted += inner
        elif keyword in LISTS and (keyword != "items" or draw(st.booleans())):
            node[keyword] = []
            for _ in range(draw(st.integers(1, 2))):
                sub, inner = draw(schemas(depth + 1))
                node[keyword].append(sub)
                planted += inner
        else:
            node[keyword], inner = draw(schemas(depth + 1))
            planted += inner
    return node, planted


def journey(schema: Any) -> str:
    assertion = {"type": "json_schema", "schema": schema}
    step = {"id": "check", "request": {"method": "GET", "url": "https://api.example/x"}}
    step["assertions"] = [assertion]
    return json.dumps({"journey": {"name": "Schema walk", "steps": [step]}})


@settings(max_examples=300, deadline=None)
@given(generated=schemas())
def test_every_planted_reference_is_found_and_nothing_else(
    generated: tuple[dict[str, Any], Planted],
) -> None:
    schema, planted = generated

    problems = schema_reference_problems(schema)

    found = {message.split("'")[1] for _, message in problems}
    assert found == set(planted)
    for path, message in problems:
        ref = message.split("'")[1]
        assert path.endswith(".$ref")
        # The path leads to the reference.
        node: Any = schema
        for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path)[:-1]:
            node = node[int(index)] if index else node[name]
        assert node["$ref"] == ref


def test_list_items_paths_name_the_index() -> None:
    schema = {"items": [{"type": "string"}, {"$ref": "http://127.0.0.1:9/i"}]}
    assert [p for p, _ in schema_reference_problems(schema)] == [".items[1].$ref"]


CASES = [
    pytest.param({"properties": {"$id": {"type": "string"}}}, [], id="property-named-$id"),
    pytest.param(
        {"properties": {"enum": {"$ref": "http://127.0.0.1:9/x"}}},
        [(".properties.enum.$ref", "never fetched")],
        id="property-named-enum",
    ),
    pytest.param(
        {"$defs": {"default": {"$ref": "file:///etc/hostname"}}},
        [(".$defs.default.$ref", "never read from disk")],
        id="def-named-default",
    ),
    pytest.param(
        {"properties": {"$ref": {"$ref": "http://127.0.0.1:9/x"}}},
        [(".properties.$ref.$ref", "never fetched")],
        id="property-named-$ref",
    ),
    pytest.param({"$ref": {"a": 1}}, [(".$ref", 'is not of type "string"')], id="ref-obj"),
    pytest.param({"$id": 5}, [(".$id", 'is not of type "string"')], id="id-number"),
    pytest.param(
        {"properties": {"a": {"$id": [1]}}},
        [(".properties.a.$id", 'is not of type "string"')],
        id="nested-id-array",
    ),
    pytest.param(
        {"$ref": "#/default", "default": {"$ref": {"not": "a string"}}},
        [(".default.$ref", "must be a string, not an object")],
        id="local-ref-into-data-bad-ref",
    ),
    pytest.param(
        {"$ref": "#/default", "default": {"$ref": "file:///etc/hostname"}},
        [(".default.$ref", "never read from disk")],
        id="local-ref-into-data",
    ),
    pytest.param(
        {"$schema": "http://json-schema.org/draft-04/schema#", "id": {"type": "string"}},
        [(".id", 'is not of type "string"')],
        id="draft4-id-object",
    ),
    pytest.param({"$schema": ["x"]}, [(".$schema", "must be a string")], id="schema-list"),
]


def errors(schema: Any) -> list[Any]:
    """Return the errors of a journey holding ``schema``: from loading it (the meta-schema
    refuses a non-string ``$ref`` where it can see one) or else from the Run check."""
    try:
        definition = load_definition(journey(schema))
    except DefinitionError as exc:
        return list(exc.issues)
    return [i for i in run_check(definition) if i.severity == "error"]


@pytest.mark.parametrize(("schema", "expected"), CASES)
def test_the_run_check_names_each_problem_and_never_raises(
    schema: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    issues = errors(schema)

    assert [i.path for i in issues] == [
        f"steps[0].assertions[0].schema{path}" for path, _ in expected
    ]
    for issue, (_, words) in zip(issues, expected, strict=True):
        assert words in issue.message


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": {"a": 1}},
        {"$id": 5},
        {"$schema": "http://json-schema.org/draft-04/schema#", "id": {"type": "string"}},
        {"$schema": ["x"]},
    ],
)
def test_a_reference_or_identifier_that_is_not_a_string_is_named_by_the_walk_too(
    schema: dict[str, Any],
) -> None:
    # The walk does not rely on the meta-schema check having run first.
    [(_, message)] = schema_reference_problems(schema)
    assert "must be a string" in message
