"""`$ref` handling for OpenAPI imports: refuse non-local refs, follow local ones, and build a
self-contained JSON Schema for a response.

Only refs inside the document (`#/...`) are followed. A ref to a file or a URL is refused before
anything else looks at the document, so importing a spec never reads a local file or calls a
host named by whoever wrote it.
"""

from __future__ import annotations

import copy
from typing import Any

from reqflo.engine.imports.report import SourceError
from reqflo.engine.json_schemas import REFERENCE_KEYWORDS

MAX_REF_HOPS = 32
DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"


def refuse_external_refs(document: Any) -> None:
    """Raise SourceError naming every `$ref` (or `$dynamicRef`, `$recursiveRef`) that points
    outside the document (first 5)."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for keyword in REFERENCE_KEYWORDS:  # `$dynamicRef` and `$recursiveRef` too
                ref = node.get(keyword)
                if isinstance(ref, str) and not ref.startswith("#"):
                    found.append(f"{path or '/'}/{keyword}: '{ref}'")
            stack.extend((value, f"{path}/{key}") for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, f"{path}/{index}") for index, value in enumerate(node))
    if found:
        shown = "; ".join(sorted(found)[:5])
        raise SourceError(
            f"the document refers outside itself ({len(found)} $ref): {shown}. Only refs inside "
            "the document (#/...) are resolved; files and URLs are never fetched. Bundle the "
            "spec into one document first"
        )


def pointer(document: Any, ref: str) -> Any:
    """Return the value at local ref `#/a/b`, or raise SourceError naming the ref."""
    node = document
    for raw in ref[2:].split("/") if ref.startswith("#/") else []:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise SourceError(f"$ref '{ref}' points at nothing in the document")
    if ref not in ("#", "") and not ref.startswith("#/"):
        raise SourceError(f"$ref '{ref}' is not a JSON pointer")
    return node


def follow(document: Any, node: Any) -> Any:
    """Follow `$ref` chains of a non-schema object (parameter, response, example)."""
    for _ in range(MAX_REF_HOPS):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = pointer(document, node["$ref"])
    raise SourceError("a $ref chain is longer than 32 hops (a ref cycle?)")


def response_schema(document: Any, schema: Any, *, oas30: bool) -> dict[str, Any]:
    """Return `schema` as a standalone JSON Schema: referenced schemas copied in as definitions.

    OpenAPI 3.0 and Swagger 2.0 schemas are draft-4 style (`nullable` becomes a `null` type);
    3.1 schemas are JSON Schema 2020-12 already.
    """
    holder = "definitions" if oas30 else "$defs"
    names: dict[str, str] = {}
    definitions: dict[str, Any] = {}
    pending: list[str] = []

    def rewrite(node: Any, *, named: bool = False) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        if named:  # `properties` and the like: keys are names, values are schemas
            return {key: rewrite(value) for key, value in node.items()}
        out = {
            key: rewrite(value, named=key in _NAMED)
            for key, value in node.items()
            if key not in _ANNOTATIONS
        }
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref not in names:
                names[ref] = f"d{len(names)}"
                pending.append(ref)
            out["$ref"] = f"#/{holder}/{names[ref]}"
        if oas30 and node.get("nullable") is True:
            out.pop("nullable", None)
            kind = node.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
        return out

    root = rewrite(copy.deepcopy(schema))
    while pending:
        ref = pending.pop()
        definitions[names[ref]] = rewrite(pointer(document, ref))
    # A `$ref` beside other keywords is ignored in draft 4: keep it alone inside allOf.
    plain = isinstance(root, dict) and "$ref" not in root
    out = dict(root) if plain else {"allOf": [root]}
    out["$schema"] = DRAFT4 if oas30 else DRAFT2020
    if definitions:
        out[holder] = definitions
    return out


# Keywords of OpenAPI that JSON Schema does not know; dropping them keeps examples out of the
# assertion and a `discriminator` from looking like a constraint.
_NAMED = {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}
_ANNOTATIONS = {"example", "examples", "xml", "externalDocs", "discriminator", "x-nullable"}
