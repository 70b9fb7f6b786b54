"""Exact JSON columns on PostgreSQL (``reqflo.core.fields.ExactJSONField``, issue 13).

What ``jsonb`` would change (`1e5`, `1e400`, `-0`), refuse (`1e131072`) or a float would lose
(`100.10`, 20 digits) is stored and read back as written; NaN and the infinities, which JSON
cannot hold, are stored by name; lookups and key transforms still work; and digests verify for
evidence written now and for rows stored before (strings, and floats as ``jsonb`` rewrote them).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models.fields.json import KT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.engine.digest import canonical_record
from reqflo.runners.leases import checkpoint_commit, lease_take
from reqflo.runs.models import Run, StepResult
from reqflo.runs.selectors import verify_run_chain
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

EXACT = {
    "trail": "100.10",
    "digits": "0.1000000000000000055511151231257827",
    "big": "123456789012345678901234567890",
    "huge": "1e400",
    "beyond_numeric": "1e131072",
    "tiny": "1e-400",
    "exponent": "1E+5",
    "negzero": "-0",
    "float": "0.1",
}


def _exact_values() -> dict[str, Any]:
    return {name: numbers.parse_number(text) for name, text in EXACT.items()}


def _column_text(sql: str, pk: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def test_exact_numbers_are_stored_and_read_back_as_written() -> None:
    run = RunFactory()
    Run.objects.filter(pk=run.pk).update(inputs=_exact_values())
    text = _column_text("SELECT inputs::text FROM runs_run WHERE id = %s", run.pk)
    for name, number in EXACT.items():
        assert f'"{name}":{number}' in text, text
    for got in (Run.objects.get(pk=run.pk).inputs, Run.objects.values_list("inputs").get()[0]):
        assert {name: numbers.text(value) for name, value in got.items()} == EXACT
        assert all(numbers.is_number(value) for value in got.values())


def test_nan_and_infinity_are_stored_by_name() -> None:
    run = RunFactory()
    inputs = {"a": math.nan, "b": math.inf, "c": -math.inf, "d": Decimal("NaN"), "e": [math.inf]}
    Run.objects.filter(pk=run.pk).update(inputs=inputs)
    assert Run.objects.get(pk=run.pk).inputs == {
        "a": "NaN",
        "b": "Infinity",
        "c": "-Infinity",
        "d": "NaN",
        "e": ["Infinity"],
    }


def test_lookups_and_key_transforms_work_on_an_exact_column() -> None:
    run = RunFactory()
    Run.objects.filter(pk=run.pk).update(
        inputs={"n": numbers.parse_number("100.10"), "s": "x", "l": [1, 2]}
    )
    runs = Run.objects.filter(pk=run.pk)
    assert runs.filter(inputs__n=numbers.parse_number("100.1")).exists()
    assert runs.filter(inputs__n__gt=100, inputs__s="x", inputs__has_key="l").exists()
    assert runs.filter(inputs__contains={"s": "x"}, inputs__l__1=2).exists()
    assert not runs.filter(inputs__n__lt=100).exists()
    assert runs.filter(inputs__l__contains=[2]).exists()
    assert numbers.same_number(runs.values_list("inputs__n", flat=True).get(), Decimal("100.1"))
    assert runs.annotate(s=KT("inputs__s")).values_list("s", flat=True).get() == "x"
    assert list(runs.order_by("inputs__n", "inputs").values_list("pk", flat=True)) == [run.pk]


def test_evidence_with_exact_numbers_verifies_its_digest_chain() -> None:
    run = RunFactory(step_count=2)
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    evidence = {"values": _exact_values(), "nan": math.nan, "neg": [-math.inf]}
    checkpoint_commit(lease, index=0, step_id="s1", evidence=evidence, snapshot={})
    stored = StepResult.objects.get(run=run, index=0).evidence
    assert {k: numbers.text(v) for k, v in stored["values"].items()} == EXACT
    assert (stored["nan"], stored["neg"]) == ("NaN", ["-Infinity"])
    assert verify_run_chain(run).ok


def test_a_row_stored_before_verifies_after_the_column_became_json() -> None:
    """The old writer stored exact numbers as text and floats through jsonb (which rewrites
    `1.5e-07` as `0.00000015` and `1e16` as 17 digits); the migration casts jsonb to json."""
    run = RunFactory(step_count=2)
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    old = {
        **{name: numbers.text(value) for name, value in _exact_values().items()},
        "floats": [1.5e-07, 1e16, 3.0, 0.1, 5e-324, 1.7976931348623157e308, -0.0],
    }
    checkpoint_commit(lease, index=0, step_id="s1", evidence=old, snapshot={})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_stepresult SET evidence = evidence::jsonb::json WHERE run_id = %s",
            [run.pk],
        )
    stored = StepResult.objects.get(run=run, index=0).evidence
    assert stored["floats"][0] == numbers.parse_number("0.00000015")  # rewritten by jsonb
    assert verify_run_chain(run).ok


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_that_jsonb_rewrote_digests_as_before(value: float) -> None:
    import json

    with connection.cursor() as cursor:
        cursor.execute("SELECT (%s::jsonb)::text", [json.dumps({"v": value})])
        row = cursor.fetchone()
    assert row is not None
    read = numbers.loads(row[0])
    record = {"run_id": "r", "index": 0, "step_id": "s", "status": "passed"}
    assert canonical_record(evidence=read, **record) == canonical_record(
        evidence={"v": value}, **record
    )
