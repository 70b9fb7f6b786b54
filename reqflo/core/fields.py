"""A JSON column that keeps the engine's exact numbers: written and read back digit for digit.

Django's ``JSONField`` writes with ``json.dumps`` (a ``Decimal`` is refused) and reads with
``json.loads`` (``100.10`` becomes the float 100.1, 20 digits lose 4), and on PostgreSQL it is
``jsonb``, whose ``numeric`` keeps the value but not the text: ``1e5`` comes back as
``100000``, ``1e400`` as 401 digits, ``-0`` as ``0``, and ``1e131072`` is refused. An
``ExactJSONField`` is the same field with three differences:

- it writes with ``reqflo.engine.numbers.dumps``: a Decimal (a ``Literal`` as written) is a
  JSON number with every digit; NaN and the infinities, which JSON cannot hold, are the strings
  ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (as the evidence digest writes them);
- it reads with ``numbers.loads``: a number a float would print differently is a ``Literal``;
- on PostgreSQL its column is ``json`` (the text as written, validated) and is selected as
  text, so psycopg does not parse it with floats. On SQLite it is Django's own (JSON text).

The columns hold documents read whole (evidence, inputs, data rows): ``jsonb``'s operators
(``@>``, ``?``) and indexes are not used on them. Key transforms (``evidence__status``) work
on ``json`` too.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Col
from django.db.models.fields.json import KeyTransform
from django.utils.functional import cached_property

from reqflo.engine import numbers

_AS_JSONB = "::jsonb"


class _JsonbCol(Col):
    """The column as jsonb on PostgreSQL, for the lookups and key transforms written for it
    (``->``, ``@>``, ``?``, ``=``); ``ExactJSONField.select_format`` selects it as stored."""

    def as_postgresql(self, compiler: Any, connection: BaseDatabaseWrapper) -> Any:
        sql, params = self.as_sql(compiler, connection)
        return f"{sql}{_AS_JSONB}", params


def exact_json_text(value: Any) -> str:
    """Return ``value`` as the JSON text an exact column stores (compact, numbers exact).

    Raises ``TypeError`` for a value JSON cannot hold (a set, an object).
    """
    try:
        return numbers.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN or infinite float somewhere: stored by name, as the digest does
        return numbers.dumps(numbers.finite_or_named(value), separators=(",", ":"))


class ExactJSONField(models.JSONField):
    """A ``JSONField`` that stores and reads numbers exactly (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("encoder") or kwargs.get("decoder"):
            raise ValueError("ExactJSONField has its own encoding: pass no encoder or decoder")
        super().__init__(*args, **kwargs)

    def get_col(self, alias: str, output_field: Any = None) -> Col:
        if alias == self.model._meta.db_table and (output_field is None or output_field == self):
            return self.cached_col
        return _JsonbCol(alias, self, output_field)

    @cached_property
    def cached_col(self) -> Col:
        return _JsonbCol(self.model._meta.db_table, self)

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def select_format(self, compiler: Any, sql: str, params: Any) -> Any:
        if compiler.connection.vendor == "postgresql":
            # The column itself as its own text (not through jsonb, see _JsonbCol), and as text
            # whatever it is: psycopg would parse a json value itself, with floats.
            return f"({sql.removesuffix(_AS_JSONB)})::text", params
        return super().select_format(compiler, sql, params)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        # Text of no declared type (psycopg sends a str as "unknown"): PostgreSQL reads it as
        # the column's json when stored, as jsonb when compared in a lookup.
        return exact_json_text(value)

    def validate(self, value: Any, model_instance: Any) -> None:
        # JSONField checks with json.dumps, which refuses a Decimal.
        models.Field.validate(self, value, model_instance)
        try:
            exact_json_text(value)
        except TypeError:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return value
        # SQLite extracts a key's non-string value in its own SQL type.
        if isinstance(expression, KeyTransform) and not isinstance(value, str):
            return value
        try:
            return numbers.loads(value)
        except json.JSONDecodeError:
            return value


def to_exact_json_column(table: str, column: str) -> Any:
    """Return a migration operation turning a ``jsonb`` column into an exact one's ``json``.

    Only PostgreSQL's column changes (SQLite's stays JSON text). Pair it with an ``AlterField``
    in the state only (``SeparateDatabaseAndState``): a database AlterField would remake an
    SQLite table, and its immutability triggers with it. Rows keep their values; numbers that
    ``jsonb`` rewrote (``1e5`` as ``100000``) keep the rewritten text.
    """
    from django.db import migrations

    def alter(to: str) -> Any:
        def run(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                name = schema_editor.quote_name
                schema_editor.execute(
                    f"ALTER TABLE {name(table)} ALTER COLUMN {name(column)} "
                    f"TYPE {to} USING {name(column)}::{to}"
                )

        return run

    return migrations.RunPython(alter("json"), alter("jsonb"))
