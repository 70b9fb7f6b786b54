"""Read Postman test scripts (never run them): translate the statements that map exactly.

Recognised, statement by statement:
- `pm.response.to.have.status(200)`, `pm.response.to.be.ok|success|clientError|serverError|json`,
  `pm.response.to.have.header("X"[, "v"])`, `pm.response.to.have.body("text")`;
- `pm.expect(SUBJECT).to...` where SUBJECT is `pm.response.code`, `pm.response.responseTime`,
  `pm.response.text()`, `pm.response.headers.get("X")`, `pm.response.json().a.b` or an alias
  of `pm.response.json()` (`const data = pm.response.json(); pm.expect(data.a).to.eql(1)`), and
  the chain ends in eql/equal, include/contain, a/an, oneOf, above/below/least/most, lengthOf,
  match, exist, empty, true/false/null or property (each optionally negated with `not`);
- `pm.environment.set("x", pm.response.json().a.b)` (also `pm.collectionVariables`,
  `pm.globals`, `pm.variables`, `postman.setEnvironmentVariable`) from a JSON path, a header,
  the status code or a cookie.
Everything else is returned as a leftover with its line number and the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_ALIAS = re.compile(
    r"^(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*"
    r"(?:pm\.response\.json\(\)|JSON\.parse\(\s*(?:responseBody|pm\.response\.text\(\))\s*\))$"
)
_TEST_OPEN = re.compile(
    r"""^pm\.test\(\s*(?:"[^"]*"|'[^']*'|`[^`]*`)\s*,\s*"""
    r"""(?:function\s*\(\s*\)|\(\s*\)\s*=>)\s*\{(?P<rest>.*)$"""
)
_CLOSERS = re.compile(r"^[\s});]*$")
_EXPECT = re.compile(r"^pm\.expect\((?P<subject>.*)\)\.(?P<chain>(?:to|not)\b.*)$")
_SETTER = re.compile(
    r"""^(?:pm\.(?:environment|collectionVariables|globals|variables)\.set|"""
    r"""postman\.set(?:Environment|Global)Variable)\(\s*(["'])(?P<name>[^"']+)\1\s*,\s*"""
    r"""(?P<expr>.*)\)$"""
)
_SEGMENT = re.compile(r"""\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[(["'])(.*?)\3\]""")
_HEADER_GET = re.compile(r"""^pm\.response\.headers\.get\(\s*(["'])(?P<name>[^"']+)\1\s*\)$""")
_COOKIE_GET = re.compile(r"""^pm\.cookies\.get\(\s*(["'])(?P<name>[^"']+)\1\s*\)$""")
_FILLERS = {"to", "be", "been", "is", "that", "which", "and", "has", "have", "with", "at", "of"}
_FILLERS |= {"does", "still", "also", "deep"}
_OPERATORS = {
    "eql": "equals",
    "equal": "equals",
    "equals": "equals",
    "eq": "equals",
    "include": "contains",
    "includes": "contains",
    "contain": "contains",
    "contains": "contains",
    "oneOf": "in",
    "above": "greater_than",
    "gt": "greater_than",
    "greaterThan": "greater_than",
    "below": "less_than",
    "lt": "less_than",
    "lessThan": "less_than",
    "least": "greater_or_equal",
    "gte": "greater_or_equal",
    "most": "less_or_equal",
    "lte": "less_or_equal",
    "lengthOf": "length_equals",
    "length": "length_equals",
    "match": "matches",
    "a": "is_type",
    "an": "is_type",
}
_NEGATED = {
    "equals": "not_equals",
    "contains": "not_contains",
    "exists": "not_exists",
    "is_empty": "not_empty",
    "in": "not_in",
}
_STATUS_CLASSES = {"success": "2xx", "clientError": "4xx", "serverError": "5xx"}
_TYPES = {"string", "number", "boolean", "array", "object", "null"}
_GENERIC = "not translated: no exact Reqflo assertion or output for this statement"


@dataclass
class Leftover:
    """A statement that was not translated: its first line (1-based), its code and why."""

    line: int
    code: str
    reason: str


@dataclass
class Translation:
    """What a script became: assertions, outputs by Postman variable name, and leftovers."""

    assertions: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    leftovers: list[Leftover] = field(default_factory=list)


class _Untranslatable(ValueError):
    """A statement that has no exact equivalent; the message is the reason."""


def script_lines(script: Any) -> list[str]:
    """Return a Postman event script's `exec` (a list of lines or one string) as lines."""
    source = script.get("exec", []) if isinstance(script, dict) else []
    if isinstance(source, str):
        return source.splitlines()
    return [str(line) for line in source] if isinstance(source, list) else []


def translate_test_script(lines: list[str]) -> Translation:
    """Translate a test script's statements; see the module docstring for what maps."""
    out = Translation()
    aliases: set[str] = set()
    for number, statement in _statements(lines):
        alias = _ALIAS.match(statement)
        if alias:
            aliases.add(alias.group(1))
            continue
        try:
            _translate(statement, aliases, out)
        except _Untranslatable as reason:
            out.leftovers.append(Leftover(number, statement, str(reason)))
    return out


def prerequest_leftovers(lines: list[str]) -> list[Leftover]:
    """Return every statement of a pre-request script: none of them is run or translated."""
    return [
        Leftover(number, statement, "pre-request scripts are not run; set the value as an input")
        for number, statement in _statements(lines)
    ]


def _statements(lines: list[str]) -> list[tuple[int, str]]:
    """Split lines into statements, dropping comments and the `pm.test(..., () => {` wrappers."""
    out: list[tuple[int, str]] = []
    in_comment = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if in_comment:
            in_comment = "*/" not in line
            continue
        if line.startswith("/*"):
            in_comment = "*/" not in line
            continue
        if not line or line.startswith("//") or _CLOSERS.match(line):
            continue
        opened = _TEST_OPEN.match(line)
        if opened:
            line = opened.group("rest").strip()
            # A one-line test ends with its own closers: `...status(200); });`
            line = re.sub(r"\}\s*\)\s*;?\s*$", "", line).strip()
        for statement in _split(line):
            statement = statement.strip().rstrip(";").strip()
            if statement and not _CLOSERS.match(statement):
                out.append((number, statement))
    return out


def _split(line: str) -> list[str]:
    """Split on `;` outside quotes."""
    parts, current, quote = [], "", ""
    for char in line:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char == ";":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _translate(statement: str, aliases: set[str], out: Translation) -> None:
    if "sendRequest" in statement:
        raise _Untranslatable("pm.sendRequest is not supported: make the request its own step")
    if "setNextRequest" in statement:
        raise _Untranslatable("setNextRequest is not supported: journeys run steps in order")
    setter = _SETTER.match(statement)
    if setter:
        out.outputs[setter.group("name")] = _output(setter.group("expr").strip(), aliases)
        return
    if statement.startswith("pm.response.to."):
        out.assertions.append(_response_assertion(statement[len("pm.response.to.") :]))
        return
    expect = _EXPECT.match(statement)
    if expect:
        out.assertions.append(
            _expectation(expect.group("subject").strip(), expect["chain"], aliases)
        )
        return
    raise _Untranslatable(_GENERIC)


def _json_path(expression: str, aliases: set[str]) -> str | None:
    """Return the JSONPath of `data.a[0].b` / `pm.response.json().a`, or None if not one."""
    for root in ("pm.response.json()", *sorted(aliases, key=len, reverse=True)):
        if expression == root or expression.startswith((root + ".", root + "[")):
            rest, path = expression[len(root) :], "$"
            while rest:
                match = _SEGMENT.match(rest)
                if not match:
                    return None
                name, index, _, quoted = match.groups()
                if name is not None:
                    path += f".{name}" if not name.startswith("$") else f"['{name}']"
                elif index is not None:
                    path += f"[{index}]"
                else:
                    path += "['" + quoted.replace("'", "\\'") + "']"
                rest = rest[match.end() :]
            return path
    return None


def _output(expression: str, aliases: set[str]) -> dict[str, Any]:
    path = _json_path(expression, aliases)
    if path is not None:
        return {"from": "body", "path": path}
    header = _HEADER_GET.match(expression)
    if header:
        return {"from": "header", "name": header.group("name")}
    cookie = _COOKIE_GET.match(expression)
    if cookie:
        return {"from": "cookie", "name": cookie.group("name")}
    if expression == "pm.response.code":
        return {"from": "status"}
    raise _Untranslatable(
        "not translated: only a value of the response (JSON path, header, cookie, status) "
        "becomes an output"
    )


def _response_assertion(chain: str) -> dict[str, Any]:
    words = [w for w in chain.split(".") if w not in _FILLERS]
    call = re.fullmatch(r"(\w+)\((.*)\)", ".".join(words))
    if call:
        name, args = call.group(1), _arguments(call.group(2))
        if name == "status" and len(args) == 1 and isinstance(args[0], int):
            return {"type": "status_code", "expected": args[0]}
        if name == "header" and len(args) == 1 and isinstance(args[0], str):
            return {"type": "header", "name": args[0], "operator": "exists"}
        if name == "header" and len(args) == 2 and isinstance(args[0], str):
            return {"type": "header", "name": args[0], "operator": "equals", "expected": args[1]}
        if name == "body" and len(args) == 1 and isinstance(args[0], str):
            return {"type": "body_equals", "expected": args[0]}
    elif words == ["ok"]:
        return {"type": "status_code", "expected": 200}
    elif len(words) == 1 and words[0] in _STATUS_CLASSES:
        return {"type": "status_code", "expected": _STATUS_CLASSES[words[0]]}
    elif words == ["json"]:
        return {
            "type": "header",
            "name": "content-type",
            "operator": "contains",
            "expected": "json",
        }
    raise _Untranslatable(_GENERIC)


def _chain(chain: str) -> tuple[str, list[Any], bool]:
    """Return (operator, arguments, negated) of an assertion chain like `to.not.be.above(3)`."""
    negated = False
    words: list[str] = []
    for word in re.findall(r"\w+(?:\([^()]*(?:\[[^\]]*\][^()]*)?\))?", chain):
        if word == "not":
            negated = not negated
        elif word not in _FILLERS:
            words.append(word)
    if len(words) != 1:
        raise _Untranslatable(_GENERIC)
    word = words[0]
    call = re.fullmatch(r"(\w+)\((.*)\)", word, re.DOTALL)
    if call:
        name, args = call.group(1), _arguments(call.group(2))
        if name == "property" and args:
            return "property", args, negated
        if name not in _OPERATORS or len(args) != 1:
            raise _Untranslatable(_GENERIC)
        operator, expected = _OPERATORS[name], args[0]
        if operator == "is_type" and expected not in _TYPES:
            raise _Untranslatable(f"type {expected!r} has no JSON equivalent")
        return operator, [expected], negated
    plain: dict[str, tuple[str, list[Any]]] = {
        "exist": ("exists", []),
        "empty": ("is_empty", []),
        "true": ("equals", [True]),
        "false": ("equals", [False]),
        "null": ("equals", [None]),
        "undefined": ("not_exists", []),
    }
    if word not in plain:
        raise _Untranslatable(_GENERIC)
    operator, args = plain[word]
    return operator, list(args), negated


def _expectation(subject: str, chain: str, aliases: set[str]) -> dict[str, Any]:
    operator, args, negated = _chain(chain)
    if negated:
        if operator not in _NEGATED:
            raise _Untranslatable(f"a negated '{operator}' has no exact equivalent")
        operator = _NEGATED[operator]
    path = _json_path(subject, aliases)
    if operator == "property":
        if path is None or not isinstance(args[0], str) or len(args) > 2:
            raise _Untranslatable(_GENERIC)
        path += f"['{args[0]}']" if not re.fullmatch(r"[A-Za-z_]\w*", args[0]) else f".{args[0]}"
        operator, args = ("equals", [args[1]]) if len(args) == 2 else ("exists", [])
        if negated:
            operator = _NEGATED[operator]
    if path is not None:
        return {"type": "json_path", "path": path, "operator": operator, **_expected(args)}
    if subject == "pm.response.code":
        if operator not in ("equals", "not_equals", "in", "not_in", "greater_than", "less_than"):
            raise _Untranslatable(f"'{operator}' does not apply to the status code")
        return {"type": "status_code", "operator": operator, **_expected(args)}
    if subject == "pm.response.responseTime":
        if not operator.startswith(("greater", "less")):
            raise _Untranslatable(f"'{operator}' does not apply to the response time")
        return {"type": "response_time", "operator": operator, **_expected(args)}
    if subject in ("pm.response.text()", "responseBody"):
        if operator == "contains":
            return {"type": "body_contains", **_expected(args)}
        if operator == "equals" and isinstance(args[0], str):
            return {"type": "body_equals", **_expected(args)}
        raise _Untranslatable(f"'{operator}' on the body text has no exact equivalent")
    header = _HEADER_GET.match(subject)
    if header:
        return {"type": "header", "name": header["name"], "operator": operator, **_expected(args)}
    raise _Untranslatable(_GENERIC)


def _expected(args: list[Any]) -> dict[str, Any]:
    return {"expected": args[0]} if args else {}


def _arguments(text: str) -> list[Any]:
    """Parse a call's arguments as JS literals (strings, numbers, booleans, null, arrays)."""
    text = text.strip()
    if not text:
        return []
    regex = re.fullmatch(r"/((?:\\.|[^/\\])+)/([a-z]*)", text)
    if regex:
        flags = regex.group(2)
        if set(flags) - {"i", "m", "s"}:
            raise _Untranslatable(f"regex flags '{flags}' have no equivalent")
        return [(f"(?{flags})" if flags else "") + regex.group(1)]
    try:
        value = json.loads(f"[{_double_quoted(text)}]")
    except (json.JSONDecodeError, RecursionError):
        raise _Untranslatable(
            "the expected value is an expression, not a literal; only literals translate"
        ) from None
    return list(value)


def _double_quoted(text: str) -> str:
    """Turn JS single-quoted strings into JSON strings; leave everything else as it is."""
    return re.sub(
        r"'((?:\\.|[^'\\])*)'",
        lambda m: json.dumps(m.group(1).replace("\\'", "'").replace('\\"', '"')),
        text,
    )
