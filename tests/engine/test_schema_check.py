"""The plain meta-schema check never calls a schema valid that jsonschema refuses.

`reqflo validate` skips importing jsonschema for schemas `plainly_valid` vouches for; when it is
unsure, jsonschema decides (and words the message). So the one thing that must never happen is
a True here for a schema jsonschema's `check_schema` rejects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from jsonschema_specifications import REGISTRY

from reqflo.engine.json_schemas import schema_reference_problems
from reqflo.engine.schema_check import _RULES, DIALECT_KEYWORDS, SIMPLE_TYPES, plainly_valid

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def jsonschema_accepts(schema: Any) -> bool:
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError:
        return False
    return True


def test_the_keyword_list_is_the_draft_2020_12_meta_schemas() -> None:
    described: set[str] = set()
    for uri in REGISTRY:
        if "/draft/2020-12/" in uri:
            described |= set(REGISTRY.contents(uri).get("properties", {}))

    assert described == DIALECT_KEYWORDS
    assert set(_RULES) <= DIALECT_KEYWORDS


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=False, min_value=-3, max_value=3),
    st.sampled_from(["string", "object", "array", "integer", "number", "strng", "[a-", "^a+$"]),
)
keys = st.sampled_from([*sorted(_RULES), "$ref", "$defs", "if", "x-note", "$schema"])


def _values(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        scalars,
        st.lists(st.one_of(scalars, children), max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "type"]), children, max_size=3),
        children,
    )


def _near(key: str, children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values of the kind `key` takes, right or nearly right (a duplicate, a -1, a bad regex)."""
    names = st.sampled_from([*sorted(SIMPLE_TYPES), "strng"])
    counts = st.one_of(st.integers(-1, 5), st.sampled_from([2.0, 2.5, True]))
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(names, st.lists(names, max_size=3)),
        "properties": st.dictionaries(st.sampled_from(["a", "b"]), children, max_size=2),
        "required": st.lists(st.sampled_from(["a", "b", 1]), max_size=3),
        "pattern": st.sampled_from(["^a+$", "[a-", "(?P<x>a)", "\\d"]),
        "multipleOf": st.sampled_from([0, -1, 0.5, 3, True]),
        "enum": st.one_of(st.lists(scalars, max_size=2), scalars),
        "examples": st.one_of(st.lists(scalars, max_size=2), scalars),
    }
    if key in kinds:
        return kinds[key]
    if key in ("items", "additionalProperties", "not"):
        return children
    if key in ("allOf", "anyOf", "oneOf"):
        return st.lists(children, max_size=2)
    if key.startswith(("min", "max")):
        return counts
    return scalars


def _schemas(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    entries = st.one_of(
        *[st.tuples(st.just(key), _near(key, children)) for key in sorted(_RULES)],
        st.tuples(keys, _values(children)),
    )
    return st.lists(entries, max_size=4).map(dict)


schemas = st.recursive(st.one_of(st.booleans(), st.just({})), _schemas, max_leaves=12)


@settings(max_examples=400)
@given(schemas)
def test_a_schema_called_plainly_valid_passes_jsonschemas_check(schema: Any) -> None:
    if plainly_valid(schema):
        assert jsonschema_accepts(schema)
        # ... and the Run check's reference walk, which it skips too, has nothing to say.
        assert schema_reference_problems(schema) == []


@settings(max_examples=200)
@given(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["object", ["string", "null"]]),
            "required": st.lists(st.sampled_from(["a", "b", "c"]), unique=True),
            "properties": st.dictionaries(
                st.sampled_from(["a", "b"]),
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["string", "number"])},
                    optional={"minLength": st.integers(0, 5), "pattern": st.just("^x")},
                ),
            ),
        },
        optional={"additionalProperties": st.booleans(), "maxProperties": st.integers(0, 9)},
    )
)
def test_plain_schemas_are_vouched_for_without_jsonschema(schema: Any) -> None:
    assert plainly_valid(schema)
    assert jsonschema_accepts(schema)


def test_the_examples_schemas_are_plainly_valid() -> None:
    found = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for step in (yaml.safe_load(path.read_text()).get("journey") or {}).get("steps", []):
            for assertion in step.get("assertions", []):
                if assertion.get("type") == "json_schema":
                    found.append(assertion["schema"])

    assert found
    assert all(plainly_valid(schema) for schema in found)


def test_what_the_plain_check_cannot_vouch_for_goes_to_jsonschema() -> None:
    unsure = [
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"},
        {"$ref": "#/$defs/a", "$defs": {"a": {"type": "string"}}},
        {"type": "strng"},
        {"required": ["a", "a"]},
        {"minLength": -1},
        {"pattern": "[a-"},
        {"anyOf": []},
        {"properties": {"a": {"if": {"type": "string"}}}},
    ]

    assert [plainly_valid(schema) for schema in unsure] == [False] * len(unsure)
    assert [jsonschema_accepts(s) for s in unsure] == [True, True, False, False, False, False,
                                                      False, True]  # fmt: skip
