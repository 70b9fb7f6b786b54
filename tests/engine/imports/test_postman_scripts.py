"""Postman test scripts: a translation is exact or not made.

A statement inside `if`/`else`/`try`/a loop, or after a `return`, runs only sometimes: it is
reported, never made an unconditional assertion. Chai's `equal(3)` is strict and its `exist`
refuses null, where Reqflo's `equals` takes "3" and `exists` takes null: the translation adds
what makes them agree, or reports the statement.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqflo.engine.imports.postman_scripts import translate_test_script
from reqflo.engine.operators import MISSING, evaluate


def _translate(script: str) -> tuple[list[dict[str, object]], list[str]]:
    translation = translate_test_script(script.splitlines())
    return translation.assertions, [
        f"{left.line}: {left.code}: {left.reason}" for left in translation.leftovers
    ]


@pytest.mark.parametrize(
    "block",
    [
        "if (data.ok) {\n  pm.expect(data.a).to.eql('x');\n}",
        "if (data.ok) { pm.expect(data.a).to.eql('x'); } else { pm.expect(data.b).to.eql('y'); }",
        "try {\n  pm.expect(data.a).to.eql('x');\n} catch (e) {\n  console.log(e);\n}",
        "data.items.forEach(function (item) {\n  pm.expect(data.a).to.eql('x');\n});",
        "for (const item of data.items) { pm.expect(data.a).to.eql('x') }",
        "if (!data.ok) return;\npm.expect(data.a).to.eql('x');",
    ],
)
def test_a_statement_that_runs_only_sometimes_is_reported(block: str) -> None:
    script = "const data = pm.response.json();\npm.test('t', function () {\n" + block + "\n});"

    assertions, leftovers = _translate(script)

    assert assertions == []
    assert any("pm.expect(data.a).to.eql('x')" in line for line in leftovers)
    assert all(
        "runs only sometimes" in line
        or "may not run" in line
        or "condition" in line
        or "no exact" in line
        for line in leftovers
    )


def test_statements_directly_in_a_test_still_translate_around_a_block() -> None:
    assertions, leftovers = _translate(
        "const data = pm.response.json();\n"
        "pm.test('t', () => {\n"
        "  pm.response.to.have.status(200);\n"
        "  if (data.ok) { console.log('ok') }\n"
        "  pm.expect(data.name).to.eql('ada');\n"
        "});\n"
        "pm.test('one line', () => pm.response.to.have.status(200));"
    )

    assert assertions == [
        {"type": "status_code", "expected": 200},
        {"type": "json_path", "path": "$.name", "operator": "equals", "expected": "ada"},
        {"type": "status_code", "expected": 200},
    ]
    assert [line.split(": ")[0] for line in leftovers] == ["4", "4"]


def test_length_is_javascript_not_a_json_key() -> None:
    assertions, leftovers = _translate(
        "const data = pm.response.json();\npm.expect(data.items.length).to.equal(3);"
    )

    assert assertions == []
    assert "'.length' is a JavaScript property" in leftovers[0]


def test_an_alias_that_is_reassigned_is_no_longer_the_body() -> None:
    assertions, leftovers = _translate(
        "let data = pm.response.json();\ndata = data.inner;\npm.expect(data.a).to.eql('x');"
    )

    assert assertions == []
    assert len(leftovers) == 2


# (statement, the JSON values Chai passes for, the values it fails for)
CHAI = [
    ("to.equal(3)", [3, 3.0], ["3", 4, None, MISSING, True, [3]]),
    ("to.eql('3')", ["3"], [3, None, MISSING]),
    ("to.exist", [0, "", False, [], {}], [None, MISSING]),
    ("to.be.above(3)", [4, 3.5], ["5", 3, None, MISSING]),
    ("to.be.oneOf([200, 201])", [200, 201], ["200", 202, MISSING]),
    ("to.be.oneOf(['a', 'b'])", ["a"], ["c", MISSING, None]),
    ("to.be.empty", ["", [], {}], [None, "x", [1], MISSING]),
    ("to.not.be.empty", ["x", [1], {"a": 1}], [None, "", [], MISSING]),
    ("to.be.a('string')", ["x", ""], [1, None, MISSING]),
    ("to.be.null", [None], [0, "", MISSING]),
    ("to.be.true", [True], [1, "true", MISSING]),
    ("to.match(/^a+$/)", ["aaa"], ["b", 1, None, MISSING]),
    ("to.eql(['a', {\"b\": 'c'}])", [["a", {"b": "c"}]], [["a"], MISSING]),
]


@pytest.mark.parametrize(("chain", "passes", "fails"), CHAI)
def test_a_translated_expectation_passes_exactly_where_chai_passes(
    chain: str, passes: list[object], fails: list[object]
) -> None:
    assertions, leftovers = _translate(f"pm.expect(pm.response.json().v).{chain};")
    assert assertions, leftovers

    def holds(value: object) -> bool:
        return all(evaluate(str(a["operator"]), value, a.get("expected"))[0] for a in assertions)

    assert all(holds(value) for value in passes)
    assert not any(holds(value) for value in fails)


@given(
    st.sampled_from(
        [
            "include('a')",
            "have.lengthOf(2)",
            "not.equal(3)",
            "not.exist",
            "eql([1, 2])",
            "equal({a: 1})",
            "be.above('3')",
        ]
    )
)
def test_a_chain_whose_meaning_depends_on_the_value_is_reported(chain: str) -> None:
    assertions, leftovers = _translate(f"pm.expect(pm.response.json().v).to.{chain};")

    assert assertions == []
    assert len(leftovers) == 1


def test_an_alias_lives_in_its_own_test_and_dies_when_a_block_reassigns_it() -> None:
    assertions, leftovers = _translate(
        "pm.test('a', function () {\n"
        "  const data = pm.response.json();\n"
        "  pm.expect(data.a).to.eql('x');\n"
        "});\n"
        "pm.test('b', function () {\n"
        "  pm.expect(data.a).to.eql('x');\n"  # `data` is not declared in this test
        "});\n"
        "var body = pm.response.json();\n"
        "if (body.wrapped) { body = body.inner; }\n"
        "pm.expect(body.a).to.eql('x');\n"
    )

    assert assertions == [
        {"type": "json_path", "path": "$.a", "operator": "equals", "expected": "x"}
    ]
    assert [line.split(":")[0] for line in leftovers] == ["6", "9", "9", "10"]
