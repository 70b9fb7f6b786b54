"""JSON Schemas in journeys: validators that never fetch, and the references the Run check refuses.

A schema's ``$ref`` may only point inside the schema document itself (``#/$defs/item``, an
``$anchor``, an embedded ``$id``) or at a JSON Schema meta-schema that jsonschema ships. Left to
its defaults, jsonschema fetches any other reference with ``urllib``: a URL from the machine
running the journey (for a cloud run, from inside the operator's network, around the egress
policy) and a ``file:`` URI from its disk. Here nothing is ever retrieved: the registry refuses
every URI it does not already hold, and the Run check names each reference that would need one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import referencing
import referencing._core
import referencing.jsonschema
from jsonschema.validators import validator_for
from jsonschema_specifications import REGISTRY as META_SCHEMAS
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import SchemaRegistry

from reqflo.engine.schema_numbers import exact_numbers

# Keywords whose value is a reference to another schema.
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _refuse(uri: str) -> referencing.Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs exception


# Holds nothing and retrieves nothing; jsonschema adds its own meta-schemas to it.
OFFLINE: SchemaRegistry = referencing.Registry(retrieve=_refuse)  # type: ignore[call-arg]


def schema_validator(schema: Any) -> Any:
    """Return a validator for ``schema`` that resolves references only inside the document.

    Its number keywords keep exact numbers exact (see ``schema_numbers``).
    """
    return exact_numbers(validator_for(schema))(schema, registry=OFFLINE)


def describe_unresolvable(error: Unresolvable) -> str:
    """Say why a reference met while validating did not resolve, in the Run check's words."""
    return _refusal(str(error.ref), str(error.ref))


def _refusal(ref: str, target: str) -> str:
    scheme = urlsplit(target).scheme.lower()
    where = f"'{ref}'" if ref == target else f"'{ref}' (that is {target})"
    if scheme == "file":
        return (
            f"{where} is a file; a schema's references are resolved only inside the schema "
            "document, never read from disk"
        )
    if scheme and scheme not in ("urn", "tag"):
        return (
            f"{where} is outside the schema document; a schema's references are resolved only "
            "inside the schema document, never fetched"
        )
    return f"'{ref}' does not resolve inside the schema document"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {
        bool: "a boolean",
        str: "a string",
        list: "an array",
        dict: "an object",
        int: "a number",
    }
    return kinds.get(type(value), "a number" if isinstance(value, float) else type(value).__name__)


# How each keyword holds subschemas (drafts 4 to 2020-12). Every other keyword's value is not a
# schema where the walk starts: `enum`, `const`, `default` and `examples` hold instance data, and
# the values of `properties` are schemas while its keys are only names ("$ref", "enum", "$id"
# are valid property names).
SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
SCHEMA_SINGLE = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "contains",
        "additionalProperties",
        "additionalItems",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
# Deeper than this, the walk stops and says so (validating such a schema would overflow the stack).
MAX_DEPTH = 500
# Keywords whose value must be a string wherever a schema stands.
STRING_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef", "$id", "$anchor", "$dynamicAnchor")


def _subschemas(node: dict[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """Yield (path, value) for every subschema ``node`` holds, by what its keywords mean."""
    for key, value in node.items():
        where = f"{path}.{key}"
        if key in SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield f"{where}.{name}", sub
        elif key == "dependencies" and isinstance(value, dict):
            # Draft 7: each value is a schema or a list of property names.
            for name, sub in value.items():
                if isinstance(sub, dict):
                    yield f"{where}.{name}", sub
        elif key in SCHEMA_LISTS and isinstance(value, list):
            for index, sub in enumerate(value):
                yield f"{where}[{index}]", sub
        elif key == "items":
            if isinstance(value, list):
                for index, sub in enumerate(value):
                    yield f"{where}[{index}]", sub
            else:
                yield where, value
        elif key in SCHEMA_SINGLE:
            yield where, value


def schema_reference_problems(schema: Any) -> list[tuple[str, str]]:
    """Return ``(path below the schema, message)`` for each reference that cannot be followed.

    A reference is refused when it needs anything outside the schema document (a URL, a file,
    another schema), does not resolve, or resolves to something that is not a schema. A
    ``$ref``, ``$id`` or ``$anchor`` that is not a string, where a schema stands, is named too.
    The walk follows what keywords mean, and also goes into whatever a local reference points
    at (``{"$ref": "#/default"}`` makes a data keyword's value a schema).
    """
    if not isinstance(schema, dict):
        return []
    dialect = schema.get("$schema")
    if "$schema" in schema and not isinstance(dialect, str):
        return [(".$schema", f"'$schema' must be a string, not {_kind(dialect)}")]
    problems: list[tuple[str, str]] = []
    try:
        cls = validator_for(schema)
        specification = referencing.jsonschema.specification_with(
            cls.ID_OF(cls.META_SCHEMA) or "urn:unknown-dialect",
            default=referencing.Specification.OPAQUE,
        )
        root_id = _identifier(schema, specification, "", problems)
        if root_id is None:
            return problems
        registry = META_SCHEMAS.combine(OFFLINE)
        resolver = registry.resolver_with_root(specification.create_resource(schema))
        _walk(schema, specification, resolver, root_id, problems)
    except RecursionError:
        return [("", "the schema is nested too deeply to check its references")]
    return problems


def _pointer_path(ref: str, path: str) -> str:
    """Return where a local reference points, as a path below the schema (for messages)."""
    if not ref.startswith("#/"):
        return f"{path}→{ref}"
    segments = [s.replace("~1", "/").replace("~0", "~") for s in ref[2:].split("/")]
    return "".join(f"[{s}]" if s.isdigit() else f".{s}" for s in segments)


def _identifier(
    node: dict[str, Any],
    specification: referencing.Specification[Any],
    path: str,
    problems: list[tuple[str, str]],
) -> str | None:
    """Return the node's own id ("" without one), or None (named in problems) when it is bad."""
    for keyword in STRING_KEYWORDS:
        if keyword in node and not isinstance(node[keyword], str):
            problems.append(
                (f"{path}.{keyword}", f"'{keyword}' must be a string, not {_kind(node[keyword])}")
            )
            if keyword in ("$id", "$anchor", "$dynamicAnchor"):
                return None
    try:
        identifier = specification.create_resource(node).id()
    except Exception as exc:  # e.g. a draft 4 "id" that is not a string
        problems.append(
            (
                path,
                "the schema's identifier ('$id', or 'id' before draft 6) must be a string "
                f"({type(exc).__name__})",
            )
        )
        return None
    return identifier or ""


def _walk(
    schema: Any,
    specification: referencing.Specification[Any],
    resolver: referencing._core.Resolver[Any],
    base: str,
    problems: list[tuple[str, str]],
) -> None:
    """Check every reference in ``schema`` and in what its local references point at."""
    seen: set[int] = {id(schema)}
    pending: list[tuple[Any, str, str, referencing._core.Resolver[Any], int]] = [
        (schema, "", base, resolver, 0)
    ]
    while pending:
        node, path, base, here, depth = pending.pop()
        if not isinstance(node, dict):
            continue
        if depth > MAX_DEPTH:
            raise RecursionError(path)
        if depth:
            identifier = _identifier(node, specification, path, problems)
            if identifier is None:
                continue
            if identifier:
                here = here.in_subresource(specification.create_resource(node))
                base = urljoin(base, identifier)
        for keyword in REFERENCE_KEYWORDS:
            ref = node.get(keyword)
            if not isinstance(ref, str):
                continue
            target = _check_reference(f"{path}.{keyword}", ref, base, here, problems)
            # Whatever a reference inside the document points at is a schema, wherever it
            # stands (a meta-schema jsonschema ships is not walked).
            if target is not None and ref.startswith("#") and id(target.contents) not in seen:
                seen.add(id(target.contents))
                pending.append(
                    (target.contents, _pointer_path(ref, path), base, target.resolver, depth + 1)
                )
        for sub_path, sub in _subschemas(node, path):
            if isinstance(sub, dict) and id(sub) not in seen:
                seen.add(id(sub))
                pending.append((sub, sub_path, base, here, depth + 1))


def _check_reference(
    path: str,
    ref: str,
    base: str,
    here: referencing._core.Resolver[Any],
    problems: list[tuple[str, str]],
) -> referencing._core.Resolved[Any] | None:
    """Return what ``ref`` resolves to, or None with the reason added to ``problems``."""
    try:
        resolved = here.lookup(ref)
    except Unresolvable:
        problems.append((path, _refusal(ref, urljoin(base, ref))))
        return None
    except Exception as exc:  # a malformed pointer or URI: say so instead of crashing
        problems.append((path, f"'{ref}' cannot be resolved: {exc}"))
        return None
    if not isinstance(resolved.contents, dict | bool):
        problems.append(
            (path, f"'{ref}' resolves to {_kind(resolved.contents)}, not a JSON Schema")
        )
        return None
    return resolved
