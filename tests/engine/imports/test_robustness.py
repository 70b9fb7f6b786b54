"""Any shape where a collection or a spec expects another gives a report or a SourceError,
never an exception of another kind (which the CLI shows as an internal error, the page as 500)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.imports import SourceError, import_openapi, import_postman

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
POSTMAN_KEYS = ["request", "url", "header", "body", "auth", "event", "item", "query", "variable"]
POSTMAN_KEYS += ["bearer", "raw", "mode", "script", "exec", "listen", "key", "value", "method"]
POSTMAN_KEYS += ["name", "info"]
OPENAPI_KEYS = ["parameters", "requestBody", "responses", "security", "content", "schema"]
OPENAPI_KEYS += ["components", "securitySchemes", "paths", "servers", "name", "in", "type"]
OPENAPI_KEYS += ["required", "description", "info", "title", "k", "200", "/a/{id}", "post"]


def _plant(document: Any, keys: list[str], junk: Any, seed: int) -> Any:
    """Replace the value of one of `keys` (the seed-th found) anywhere in the document."""
    found: list[tuple[dict[str, Any], str]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.extend((node, key) for key in node if key in keys)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if found:
        holder, key = found[seed % len(found)]
        holder[key] = junk
    return document


def _postman() -> dict[str, Any]:
    schema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    return {
        "info": {"name": "C", "schema": schema},
        "variable": [{"key": "v", "value": "1"}],
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{t}}"}]},
        "item": [
            {
                "name": "F",
                "item": [
                    {
                        "name": "R",
                        "event": [
                            {"listen": "test", "script": {"exec": ["pm.response.to.be.ok;"]}}
                        ],
                        "request": {
                            "method": "POST",
                            "url": {"raw": "{{b}}/x?q=1", "query": [{"key": "q", "value": "1"}]},
                            "header": [{"key": "A", "value": "{{v}}"}],
                            "body": {"mode": "raw", "raw": '{"a": 1}'},
                        },
                    }
                ],
            }
        ],
    }


def _openapi() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "security": [{"k": []}],
        "components": {"securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "K"}}},
        "paths": {
            "/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True}],
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                },
            }
        },
    }


@settings(max_examples=300, deadline=None)
@given(junk=JSON, seed=st.integers(min_value=0, max_value=50))
def test_a_postman_collection_of_any_shape_is_reported_not_crashed(junk: Any, seed: int) -> None:
    document = _plant(_postman(), POSTMAN_KEYS, junk, seed)
    with contextlib.suppress(SourceError):
        import_postman(json.dumps(document))


def _swagger() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "host": "api.test",
        "schemes": ["https"],
        "consumes": ["application/json"],
        "securityDefinitions": {"k": {"type": "basic"}},
        "paths": {
            "/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
                "post": {
                    "parameters": [{"name": "b", "in": "body", "schema": {"type": "object"}}],
                    "responses": {"200": {"description": "ok", "schema": {"type": "object"}}},
                },
            }
        },
    }


@settings(max_examples=300, deadline=None)
@given(junk=JSON, seed=st.integers(min_value=0, max_value=50), version=st.sampled_from(["3", "2"]))
def test_an_openapi_document_of_any_shape_is_reported_not_crashed(
    junk: Any, seed: int, version: str
) -> None:
    keys = [*OPENAPI_KEYS, "securityDefinitions", "host", "schemes", "consumes", "basePath"]
    document = _plant(_openapi() if version == "3" else _swagger(), keys, junk, seed)
    with contextlib.suppress(SourceError):
        import_openapi(json.dumps(document))
