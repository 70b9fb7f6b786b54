"""Evaluate a step's assertions against a response, recording expected and actual for each.

Every assertion runs even after one failed, so the evidence shows the whole picture.
"""

from __future__ import annotations

from typing import Any

from reqflo.engine.http import BodyUnavailable, Exchange
from reqflo.engine.operators import MISSING, NO_EXPECTED, evaluate, json_spelled, show
from reqflo.engine.prepare import PreparedAssertion, Resolver
from reqflo.engine.results import NO_VALUE_REASONS, AssertionResult
from reqflo.engine.values import MAX_ACTUAL_CHARS, ResolutionError, cap_value

_WORDS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "contains": "contains",
    "not_contains": "does not contain",
    "exists": "exists",
    "not_exists": "does not exist",
    "greater_than": "is greater than",
    "greater_or_equal": "is at least",
    "less_than": "is less than",
    "less_or_equal": "is at most",
    "matches": "matches",
    "in": "is one of",
    "not_in": "is not one of",
    "is_type": "is of type",
    "length_equals": "has length",
    "is_empty": "is empty",
    "not_empty": "is not empty",
}


# Values recorded as they are: nothing to cap.
_SMALL = frozenset({int, float, bool, type(None)})


def _cap(value: Any) -> Any:
    return None if value is MISSING else cap_value(value)


def _status_matches(status: int, expected: Any) -> bool:
    if isinstance(expected, str):
        return expected[0] == str(status)[0]
    return bool(status == expected)


def _status(operator: str, status: int, expected: Any) -> tuple[bool, str | None]:
    if operator == "equals" and type(expected) is int:
        return status == expected, None
    if operator in ("equals", "not_equals", "in", "not_in"):
        options = expected if isinstance(expected, list) else [expected]
        hit = any(_status_matches(status, option) for option in options)
        return (hit, None) if operator in ("equals", "in") else (not hit, None)
    return evaluate(operator, status, expected)


def _subject(assertion: PreparedAssertion) -> str:
    if assertion.type in ("json_path",):
        return str(assertion.target)
    if assertion.type == "header":
        return f"header {assertion.target}"
    if assertion.type == "status_code":
        return "status"
    if assertion.type == "response_time":
        return "response time (ms)"
    return "body"


def _actual(assertion: PreparedAssertion, exchange: Exchange) -> Any:
    kind = assertion.type
    if kind == "status_code":
        return exchange.status
    if kind == "response_time":
        return exchange.elapsed_ms
    if kind == "header":
        values = exchange.headers.get_list(str(assertion.target))
        return ", ".join(values) if values else MISSING
    if kind == "json_path":
        assert assertion.query is not None
        matches = exchange.find(assertion.query)
        if not matches:
            return MISSING
        return matches[0] if len(matches) == 1 else matches
    if kind == "body_contains":
        return exchange.preview(MAX_ACTUAL_CHARS)
    if kind == "body_equals":
        return exchange.text()
    return exchange.json()


def _check(
    assertion: PreparedAssertion, exchange: Exchange, expected: Any
) -> tuple[bool, Any, str | None]:
    """Return (passed, actual to record, extra reason)."""
    actual = _actual(assertion, exchange)
    kind = assertion.type
    operator = assertion.operator or ""
    if kind == "status_code":
        passed, reason = _status(operator, actual, expected)
        return passed, actual, reason
    if kind == "body_contains":
        return exchange.contains(str(expected)), actual, None
    if kind == "body_equals":
        if isinstance(expected, str):
            return actual == expected, _cap(actual), None
        body = exchange.json()
        passed, reason = evaluate("equals", body, expected)
        return passed, _cap(body), reason
    if kind == "json_schema":
        return _schema_check(assertion.validator, actual)
    passed, reason = evaluate(operator, actual, expected)
    if actual is MISSING or type(actual) in _SMALL:
        return passed, actual, reason
    return passed, cap_value(actual), reason


class _SchemaUnusable(Exception):
    """A reference in the schema did not resolve while validating; the message says why."""


def _schema_check(validator: Any, actual: Any) -> tuple[bool, Any, str | None]:
    # A plain schema finds a valid response valid without jsonschema (reqflo.engine.plain_schema).
    if validator.surely_valid(actual):
        return True, "valid", None
    # Imported here: jsonschema is loaded only for journeys with a json_schema assertion.
    from referencing.exceptions import Unresolvable

    from reqflo.engine.json_schemas import describe_unresolvable

    try:
        # is_valid stops at the first violation and costs half of collecting them all.
        if validator.is_valid(actual):
            return True, "valid", None
        errors = sorted(validator.iter_errors(actual), key=lambda e: list(e.path))
    except Unresolvable as exc:
        raise _SchemaUnusable(describe_unresolvable(exc)) from None
    described = [_schema_error(e) for e in errors[:5]]
    return not errors, described or "valid", "; ".join(described) or None


def _schema_error(error: Any) -> str:
    """Return "$.path: message" with every value in JSON's spelling: jsonschema spells the
    instance, the keyword's value and their parts with repr() (`True`, `None`, `'a'`,
    `Decimal('1.5')`), ours with `show` (`true`, `null`, `"a"`, `1.5`)."""
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
    return f"{where}: {json_spelled(str(error.message), (error.instance, error.validator_value))}"


def _claim(assertion: PreparedAssertion, expected: Any) -> str:
    """Return what the assertion states, e.g. "$.status equals 'paid'"."""
    kind = assertion.type
    if kind == "body_contains":
        return f"body contains {show(expected)}"
    if kind == "body_equals":
        return f"body equals {show(expected)}"
    if kind == "json_schema":
        return "body matches the JSON Schema"
    words = _WORDS.get(assertion.operator or "", assertion.operator or "")
    claim = f"{_subject(assertion)} {words}"
    return f"{claim} {show(expected)}" if assertion.expected is not None else claim


def _message(
    assertion: PreparedAssertion, claim: str, passed: bool, actual: Any, reason: str | None
) -> str:
    if passed:
        return claim
    kind = assertion.type
    if kind == "json_schema":
        return f"expected {claim}: {reason}"
    if actual is MISSING:
        return f"expected {claim}, got no value ({NO_VALUE_REASONS[_missing_reason(assertion)]})"
    got = "" if kind in ("body_contains", "body_equals") else f", got {show(actual)}"
    text = f"expected {claim}{got}"
    return f"{text} ({reason})" if reason else text


def _missing_reason(assertion: PreparedAssertion) -> str:
    return "header_absent" if assertion.type == "header" else "path_not_found"


def _failure_reason(exc: Exception) -> str:
    """Return why an assertion that raised has no actual value (a NO_VALUE_REASONS key)."""
    return exc.reason if isinstance(exc, BodyUnavailable) else "not_evaluated"


def _expected(assertion: PreparedAssertion, scope: Resolver) -> tuple[Any, str, Any]:
    """Return the expected value, the claim sentence and the expected value to record."""
    if assertion.static and assertion.claim is not None:
        return assertion.expected_record, assertion.claim, assertion.expected_record
    expected: Any = None
    if assertion.expected is not None:
        expected, _ = assertion.expected.render(scope)
    elif assertion.validator is not None:
        expected = assertion.schema_record
    claim = _claim(assertion, expected)
    record = expected if assertion.validator is not None else _cap(expected)
    if assertion.static and record is expected:
        assertion.claim, assertion.expected_record = claim, record
    return expected, claim, record


def evaluate_assertions(
    assertions: list[PreparedAssertion], exchange: Exchange, scope: Resolver
) -> list[AssertionResult]:
    results = []
    for assertion in assertions:
        expected: Any = None
        record: Any = None
        missing = _missing_reason(assertion)
        try:
            if assertion.claim is not None:  # static: worked out at the first evaluation
                expected = record = assertion.expected_record
                claim = assertion.claim
            else:
                expected, claim, record = _expected(assertion, scope)
            passed, actual, reason = _check(assertion, exchange, expected)
            message = claim if passed else _message(assertion, claim, passed, actual, reason)
        except (BodyUnavailable, ResolutionError) as exc:
            passed, actual = False, MISSING
            missing = _failure_reason(exc)
            message = f"{_subject(assertion)}: {exc}"
            if missing == "body_not_json" and assertion.operator == "not_exists":
                # No path can be found in a body that is not JSON: "does not exist" holds.
                passed, message = True, f"{_subject(assertion)} does not exist ({exc})"
        except _SchemaUnusable as exc:
            passed, actual, missing = False, MISSING, "not_evaluated"
            message = f"{_subject(assertion)}: the JSON Schema cannot be used: {exc}"
        except RecursionError:
            # A schema whose `$ref`s lead back to themselves without consuming data.
            passed, actual, missing = False, MISSING, "not_evaluated"
            message = (
                f"{_subject(assertion)}: the check could not be evaluated: the JSON Schema's "
                "references lead back to themselves without end"
            )
        except Exception as exc:
            # Whatever a check raises (a schema that refers to a non-schema, a recursion without
            # end) fails that check with its reason; it never ends the step or the worker task.
            # It found no value: `actual_missing` says so, as for any check that could not run.
            passed, actual, missing = False, MISSING, "not_evaluated"
            message = (
                f"{_subject(assertion)}: the check could not be evaluated: "
                f"{type(exc).__name__}: {exc}"
            )
        missing_actual = actual is MISSING
        results.append(
            AssertionResult(
                assertion.index,
                assertion.type,
                assertion.operator,
                assertion.target,
                record,
                None if missing_actual else actual,
                passed,
                assertion.soft,
                message,
                missing if missing_actual else None,
                "not_taken" if assertion.operator in NO_EXPECTED else None,
            )
        )
    return results
