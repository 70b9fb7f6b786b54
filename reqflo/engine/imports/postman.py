"""Postman Collection v2.0/v2.1 (and a Postman environment) to journeys.

Each top-level folder becomes a journey (`split="folders"`, nested folders flattened in order;
requests outside folders form one more journey), or the whole collection becomes one
(`split="collection"`). `{{name}}` variables become, first match wins: an earlier step's output
(set by a translated `pm.environment.set`), `env.base_url` (the variable most URLs start with),
a secret (a credential-looking name or value, or an environment entry of type secret), an
environment value (from the environment file), a journey variable (a collection variable), else
a required input. Credential values are never copied: only secret names are.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote_plus, urlsplit

from reqflo.engine.imports.bodies import json_body
from reqflo.engine.imports.builder import JourneyBuilder
from reqflo.engine.imports.postman_scripts import (
    prerequest_leftovers,
    script_lines,
    translate_test_script,
)
from reqflo.engine.imports.report import ImportResult, SourceError
from reqflo.engine.imports.source import load_json, looks_like_credential, reference_name
from reqflo.engine.journey_schema import METHODS
from reqflo.engine.redact import SENSITIVE_HEADERS

MAX_FOLDER_DEPTH = 16
Split = Literal["folders", "collection"]

_VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_DYNAMIC = {
    "$guid": "$uuid",
    "$randomUUID": "$uuid",
    "$timestamp": "$timestamp",
    "$isoTimestamp": "$now",
    "$randomInt": "$random_int",
}
_BASE_NAME = re.compile(r"url|host|base|server|domain|endpoint", re.IGNORECASE)
_PATH_VARIABLE = re.compile(r"(?<=/):([A-Za-z_][\w.-]*)")
_RAW_TYPES = {"json": "application/json", "xml": "application/xml", "html": "text/html"}


@dataclass
class _Context:
    result: ImportResult
    collection_vars: dict[str, Any]
    env_vars: dict[str, Any]
    secret_vars: set[str]
    base_var: str | None = None
    base_origin: str | None = None
    literal_secrets: dict[str, str] = field(default_factory=dict)

    def secret_for_literal(self, value: str, hint: str, *, location: str, why: str) -> str:
        """Return the secret name standing in for a literal credential (the value stays here)."""
        if value not in self.literal_secrets:
            base, name, number = reference_name(hint), reference_name(hint), 2
            while name in self.literal_secrets.values():
                name = f"{base}_{number}"
                number += 1
            self.literal_secrets[value] = name
        name = self.literal_secrets[value]
        self.result.add_secret(name, location=location, reason=why)
        return name


@dataclass
class _Journey:
    builder: JourneyBuilder
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)


def import_postman(
    source: bytes | str, *, environment: bytes | str | None = None, split: Split = "folders"
) -> ImportResult:
    """Convert a collection (and optionally an environment export); raise SourceError when
    the file is not a Postman v2.x collection at all."""
    collection = load_json(source, what="the collection")
    _check_collection(collection)
    result = ImportResult(kind="Postman collection")
    env_name, env_entries = _environment(environment)
    collection_vars = {
        str(v.get("key") or v.get("id")): v.get("value")
        for v in _list(collection.get("variable"))
        if isinstance(v, dict) and (v.get("key") or v.get("id")) and not v.get("disabled")
    }
    secret_vars = {
        name
        for name, (value, kind) in env_entries.items()
        if kind == "secret" or looks_like_credential(name, value)
    } | {name for name, value in collection_vars.items() if looks_like_credential(name, value)}
    env_vars = {name: value for name, (value, _) in env_entries.items()}
    ctx = _Context(result, collection_vars, env_vars, secret_vars)
    _choose_base(collection, ctx, env_name)
    for name in sorted(secret_vars & set(env_vars)):
        result.add(f'environment "{env_name}" › "{name}"', "treated as a secret", "note")
    for name, value in sorted(env_vars.items()):
        if name not in secret_vars and name != ctx.base_var:
            result.environments.setdefault(env_name, {})[reference_name(name)] = value
    info = collection["info"]
    title = str(info.get("name") or "Imported collection")
    _scripts_on_container(collection, "collection", ctx)
    groups = _groups(collection, title, split, ctx)
    taken: set[str] = set()
    for name, location, items in groups:
        journey = _Journey(
            JourneyBuilder(name=name, source=location, description=_text(info.get("description")))
        )
        for item, where, auth in items:
            _request_step(item, where, auth, journey, ctx)
        built = journey.builder.build(result, taken_slugs=taken)
        if built is not None:
            result.journeys.append(built)
    return result


def _check_collection(collection: Any) -> None:
    if not isinstance(collection, dict) or not isinstance(collection.get("info"), dict):
        raise SourceError("not a Postman collection: there is no 'info' object at the top")
    schema = str(collection["info"].get("schema", ""))
    if "collection/v2" not in schema:
        found = f"'{schema}'" if schema else "no schema"
        raise SourceError(
            f"info.schema is {found}; only Postman Collection v2.0 and v2.1 are imported "
            "(re-export the collection from Postman as v2.1)"
        )
    if not isinstance(collection.get("item"), list):
        raise SourceError("not a Postman collection: 'item' must be a list of requests")


def _environment(data: bytes | str | None) -> tuple[str, dict[str, tuple[Any, str]]]:
    if data is None:
        return "default", {}
    document = load_json(data, what="the environment file")
    if not isinstance(document, dict) or not isinstance(document.get("values"), list):
        raise SourceError("not a Postman environment: there is no 'values' list at the top")
    entries: dict[str, tuple[Any, str]] = {}
    for index, entry in enumerate(document["values"]):
        if not isinstance(entry, dict) or not entry.get("key"):
            raise SourceError(f"environment values[{index}]: expected an entry with a 'key'")
        if entry.get("enabled", True):
            entries[str(entry["key"])] = (entry.get("value"), str(entry.get("type", "")))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(document.get("name") or "default")).strip("-")
    return name or "default", entries


def _choose_base(collection: dict[str, Any], ctx: _Context, env_name: str) -> None:
    """Pick what `env.base_url` stands for: the variable most URLs start with, else the origin
    most absolute URLs share."""
    starts: Counter[str] = Counter()
    origins: Counter[str] = Counter()
    for item, _, _ in _walk(collection["item"], "", None, 0):
        raw = _raw_url(item.get("request"))
        leading = re.match(r"\{\{\s*([^{}]+?)\s*\}\}", raw)
        if leading:
            starts[leading.group(1)] += 1
        elif "://" in raw and "{{" not in raw.split("://", 1)[1].split("/", 1)[0]:
            parts = urlsplit(raw)
            origins[f"{parts.scheme}://{parts.netloc}"] += 1
    for name, _ in starts.most_common():
        value = ctx.env_vars.get(name, ctx.collection_vars.get(name))
        if (isinstance(value, str) and value.startswith(("http://", "https://"))) or (
            _BASE_NAME.search(name) and name not in ctx.secret_vars
        ):
            ctx.base_var = name
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                ctx.result.environments.setdefault(env_name, {})["base_url"] = value.rstrip("/")
            else:
                ctx.result.add(
                    f"variable {{{{{name}}}}}",
                    "became env.base_url, but no http(s) value was found for it: set base_url "
                    "in the environment",
                    "note",
                )
            return
    if origins:
        ctx.base_origin = origins.most_common(1)[0][0]
        ctx.result.environments.setdefault(env_name, {})["base_url"] = ctx.base_origin


def _walk(
    items: list[Any], where: str, auth: Any, depth: int
) -> list[tuple[dict[str, Any], str, Any]]:
    """Flatten folders into (item, location, inherited auth), in order; refuse deep nesting."""
    out: list[tuple[dict[str, Any], str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "(unnamed)")
        if isinstance(item.get("item"), list):
            location = f'{where} › folder "{name}"' if where else f'folder "{name}"'
            if depth >= MAX_FOLDER_DEPTH:
                raise SourceError(
                    f"{location} is nested more than {MAX_FOLDER_DEPTH} folders deep; "
                    "flatten the collection before importing it"
                )
            inherited = item.get("auth") if isinstance(item.get("auth"), dict) else auth
            out.extend(_walk(item["item"], location, inherited, depth + 1))
        else:
            location = f'{where} › item "{name}"' if where else f'item "{name}"'
            out.append((item, location, auth))
    return out


def _groups(
    collection: dict[str, Any], title: str, split: Split, ctx: _Context
) -> list[tuple[str, str, list[tuple[dict[str, Any], str, Any]]]]:
    auth = collection.get("auth") if isinstance(collection.get("auth"), dict) else None
    if split == "collection":
        return [(title, "collection", _walk(collection["item"], "", auth, 0))]
    groups: list[tuple[str, str, list[tuple[dict[str, Any], str, Any]]]] = []
    loose: list[tuple[dict[str, Any], str, Any]] = []
    for item in collection["item"]:
        if isinstance(item, dict) and isinstance(item.get("item"), list):
            name = str(item.get("name") or "(unnamed)")
            _scripts_on_container(item, f'folder "{name}"', ctx)
            groups.append((name, f'folder "{name}"', _walk([item], "", auth, 0)))
        else:
            loose.extend(_walk([item], "", auth, 0))
    if loose:
        groups.insert(0, (title, "collection", loose))
    return groups


def _scripts_on_container(container: dict[str, Any], where: str, ctx: _Context) -> None:
    for event in _list(container.get("event")):
        lines = [line for line in script_lines(event.get("script")) if line.strip()]
        if lines:
            ctx.result.add(
                f"{where} › event {event.get('listen', '?')}",
                f"{len(lines)} line(s) of script on a folder or collection are not imported; "
                "move the checks to the requests",
            )


def _request_step(
    item: dict[str, Any], where: str, inherited_auth: Any, journey: _Journey, ctx: _Context
) -> None:
    request = item.get("request")
    if isinstance(request, str):
        request = {"method": "GET", "url": request}
    if not isinstance(request, dict):
        ctx.result.add(where, "has no request; left out")
        return
    method = str(request.get("method") or "GET").upper()
    if method not in METHODS:
        ctx.result.add(where, f"method {method} is not supported ({', '.join(METHODS)}); left out")
        return
    builder = journey.builder
    sid = builder.step_id(str(item.get("name") or method))
    step: dict[str, Any] = {"id": sid, "name": str(item.get("name") or sid)}
    description = _text(item.get("description")) or _text(request.get("description"))
    if description:
        step["description"] = description
    url, query = _url(request.get("url"), where, journey, ctx)
    req: dict[str, Any] = {"method": method, "url": url}
    headers = _headers(request.get("header"), where, journey, ctx)
    auth = request.get("auth") if isinstance(request.get("auth"), dict) else inherited_auth
    _auth(auth, where, headers, query, journey, ctx)
    if headers:
        req["headers"] = headers
    if query:
        req["query"] = query
    _body(request.get("body"), where, req, journey, ctx)
    step["request"] = req
    assertions, outputs = _events(item, where, ctx)
    if assertions:
        step["assertions"] = assertions
    if outputs:
        step["outputs"] = {}
        for variable, spec in outputs.items():
            name = reference_name(variable)
            if variable in ctx.secret_vars or looks_like_credential(variable):
                spec = {**spec, "secret": True}
            step["outputs"][name] = spec
            journey.outputs[variable] = (sid, name)
    builder.add_step(step, location=where)


def _events(item: dict[str, Any], where: str, ctx: _Context) -> tuple[list[Any], dict[str, Any]]:
    assertions: list[Any] = []
    outputs: dict[str, Any] = {}
    for event in _list(item.get("event")):
        listen = event.get("listen")
        lines = script_lines(event.get("script"))
        if listen == "test":
            translation = translate_test_script(lines)
            assertions.extend(translation.assertions)
            outputs.update(translation.outputs)
            leftovers = translation.leftovers
        else:
            leftovers = prerequest_leftovers(lines)
        for leftover in leftovers:
            code = leftover.code if len(leftover.code) <= 80 else leftover.code[:77] + "..."
            ctx.result.add(
                f"{where} › event {listen} › line {leftover.line}", f"{code}: {leftover.reason}"
            )
    return assertions, outputs


def _raw_url(request: Any) -> str:
    if isinstance(request, str):
        return request
    url = request.get("url") if isinstance(request, dict) else None
    if isinstance(url, str):
        return url
    if not isinstance(url, dict):
        return ""
    if isinstance(url.get("raw"), str):
        return str(url["raw"])
    host = url.get("host")
    host = ".".join(map(str, host)) if isinstance(host, list) else str(host or "")
    path = url.get("path")
    path = "/".join(map(str, path)) if isinstance(path, list) else str(path or "")
    protocol = f"{url['protocol']}://" if url.get("protocol") else ""
    port = f":{url['port']}" if url.get("port") else ""
    return f"{protocol}{host}{port}/{path}" if path else f"{protocol}{host}{port}"


def _url(url: Any, where: str, journey: _Journey, ctx: _Context) -> tuple[str, dict[str, Any]]:
    raw = _raw_url({"url": url}).split("#", 1)[0]
    base, _, query_text = raw.partition("?")
    pairs: list[tuple[str, str]] = []
    if isinstance(url, dict) and isinstance(url.get("query"), list):
        pairs = [
            (str(q.get("key") or ""), "" if q.get("value") is None else str(q["value"]))
            for q in url["query"]
            if isinstance(q, dict) and not q.get("disabled") and q.get("key")
        ]
    elif query_text:
        for part in filter(None, query_text.split("&")):
            key, _, value = part.partition("=")
            pairs.append((key, value))
    path_values = {
        str(v.get("key")): v.get("value")
        for v in _list(url.get("variable") if isinstance(url, dict) else None)
        if v.get("key")
    }

    def path_variable(match: re.Match[str]) -> str:
        name = match.group(1)
        value = path_values.get(name)
        if value not in (None, ""):
            return str(value)
        return "{{" + name + "}}"

    base = _PATH_VARIABLE.sub(path_variable, base)
    leading = re.match(r"\{\{\s*([^{}]+?)\s*\}\}", base)
    if leading and leading.group(1) == ctx.base_var:
        url_text = "{{ env.base_url }}" + _template(base[leading.end() :], where, journey, ctx)
    elif ctx.base_origin and (base == ctx.base_origin or base.startswith(ctx.base_origin + "/")):
        url_text = "{{ env.base_url }}" + _template(
            base[len(ctx.base_origin) :], where, journey, ctx
        )
    else:
        if not base.startswith("{{") and "://" not in base:
            ctx.result.add(where, f"URL '{base}' has no scheme; http:// was added", "changed")
            base = "http://" + base
        url_text = _template(base, where, journey, ctx)
    query: dict[str, Any] = {}
    for key, value in pairs:
        name = _template(unquote_plus(key), where, journey, ctx)
        text = _template(unquote_plus(value), where, journey, ctx)
        if name in query:
            previous = query[name]
            query[name] = [*previous, text] if isinstance(previous, list) else [previous, text]
        else:
            query[name] = text
    return url_text, query


def _headers(headers: Any, where: str, journey: _Journey, ctx: _Context) -> dict[str, Any]:
    if isinstance(headers, str):
        headers = [
            {"key": k.strip(), "value": v.strip()}
            for k, _, v in (line.partition(":") for line in headers.splitlines())
            if k.strip()
        ]
    out: dict[str, Any] = {}
    for header in _list(headers):
        if header.get("disabled") or not header.get("key"):
            continue
        name, value = str(header["key"]), str(header.get("value") or "")
        if _sensitive(name) and value and "{{" not in value:
            secret = ctx.secret_for_literal(
                value, name, location=where, why=f"the literal value of header {name}"
            )
            out[name] = "{{ secrets." + secret + " }}"
        else:
            out[name] = _template(value, f"{where} › header {name}", journey, ctx)
    return out


def _sensitive(header: str) -> bool:
    return header.lower() in SENSITIVE_HEADERS or looks_like_credential(header)


def _auth_params(auth: dict[str, Any], kind: str) -> dict[str, Any]:
    params = auth.get(kind)
    if isinstance(params, list):  # v2.1: [{key, value}]
        return {str(p.get("key")): p.get("value") for p in params if isinstance(p, dict)}
    return dict(params) if isinstance(params, dict) else {}  # v2.0: {token: ...}


def _auth(
    auth: Any,
    where: str,
    headers: dict[str, Any],
    query: dict[str, Any],
    journey: _Journey,
    ctx: _Context,
) -> None:
    if not isinstance(auth, dict) or auth.get("type") in (None, "noauth", "inherit"):
        return
    kind = str(auth["type"])
    params = _auth_params(auth, kind)
    location = f"{where} › auth {kind}"
    if kind == "bearer":
        token = _credential(params.get("token"), "bearer_token", location, journey, ctx)
        headers["Authorization"] = f"Bearer {token}"
    elif kind == "basic":
        name = reference_name(f"basic_auth_{params.get('username') or 'user'}")
        if not isinstance(params.get("username"), str) or "{{" in str(params.get("username")):
            name = "basic_auth"
        ctx.result.add_secret(
            name,
            location=location,
            reason="the whole Authorization header value: 'Basic ' + base64(username:password)",
        )
        ctx.result.add(
            location,
            f"basic auth became header Authorization from secret '{name}' (store 'Basic ' and "
            "the base64 of username:password in it)",
            "changed",
        )
        headers["Authorization"] = "{{ secrets." + name + " }}"
    elif kind == "apikey":
        key = str(params.get("key") or "X-Api-Key")
        value = _credential(params.get("value"), key, location, journey, ctx)
        (query if params.get("in") == "query" else headers)[key] = value
    else:
        ctx.result.add(location, f"auth type '{kind}' is not supported; add the header yourself")


def _credential(value: Any, hint: str, location: str, journey: _Journey, ctx: _Context) -> str:
    text = "" if value is None else str(value)
    if "{{" in text:
        return _template(text, location, journey, ctx)
    name = ctx.secret_for_literal(text, hint, location=location, why="a credential in the auth")
    return "{{ secrets." + name + " }}"


def _body(body: Any, where: str, req: dict[str, Any], journey: _Journey, ctx: _Context) -> None:
    if not isinstance(body, dict) or body.get("disabled") or not body.get("mode"):
        return
    mode = str(body["mode"])
    location = f"{where} › body {mode}"
    headers = req.setdefault("headers", {})
    if mode == "raw":
        raw = str(body.get("raw") or "")
        if not raw:
            return
        language = str(((body.get("options") or {}).get("raw") or {}).get("language") or "")
        declared = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if language == "json" or "json" in str(declared):
            parsed = json_body(raw, lambda text: _template(text, location, journey, ctx))
            if parsed is not None:
                req["json"] = parsed[0]
                return
            ctx.result.add(
                location, "the raw body is not valid JSON; it is sent as text", "changed"
            )
        req["body"] = _template(raw, location, journey, ctx)
        if not declared:
            headers["Content-Type"] = _RAW_TYPES.get(language, "text/plain")
    elif mode in ("urlencoded", "formdata"):
        form: dict[str, Any] = {}
        for index, field_ in enumerate(_list(body.get(mode))):
            if field_.get("disabled") or not field_.get("key"):
                continue
            if field_.get("type") == "file":
                ctx.result.add(
                    f"{location} › field {field_['key']}", "file fields are not supported"
                )
                continue
            key = str(field_["key"])
            if key in form:
                ctx.result.add(
                    f"{location} › field {index}", f"repeated field '{key}': last kept", "changed"
                )
            form[key] = _template(str(field_.get("value") or ""), location, journey, ctx)
        if mode == "formdata":
            ctx.result.add(
                location,
                "multipart form-data is sent as application/x-www-form-urlencoded",
                "changed",
            )
        if form:
            req["form"] = form
    elif mode == "graphql":
        graphql: dict[str, Any] = body["graphql"] if isinstance(body.get("graphql"), dict) else {}
        payload: dict[str, Any] = {
            "query": _template(str(graphql.get("query") or ""), location, journey, ctx)
        }
        variables = graphql.get("variables")
        if isinstance(variables, str) and variables.strip():
            parsed = json_body(variables, lambda text: _template(text, location, journey, ctx))
            if parsed is None:
                ctx.result.add(location, "GraphQL variables are not valid JSON; left out")
            else:
                payload["variables"] = parsed[0]
        req["json"] = payload
    else:
        ctx.result.add(location, f"body mode '{mode}' is not supported; the body is left out")
    if not headers:
        req.pop("headers")


def _template(text: str, where: str, journey: _Journey, ctx: _Context, depth: int = 0) -> str:
    """Translate Postman `{{name}}` variables in `text` into Reqflo references."""
    if "{{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        return "{{ " + _reference(match.group(1), where, journey, ctx, depth) + " }}"

    return _VARIABLE.sub(replace, text)


def _reference(raw: str, where: str, journey: _Journey, ctx: _Context, depth: int) -> str:
    builder = journey.builder
    if raw.startswith("$"):
        if raw in _DYNAMIC:
            return _DYNAMIC[raw]
        name = reference_name(raw)
        builder.add_input(name, description=f"was Postman's dynamic variable {{{{{raw}}}}}")
        ctx.result.add(
            where,
            f"dynamic variable {{{{{raw}}}}} has no equivalent; it became input '{name}'",
            "changed",
        )
        return f"inputs.{name}"
    name = reference_name(raw)
    if raw in journey.outputs:
        step, output = journey.outputs[raw]
        return f"steps.{step}.outputs.{output}"
    if raw == ctx.base_var:
        return "env.base_url"
    if raw in ctx.secret_vars:
        ctx.result.add_secret(name, location=where, reason=f"was variable {{{{{raw}}}}}")
        return f"secrets.{name}"
    if raw in ctx.env_vars:
        return f"env.{name}"
    if raw in ctx.collection_vars and depth < 8:
        if name not in builder.variables:
            value = ctx.collection_vars[raw]
            builder.variables[name] = (
                _template(value, where, journey, ctx, depth + 1)
                if isinstance(value, str)
                else value
            )
        return f"variables.{name}"
    builder.add_input(name, description=f"was Postman variable {{{{{raw}}}}}")
    return f"inputs.{name}"


def _list(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return str(value).strip() if isinstance(value, str) else ""
