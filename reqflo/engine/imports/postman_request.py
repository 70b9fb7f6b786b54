"""One Postman request item to one step: URL, headers, auth, body and test scripts."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_plus

from reqflo.engine.imports.bodies import json_body, unquoted_variables
from reqflo.engine.imports.postman_context import (
    Context,
    JourneyState,
    entries,
    plain_text,
    translate,
)
from reqflo.engine.imports.postman_scripts import (
    prerequest_leftovers,
    script_lines,
    translate_test_script,
)
from reqflo.engine.imports.source import looks_like_credential, reference_name
from reqflo.engine.journey_schema import METHODS
from reqflo.engine.redaction import SENSITIVE_HEADERS

_PATH_VARIABLE = re.compile(r"(?<=/):([A-Za-z_][\w.-]*)")
_RAW_TYPES = {"json": "application/json", "xml": "application/xml", "html": "text/html"}


def request_step(
    item: dict[str, Any], where: str, inherited_auth: Any, journey: JourneyState, ctx: Context
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
    description = plain_text(item.get("description")) or plain_text(request.get("description"))
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


def _events(item: dict[str, Any], where: str, ctx: Context) -> tuple[list[Any], dict[str, Any]]:
    assertions: list[Any] = []
    outputs: dict[str, Any] = {}
    for event in entries(item.get("event")):
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


def raw_url(request: Any) -> str:
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


def _url(url: Any, where: str, journey: JourneyState, ctx: Context) -> tuple[str, dict[str, Any]]:
    raw = raw_url({"url": url}).split("#", 1)[0]
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
        for v in entries(url.get("variable") if isinstance(url, dict) else None)
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
        url_text = "{{ env.base_url }}" + translate(base[leading.end() :], where, journey, ctx)
    elif ctx.base_origin and (base == ctx.base_origin or base.startswith(ctx.base_origin + "/")):
        url_text = "{{ env.base_url }}" + translate(
            base[len(ctx.base_origin) :], where, journey, ctx
        )
    else:
        if not base.startswith("{{") and "://" not in base:
            ctx.result.add(where, f"URL '{base}' has no scheme; http:// was added", "changed")
            base = "http://" + base
        url_text = translate(base, where, journey, ctx)
    query: dict[str, Any] = {}
    for key, value in pairs:
        name = translate(unquote_plus(key), where, journey, ctx)
        literal = unquote_plus(value)
        if looks_like_credential(name) and literal and "{{" not in literal:
            secret = ctx.secret_for_literal(
                literal, name, location=where, why=f"the literal value of query parameter {name}"
            )
            text = "{{ secrets." + secret + " }}"
        else:
            text = translate(literal, where, journey, ctx)
        if name in query:
            previous = query[name]
            query[name] = [*previous, text] if isinstance(previous, list) else [previous, text]
        else:
            query[name] = text
    return url_text, query


def _headers(headers: Any, where: str, journey: JourneyState, ctx: Context) -> dict[str, Any]:
    if isinstance(headers, str):
        headers = [
            {"key": k.strip(), "value": v.strip()}
            for k, _, v in (line.partition(":") for line in headers.splitlines())
            if k.strip()
        ]
    out: dict[str, Any] = {}
    for header in entries(headers):
        if header.get("disabled") or not header.get("key"):
            continue
        name, value = str(header["key"]), str(header.get("value") or "")
        if _sensitive(name) and value and "{{" not in value:
            secret = ctx.secret_for_literal(
                value, name, location=where, why=f"the literal value of header {name}"
            )
            out[name] = "{{ secrets." + secret + " }}"
        else:
            out[name] = translate(value, f"{where} › header {name}", journey, ctx)
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
    journey: JourneyState,
    ctx: Context,
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
        # The password is the credential; the user name is not (it names the secret, listed
        # under "Secrets to store"), so the report does not mask it either.
        password = params.get("password")
        if isinstance(password, str | int) and not isinstance(password, bool):
            ctx.credential_values.add(str(password))
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


def _credential(value: Any, hint: str, location: str, journey: JourneyState, ctx: Context) -> str:
    text = "" if value is None else str(value)
    if "{{" in text:
        return translate(text, location, journey, ctx)
    name = ctx.secret_for_literal(text, hint, location=location, why="a credential in the auth")
    return "{{ secrets." + name + " }}"


def _body(body: Any, where: str, req: dict[str, Any], journey: JourneyState, ctx: Context) -> None:
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
            parsed = json_body(raw, lambda text: translate(text, location, journey, ctx))
            unquoted = unquoted_variables(raw)
            if parsed is not None and not unquoted:
                req["json"] = parsed[0]
                return
            if parsed is None:
                ctx.result.add(
                    location, "the raw body is not valid JSON; it is sent as text", "changed"
                )
            else:
                ctx.result.add(
                    location,
                    f"{', '.join(dict.fromkeys(unquoted))} stands outside quotes: the body is "
                    "sent as text with the value put in as text, as Postman does",
                    "note",
                )
        req["body"] = translate(raw, location, journey, ctx)
        if not declared:
            headers["Content-Type"] = _RAW_TYPES.get(language, "text/plain")
    elif mode in ("urlencoded", "formdata"):
        form: dict[str, Any] = {}
        for index, field_ in enumerate(entries(body.get(mode))):
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
            form[key] = translate(str(field_.get("value") or ""), location, journey, ctx)
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
            "query": translate(str(graphql.get("query") or ""), location, journey, ctx)
        }
        variables = graphql.get("variables")
        if isinstance(variables, str) and variables.strip():
            parsed = json_body(variables, lambda text: translate(text, location, journey, ctx))
            if parsed is None:
                ctx.result.add(location, "GraphQL variables are not valid JSON; left out")
            elif unquoted_variables(variables):
                # Postman puts the text in: the whole payload goes as text, the same way.
                text = translate(variables, location, journey, ctx)
                req["body"] = f'{{"query": {json.dumps(payload["query"])}, "variables": {text}}}'
                if not any(k.lower() == "content-type" for k in headers):
                    headers["Content-Type"] = "application/json"
                ctx.result.add(
                    location,
                    "a variable stands outside quotes in the GraphQL variables: the payload is "
                    "sent as text with the value put in as text, as Postman does",
                    "note",
                )
                if not headers:
                    req.pop("headers")
                return
            else:
                payload["variables"] = parsed[0]
        req["json"] = payload
    else:
        ctx.result.add(location, f"body mode '{mode}' is not supported; the body is left out")
    if not headers:
        req.pop("headers")
