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

# Keywords whose value is a reference to another schema.
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
# Keywords whose value is instance data, never a schema: a "$ref" key inside is just data.
DATA_KEYWORDS = frozenset({"enum", "const", "examples", "default"})


def _refuse(uri: str) -> referencing.Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs exception


# Holds nothing and retrieves nothing; jsonschema adds its own meta-schemas to it.
OFFLINE: SchemaRegistry = referencing.Registry(retrieve=_refuse)  # type: ignore[call-arg]


def schema_validator(schema: Any) -> Any:
    """Return a validator for ``schema`` that resolves references only inside the document."""
    return validator_for(schema)(schema, registry=OFFLINE)


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
    return {bool: "a boolean", str: "a string", list: "an array", int: "a number"}.get(
        type(value), "a number" if isinstance(value, float) else type(value).__name__
    )


def schema_reference_problems(schema: Any) -> list[tuple[str, str]]:
    """Return ``(path below the schema, message)`` for each reference that cannot be followed.

    A reference is refused when it needs anything outside the schema document (a URL, a file,
    another schema), does not resolve, or resolves to something that is not a schema.
    """
    if not isinstance(schema, dict):
        return []
    cls = validator_for(schema)
    specification = referencing.jsonschema.specification_with(
        cls.ID_OF(cls.META_SCHEMA) or "urn:unknown-dialect",
        default=referencing.Specification.OPAQUE,
    )
    registry = META_SCHEMAS.combine(OFFLINE)
    root = specification.create_resource(schema)
    resolver = registry.resolver_with_root(root)
    problems: list[tuple[str, str]] = []
    try:
        found = list(_references(schema, specification, resolver, root.id() or ""))
    except RecursionError:
        return [("", "the schema is nested too deeply to check its references")]
    for path, ref, base, here in found:
        target = urljoin(base, ref)
        try:
            resolved = here.lookup(ref)
        except Unresolvable:
            problems.append((path, _refusal(ref, target)))
            continue
        except Exception as exc:  # a malformed pointer or URI: say so instead of crashing
            problems.append((path, f"'{ref}' cannot be resolved: {exc}"))
            continue
        if not isinstance(resolved.contents, dict | bool):
            problems.append(
                (path, f"'{ref}' resolves to {_kind(resolved.contents)}, not a JSON Schema")
            )
    return problems


def _references(
    node: Any,
    specification: referencing.Specification[Any],
    resolver: referencing._core.Resolver[Any],
    base: str,
    path: str = "",
    *,
    root: bool = True,
) -> Iterator[tuple[str, str, str, referencing._core.Resolver[Any]]]:
    """Yield (path, reference, base URI, resolver in scope) for every reference in ``node``."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _references(
                item, specification, resolver, base, f"{path}[{index}]", root=False
            )
        return
    if not isinstance(node, dict):
        return
    if not root:
        resource = specification.create_resource(node)
        identifier = resource.id()
        if identifier:
            resolver = resolver.in_subresource(resource)
            base = urljoin(base, identifier)
    for keyword in REFERENCE_KEYWORDS:
        ref = node.get(keyword)
        if isinstance(ref, str):
            yield f"{path}.{keyword}", ref, base, resolver
    for key, value in node.items():
        if key in DATA_KEYWORDS or key in REFERENCE_KEYWORDS:
            continue
        yield from _references(value, specification, resolver, base, f"{path}.{key}", root=False)
