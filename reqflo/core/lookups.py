"""Portable JSON lookups: the same query on PostgreSQL and on SQLite (the embedded default).

Django's ``__contains`` on a ``JSONField`` is PostgreSQL's ``@>`` and raises
``NotSupportedError`` on SQLite, so a page using it answers 500 on the quick start.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import JSONField, Lookup


@JSONField.register_lookup
class HasElement(Lookup):  # type: ignore[type-arg]
    """``field__has_element=value``: the JSON array in ``field`` holds the string ``value``
    exactly (case and all). A field that is not an array never matches.

    PostgreSQL: ``field @> '["value"]'`` (the GIN-indexable containment); SQLite and others
    with JSON1: ``EXISTS (SELECT 1 FROM json_each(field) WHERE value = %s)``.
    """

    lookup_name = "has_element"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        sql = (
            f"(json_type({lhs}) = 'array' AND EXISTS "
            f"(SELECT 1 FROM json_each({lhs}) AS element WHERE element.value = %s))"
        )
        return sql, [*params, *params, str(self.rhs)]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} @> %s::jsonb", [*params, json.dumps([str(self.rhs)])]
