"""OpenAPI 3.0/3.1 (and Swagger 2.0) to journeys: a step per operation.

One journey per tag (an operation goes to its first tag; untagged ones to a journey named after
the spec), or one journey of the chosen operations in the order given. Path parameters and
required query and header parameters become inputs (with the spec's example or default as the
input's default); the request body is the spec's example, else one built from the schema (said
in the report); the first documented 2xx response gives a `status_code` assertion and, with a
JSON schema, a `json_schema` assertion. The document is checked with openapi-spec-validator;
its findings are reported, not fatal.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

from jsonschema_path import SchemaPath
from openapi_spec_validator.shortcuts import get_validator_cls
from openapi_spec_validator.validation.exceptions import ValidatorDetectError

from reqflo.engine.imports.builder import JourneyBuilder
from reqflo.engine.imports.openapi_refs import follow, refuse_external_refs, response_schema
from reqflo.engine.imports.openapi_v2 import normalise_swagger2
from reqflo.engine.imports.report import ImportResult, SourceError
from reqflo.engine.imports.source import load_yaml_or_json, looks_like_credential, reference_name

Group = Literal["tags", "operations"]
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
MAX_VALIDATION_FINDINGS = 10


@dataclass
class _Operation:
    path: str
    method: str
    spec: dict[str, Any]
    shared_parameters: list[Any]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId") or "")


def import_openapi(
    source: bytes | str,
    *,
    group: Group = "tags",
    operations: list[str] | None = None,
    source_url: str | None = None,
) -> ImportResult:
    """Convert an OpenAPI document; `operations` (operationIds or `GET /path`) picks and orders
    steps for one journey. Raise SourceError for a document that cannot be imported at all."""
    document = load_yaml_or_json(source, what="the OpenAPI document")
    if not isinstance(document, dict):
        raise SourceError("not an OpenAPI document: expected a mapping at the top")
    document = _string_keys(document)
    refuse_external_refs(document)
    version = str(document.get("openapi") or document.get("swagger") or "")
    if not re.match(r"3\.[01]\.|2\.0$", version):
        raise SourceError(
            f"'openapi: {version}' is not supported; import OpenAPI 3.0, 3.1 or Swagger 2.0"
            if version
            else "not an OpenAPI document: there is no 'openapi' (or 'swagger') version key"
        )
    result = ImportResult(kind=f"OpenAPI {version}")
    _validate(document, result)
    oas30 = not version.startswith("3.1")
    if version == "2.0":
        document = normalise_swagger2(document)
    if not isinstance(document.get("paths"), dict):
        raise SourceError("the document has no 'paths' mapping: no operation to import")
    _environments(document, source_url, result)
    found = list(_operations(document))
    chosen = _choose(found, operations, result) if operations else found
    title = str(_mapping(document.get("info")).get("title") or "Imported API")
    groups: dict[str, list[_Operation]] = {}
    if group == "operations" or operations:
        groups[title] = chosen
    else:
        for operation in chosen:
            tags = operation.spec.get("tags")
            key = str(tags[0]) if isinstance(tags, list) and tags else title
            groups.setdefault(key, []).append(operation)
    taken: set[str] = set()
    converter = _Converter(document, result, oas30)
    for name, members in groups.items():
        builder = JourneyBuilder(name=name, source=f'tag "{name}"' if name != title else "paths")
        for operation in members:
            try:
                converter.step(operation, builder)
            except SourceError as exc:  # a broken local $ref costs this operation only
                result.add(f"paths.{operation.path}.{operation.method}", f"left out: {exc.message}")
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                # A value of a shape the spec does not allow (a list where a mapping belongs):
                # the validator's notes name it; here it costs this operation only.
                result.add(
                    f"paths.{operation.path}.{operation.method}",
                    f"left out: part of it has an unexpected shape ({type(exc).__name__})",
                )
        built = builder.build(result, taken_slugs=taken)
        if built is not None:
            result.journeys.append(built)
    result.finish()
    return result


def _validate(document: dict[str, Any], result: ImportResult) -> None:
    try:
        validator = get_validator_cls(document)(SchemaPath.from_dict(document))
        findings = list(itertools.islice(validator.iter_errors(), MAX_VALIDATION_FINDINGS + 1))
    except ValidatorDetectError:
        return
    except Exception as exc:
        # The validator is a library walking untrusted input; its own failure (a ref to
        # nowhere, a recursion) must not stop an import the converter can still do. Its text
        # may quote the document (an example password): only the kind of failure is said.
        result.add("document", f"could not be fully validated ({type(exc).__name__})", "note")
        return
    for finding in findings[:MAX_VALIDATION_FINDINGS]:
        where = json_pointer(getattr(finding, "absolute_path", ()))
        result.add(where, f"the spec is not valid here: {_rule(finding)}", "note")
    if len(findings) > MAX_VALIDATION_FINDINGS:
        result.add("document", "more validation findings were not listed", "note")


def json_pointer(parts: Iterable[Any]) -> str:
    """Return the RFC 6901 JSON pointer of a path in the document (`/paths/~1pets/get`)."""
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "/" + "/".join(escaped) if escaped else "/ (the document)"


def _rule(finding: Any) -> str:
    """Say which rule of the OpenAPI schema a validator finding breaks, in the schema's own
    words only: the finding's message quotes the document's values (an example password)."""
    keyword = str(getattr(finding, "validator", "") or "")
    expected = getattr(finding, "validator_value", None)
    instance = getattr(finding, "instance", None)
    if keyword == "required" and isinstance(expected, list) and isinstance(instance, dict):
        missing = [str(name) for name in expected if name not in instance]
        return "required field missing: " + ", ".join(missing)
    if keyword == "type" and isinstance(expected, (str, list)):
        kinds = [expected] if isinstance(expected, str) else [str(kind) for kind in expected]
        return "the value should be of type " + " or ".join(kinds)
    if keyword == "enum" and isinstance(expected, list):
        return "the value should be one of " + ", ".join(json.dumps(v) for v in expected)
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return "a field the OpenAPI schema does not allow here"
    if keyword in ("oneOf", "anyOf"):
        return f"matches none of the shapes the OpenAPI schema allows here ({keyword})"
    if keyword:
        return f"breaks the OpenAPI schema's '{keyword}' rule"
    return "invalid"


def _string_keys(node: Any) -> Any:
    """Make every mapping key a string: YAML reads `200:` as a number, OpenAPI means "200"."""
    if isinstance(node, dict):
        return {str(key): _string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_string_keys(item) for item in node]
    return node


def _environments(document: dict[str, Any], source_url: str | None, result: ImportResult) -> None:
    servers = [s for s in _list(document.get("servers")) if isinstance(s, dict) and s.get("url")]
    for index, server in enumerate(servers):
        url = str(server["url"])
        for name, variable in _mapping(server.get("variables")).items():
            if isinstance(variable, dict) and "default" in variable:
                url = url.replace("{" + str(name) + "}", str(variable["default"]))
        if not url.startswith(("http://", "https://")):
            if source_url is None:
                result.add(
                    f"servers[{index}]",
                    f"relative server URL '{url}': set base_url in the environment yourself",
                    "note",
                )
                continue
            url = urljoin(source_url, url)
        described = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(server.get("description") or ""))
        name = described.strip("-").lower()[:40] or ("default" if index == 0 else f"server-{index}")
        result.environments.setdefault(name, {"base_url": url.rstrip("/")})


def _operations(document: dict[str, Any]) -> list[_Operation]:
    out: list[_Operation] = []
    for path, item in document["paths"].items():
        item = follow(document, item)
        if not isinstance(item, dict):
            continue
        shared: list[Any] = item["parameters"] if isinstance(item.get("parameters"), list) else []
        for method in METHODS:
            if isinstance(item.get(method), dict):
                out.append(_Operation(str(path), method, item[method], shared))
    return out


def _choose(found: list[_Operation], wanted: list[str], result: ImportResult) -> list[_Operation]:
    chosen = []
    for key in wanted:
        match = next(
            (op for op in found if key in (op.operation_id, op.label) or key == op.label.lower()),
            None,
        )
        if match is None:
            result.add(
                f"operation '{key}'", "is not in the document (use an operationId or 'GET /path')"
            )
        else:
            chosen.append(match)
    return chosen


class _Converter:
    def __init__(self, document: dict[str, Any], result: ImportResult, oas30: bool) -> None:
        self.document = document
        self.result = result
        self.oas30 = oas30

    def step(self, operation: _Operation, builder: JourneyBuilder) -> None:
        where = f"paths.{operation.path}.{operation.method}"
        spec = operation.spec
        raw_id = operation.operation_id or f"{operation.method}-{operation.path}"
        step: dict[str, Any] = {"id": builder.step_id(raw_id)}
        step["name"] = str(spec.get("summary") or operation.operation_id or operation.label)
        request: dict[str, Any] = {"method": operation.method.upper()}
        url = operation.path
        headers: dict[str, Any] = {}
        query: dict[str, Any] = {}
        for parameter in self._parameters(operation, where):
            name, place = str(parameter["name"]), parameter.get("in")
            if place == "path":
                url = url.replace("{" + name + "}", self._input(parameter, builder))
            elif place in ("query", "header") and parameter.get("required"):
                target = query if place == "query" else headers
                if looks_like_credential(name):  # never an input with an example credential
                    secret = reference_name(name.lower())
                    target[name] = "{{ secrets." + secret + " }}"
                    self.result.add_secret(
                        secret, location=f"{where} › parameter {name}", reason=f"{place} {name}"
                    )
                else:
                    target[name] = self._input(parameter, builder)
            elif place == "cookie" and parameter.get("required"):
                self.result.add(f"{where} › parameter {name}", "cookie parameters are not set")
        request["url"] = "{{ env.base_url }}" + url
        self._security(spec, where, headers, query)
        if headers:
            request["headers"] = headers
        if query:
            request["query"] = query
        self._body(spec.get("requestBody"), where, request)
        step["request"] = request
        assertions = self._assertions(spec.get("responses"), where)
        if assertions:
            step["assertions"] = assertions
        builder.add_step(step, location=where)

    def _parameters(self, operation: _Operation, where: str) -> list[dict[str, Any]]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        own = operation.spec.get("parameters")
        for raw in [*operation.shared_parameters, *(own if isinstance(own, list) else [])]:
            parameter = follow(self.document, raw)
            if isinstance(parameter, dict) and parameter.get("name") and parameter.get("in"):
                merged[(str(parameter["name"]), str(parameter["in"]))] = parameter
            else:
                self.result.add(where, "a parameter without 'name' and 'in' was left out")
        return list(merged.values())

    def _input(self, parameter: dict[str, Any], builder: JourneyBuilder) -> str:
        name = reference_name(str(parameter["name"]))
        schema = follow(self.document, parameter.get("schema")) or {}
        default = _first(
            parameter.get("example"),
            _example_of(self.document, parameter),
            schema.get("example") if isinstance(schema, dict) else None,
            schema.get("default") if isinstance(schema, dict) else None,
        )
        builder.add_input(
            name, default=default, description=str(parameter.get("description") or "")
        )
        return "{{ inputs." + name + " }}"

    def _security(
        self, spec: dict[str, Any], where: str, headers: dict[str, Any], query: dict[str, Any]
    ) -> None:
        requirements = spec.get("security", self.document.get("security"))
        if not isinstance(requirements, list) or not requirements:
            return
        first = requirements[0] if isinstance(requirements[0], dict) else {}
        schemes = _mapping(_mapping(self.document.get("components")).get("securitySchemes"))
        for key in first:
            scheme = follow(self.document, schemes.get(key))
            location = f"{where} › security {key}"
            secret = reference_name(key)
            reference = "{{ secrets." + secret + " }}"
            kind = scheme.get("type") if isinstance(scheme, dict) else None
            if kind == "apiKey" and scheme.get("in") in ("header", "query"):
                (headers if scheme["in"] == "header" else query)[str(scheme["name"])] = reference
            elif kind == "http" and str(scheme.get("scheme")).lower() == "bearer":
                headers["Authorization"] = "Bearer " + reference
            elif kind == "http" and str(scheme.get("scheme")).lower() == "basic":
                headers["Authorization"] = reference
                self.result.add(
                    location,
                    f"basic auth reads the whole header value from secret "
                    f"'{secret}' ('Basic ' + base64 of user:password)",
                    "changed",
                )
            else:
                self.result.add(
                    location,
                    f"security scheme type '{kind}' is not set up; add the "
                    "credential header yourself",
                )
                continue
            self.result.add_secret(secret, location=location, reason=f"security scheme '{key}'")

    def _body(self, body: Any, where: str, request: dict[str, Any]) -> None:
        body = follow(self.document, body)
        if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
            return
        content = body["content"]
        location = f"{where} › requestBody"
        kind = next((k for k in content if "json" in k), None) or next(
            (k for k in content if k in ("application/x-www-form-urlencoded", "text/plain")), None
        )
        if kind is None:
            self.result.add(
                location, f"media types {', '.join(content)} are not supported; no body is sent"
            )
            return
        media = content[kind] if isinstance(content[kind], dict) else {}
        example = self._example(media, location)
        if example is None:
            return
        if "json" in kind:
            request["json"] = example
            if kind != "application/json":
                request.setdefault("headers", {})["Content-Type"] = kind
        elif kind == "text/plain":
            request["body"] = str(example)
            request.setdefault("headers", {})["Content-Type"] = "text/plain"
        elif isinstance(example, dict):
            request["form"] = {
                str(k): v if isinstance(v, str | int | float | bool) else str(v)
                for k, v in example.items()
            }

    def _example(self, media: dict[str, Any], location: str) -> Any:
        schema = follow(self.document, media.get("schema"))
        example = _first(
            media.get("example"),
            _example_of(self.document, media),
            schema.get("example") if isinstance(schema, dict) else None,
        )
        if example is not None:
            return example
        if schema is None:
            return None
        self.result.add(
            location,
            "no example in the spec: the body was built from the schema; check its values",
            "changed",
        )
        return _from_schema(self.document, schema, 0)

    def _assertions(self, responses: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(responses, dict) or not responses:
            self.result.add(where, "no documented response: no assertion", "note")
            return []
        codes = sorted(str(code) for code in responses)
        code = next((c for c in codes if re.fullmatch(r"2\d\d", c)), None) or next(
            (c for c in codes if c.upper() == "2XX"), None
        )
        if code is None:
            self.result.add(
                f"{where} › responses",
                f"no 2xx response documented ({', '.join(codes)}): no assertion",
                "note",
            )
            return []
        expected: int | str = int(code) if code.isdigit() else "2xx"
        assertions: list[dict[str, Any]] = [{"type": "status_code", "expected": expected}]
        response = follow(self.document, responses[code])
        content = response.get("content") if isinstance(response, dict) else None
        content = content if isinstance(content, dict) else {}
        kind = next((k for k in content if "json" in k), None)
        media = content[kind] if kind is not None else None
        schema = media.get("schema") if isinstance(media, dict) else None
        if isinstance(schema, dict) and schema:
            assertions.append(
                {
                    "type": "json_schema",
                    "schema": response_schema(self.document, schema, oas30=self.oas30),
                }
            )
        return assertions


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _example_of(document: dict[str, Any], holder: dict[str, Any]) -> Any:
    examples = holder.get("examples")
    if isinstance(examples, dict):
        for example in examples.values():
            example = follow(document, example)
            if isinstance(example, dict) and "value" in example:
                return example["value"]
    return None


def _from_schema(document: dict[str, Any], schema: Any, depth: int) -> Any:
    """Build a value from a schema: examples, defaults and enums first, else a placeholder."""
    schema = follow(document, schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            parts = [_from_schema(document, part, depth + 1) for part in schema[key]]
            if key == "allOf" and all(isinstance(part, dict) for part in parts):
                return {k: v for part in parts for k, v in part.items()}
            return parts[0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        properties: dict[str, Any] = (
            schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        )
        return {str(k): _from_schema(document, v, depth + 1) for k, v in properties.items()}
    if kind == "array":
        item = _from_schema(document, schema.get("items"), depth + 1)
        return [] if item is None else [item]
    return {"integer": 0, "number": 0, "boolean": False, "string": "string"}.get(str(kind))
