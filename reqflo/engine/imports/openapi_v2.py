"""Reshape a Swagger 2.0 document into the OpenAPI 3 shapes the converter reads.

Only what the converter uses: servers from `schemes`/`host`/`basePath`, `in: body` and
`formData` parameters as a `requestBody`, response `schema` as JSON content, and
`securityDefinitions` as `components.securitySchemes`. `#/definitions/...` refs keep working
because the definitions stay where they are.
"""

from __future__ import annotations

import copy
from typing import Any

from reqflo.engine.imports.openapi_refs import follow

_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def normalise_swagger2(document: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a Swagger 2.0 document in OpenAPI 3 shapes."""
    out = copy.deepcopy(document)
    host = out.get("host")
    if host:
        protocols = _list(out.get("schemes")) or ["https"]
        base = str(out.get("basePath") or "").rstrip("/")
        out["servers"] = [{"url": f"{protocols[0]}://{host}{base}"}]
    elif out.get("basePath"):
        out["servers"] = [{"url": str(out["basePath"])}]
    schemes: dict[str, Any] = {}
    for name, scheme in _mapping(out.get("securityDefinitions")).items():
        if isinstance(scheme, dict) and scheme.get("type") == "basic":
            schemes[name] = {"type": "http", "scheme": "basic"}
        else:
            schemes[name] = scheme
    out["components"] = {**_mapping(out.get("components")), "securitySchemes": schemes}
    consumes = _list(out.get("consumes")) or ["application/json"]
    for item in _mapping(out.get("paths")).values():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                _operation(out, operation, _list(item.get("parameters")), consumes)
    return out


def _operation(
    document: dict[str, Any], operation: dict[str, Any], shared: list[Any], consumes: list[Any]
) -> None:
    kept, form = [], {}
    body = None
    for raw in [*shared, *_list(operation.get("parameters"))]:
        parameter = follow(document, raw)
        if not isinstance(parameter, dict):
            continue
        if parameter.get("in") == "body":
            body = parameter
        elif parameter.get("in") == "formData":
            if parameter.get("type") != "file":
                form[str(parameter.get("name"))] = parameter
        else:
            schema = {
                k: parameter[k] for k in ("type", "default", "enum", "items") if k in parameter
            }
            kept.append({**parameter, "schema": schema})
    operation["parameters"] = kept
    media = (_list(operation.get("consumes")) or consumes)[0]
    if body is not None:
        content: dict[str, Any] = {"schema": body.get("schema") or {}}
        if "x-example" in body:
            content["example"] = body["x-example"]
        json_type = media if "json" in str(media) else "application/json"
        operation["requestBody"] = {"content": {json_type: content}}
    elif form:
        example = {name: p.get("x-example", p.get("default", "")) for name, p in form.items()}
        operation["requestBody"] = {
            "content": {"application/x-www-form-urlencoded": {"example": example}}
        }
    responses = _mapping(operation.get("responses"))
    for code, response in list(responses.items()):
        response = follow(document, response)
        if isinstance(response, dict) and "schema" in response:
            responses[code] = {
                **response,
                "content": {"application/json": {"schema": response["schema"]}},
            }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
