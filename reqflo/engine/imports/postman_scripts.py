"""Read Postman test scripts (never run them): translate the statements that map exactly.

Recognised, statement by statement:
- `pm.response.to.have.status(200)`, `pm.response.to.be.ok|success|clientError|serverError`,
  `pm.response.to.have.header("X"[, "v"])`, `pm.response.to.have.body("text")`;
- `pm.expect(SUBJECT).to...` where SUBJECT is `pm.response.code`, `pm.response.responseTime`,
  `pm.response.text()`, `pm.response.headers.get("X")`, `pm.response.json().a.b` or an alias
  of `pm.response.json()` (`const data = pm.response.json(); pm.expect(data.a).to.eql(1)`), and
  the chain ends in eql/equal, include/contain, a/an, oneOf, above/below/least/most, lengthOf,
  match, exist, empty, true/false/null or property (each optionally negated with `not`);
- `pm.environment.set("x", pm.response.json().a.b)` (also `pm.collectionVariables`,
  `pm.globals`, `pm.variables`, `postman.setEnvironmentVariable`) from a JSON path, a header,
  the status code or a cookie.
Only translations that are exact (the assertions pass for precisely the responses Chai passes
for) are made, and only for statements that always run: see `translate_test_script` and
`_expectation`. Everything else is returned as a leftover with its line number and the reason.
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
# Properties JavaScript gives every array, string or object: not keys of the JSON document.
_JS_PROPERTIES = {"length", "constructor", "prototype", "__proto__", "toString", "valueOf"}
_JS_PROPERTIES |= {"hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString"}
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
    """Translate a test script's statements; see the module docstring for what maps.

    Only statements that always run are translated: at the top level or directly inside a
    `pm.test` callback, before any `return` there. A statement inside `if`/`else`/`try`/a loop
    or a function runs only sometimes and is reported, never made an unconditional assertion.
    """
    out = Translation()
    # Aliases by the test callback they are declared in (0: the top level of the script).
    scopes: dict[int, set[str]] = {0: set()}
    for statement in _statements(lines):
        number, text = statement.line, statement.code
        _forget_changed(text, list(scopes.values()))  # wherever it runs, it may change one
        if statement.skip_reason:
            out.leftovers.append(Leftover(number, text, statement.skip_reason))
            continue
        scope = scopes.setdefault(statement.test, set())
        alias = _ALIAS.match(text)
        if alias:
            scope.add(alias.group(1))
            continue
        try:
            _translate(text, scopes[0] | scope, out)
        except _Untranslatable as reason:
            out.leftovers.append(Leftover(number, text, str(reason)))
    return out


def prerequest_leftovers(lines: list[str]) -> list[Leftover]:
    """Return every statement of a pre-request script: none of them is run or translated."""
    return [
        Leftover(s.line, s.code, "pre-request scripts are not run; set the value as an input")
        for s in _statements(lines)
    ]


@dataclass
class _Statement:
    """One statement: its first line (1-based), its code, the `pm.test` callback it is in, and
    why it cannot be translated where it is (inside a conditional block, after a `return`)."""

    line: int
    code: str
    test: int  # which pm.test callback it is directly in (numbered from 1), 0: the top level
    skip_reason: str = ""


@dataclass
class _Frame:
    kind: str  # "test" (a pm.test callback), "block" (if/else/try/loop/function) or "top"
    header: str
    line: int
    returned_at: int = 0  # the line of a `return` met in this frame (0: none)
    number: int = 0  # a test callback's number (1, 2 …); 0 for the top level and blocks


_KEYWORD_BLOCK = re.compile(
    r"^(?:\}\s*)?(?:if|else|for|while|do|switch|try|catch|finally|function)\b"
)
_ASSIGNS = r"(?:\s*(?:\.[\w$]+|\[[^\]]*\]))*\s*(?:[-+*/%]?=(?!=)|\+\+|--)"


def _forget_changed(statement: str, scopes: list[set[str]]) -> None:
    """Forget an alias the statement reassigns, mutates or declares anew."""
    for scope in scopes:
        for name in list(scope):
            escaped = re.escape(name)
            if re.search(rf"(?<![\w$.]){escaped}{_ASSIGNS}", statement) or re.search(
                rf"(?:\b(?:var|let|const|delete)\s+){escaped}\b"
                rf"|(?<![\w$.]){escaped}(?:\.[\w$]+)*\.(?:push|pop|shift|unshift|splice|sort"
                rf"|reverse|fill)\(",
                statement,
            ):
                scope.discard(name)


def _statements(lines: list[str]) -> list[_Statement]:
    """Split a script into statements with where each one runs: a small scanner of JavaScript
    that knows strings, comments, parentheses and braces (a `{` after `)`, `=>` or a keyword
    opens a block; any other `{` is an object literal)."""
    out: list[_Statement] = []
    frames = [_Frame("top", "", 0)]
    current, start, parens, objects = "", 0, 0, 0
    quote, in_block_comment = "", False
    tests = 0

    def flush(number: int) -> None:
        nonlocal current, parens, objects
        code = current.strip().rstrip(";").strip()
        current, parens, objects = "", 0, 0
        if not code or _CLOSERS.match(code):
            return
        opened = None
        for frame in reversed(frames):
            if frame.kind == "block":
                opened = frame
                break
        test = next((f.number for f in reversed(frames) if f.kind == "test"), 0)
        enclosing = next(f for f in reversed(frames) if f.kind in ("test", "top"))
        reason = ""
        if opened is not None:
            reason = (
                f"inside '{_short(opened.header)}' (line {opened.line}): it runs only "
                "sometimes; not translated"
            )
        elif enclosing.returned_at:
            reason = (
                f"after a 'return' on line {enclosing.returned_at}: it may not run; not translated"
            )
        if re.search(r"\breturn\b", code):
            enclosing.returned_at = enclosing.returned_at or (start or number)
        out.append(_Statement(start or number, code, test, reason))

    for number, raw in enumerate(lines, start=1):
        index = 0
        text = raw
        while index < len(text):
            char = text[index]
            pair = text[index : index + 2]
            if in_block_comment:
                if pair == "*/":
                    in_block_comment = False
                    index += 1
                index += 1
                continue
            if quote:
                current += char
                if char == "\\":
                    current += text[index + 1 : index + 2]
                    index += 1
                elif char == quote:
                    quote = ""
                index += 1
                continue
            if pair == "//":
                break
            if pair == "/*":
                in_block_comment = True
                index += 2
                continue
            if not current.strip():
                start = number
            if char in "\"'`":
                quote = char
                current += char
            elif char in "([":
                parens += 1
                current += char
            elif char in ")]":
                parens = max(parens - 1, 0)
                current += char
            elif char == "{":
                head = current.strip()
                test = _TEST_HEAD.match(head)
                if test:
                    tests += 1
                    frames.append(_Frame("test", head, start or number, number=tests))
                    current, parens, objects = "", 0, 0
                elif (
                    objects == 0
                    and (
                        (head.endswith((")", "=>")) and not head.endswith("({"))
                        or _KEYWORD_BLOCK.match(head)
                        or head in ("else", "try", "finally", "do")
                    )
                    and not _opens_object(head)
                ):
                    enclosing = next(f for f in reversed(frames) if f.kind in ("test", "top"))
                    if re.search(r"\breturn\b", head):
                        enclosing.returned_at = enclosing.returned_at or number
                    frames.append(_Frame("block", head or "{", start or number))
                    if head:
                        reason = "a condition, loop or function: what it holds is not translated"
                        if "sendRequest" in head:
                            reason = (
                                "pm.sendRequest is not supported: make the request its own step"
                            )
                        inside = [f for f in frames[:-1] if f.kind == "block"]
                        if not inside:
                            out.append(
                                _Statement(
                                    start or number,
                                    head,
                                    0,
                                    reason,
                                )
                            )
                    current, parens, objects = "", 0, 0
                else:
                    objects += 1
                    current += char
            elif char == "}":
                if objects:
                    objects -= 1
                    current += char
                else:
                    flush(number)
                    if len(frames) > 1:
                        frames.pop()
            elif char == ";" and parens == 0 and objects == 0:
                flush(number)
            else:
                current += char
            index += 1
        if not quote and parens == 0 and objects == 0:
            flush(number)
        elif quote in "\"'":
            quote = ""  # a plain string does not span lines
    flush(len(lines))
    return out


_TEST_HEAD = re.compile(
    r"""^pm\.test\(\s*(?:"[^"]*"|'[^']*'|`[^`]*`)\s*,\s*"""
    r"""(?:function\s*\(\s*\)|\(\s*\)\s*=>)$"""
)
_ARROW_TEST = re.compile(
    r"""^pm\.test\(\s*(?:"[^"]*"|'[^']*'|`[^`]*`)\s*,\s*\(\s*\)\s*=>\s*(?P<body>.+)\)$"""
)


def _opens_object(head: str) -> bool:
    """A `{` right after `=`, `(`, `,`, `:` or `return` starts an object literal."""
    return bool(re.search(r"(?:[=(,:\[]|\breturn)\s*$", head)) and not head.endswith("=>")


def _short(code: str) -> str:
    return code if len(code) <= 40 else code[:37] + "..."


def _translate(statement: str, aliases: set[str], out: Translation) -> None:
    if "sendRequest" in statement:
        raise _Untranslatable("pm.sendRequest is not supported: make the request its own step")
    if "setNextRequest" in statement:
        raise _Untranslatable("setNextRequest is not supported: journeys run steps in order")
    arrow = _ARROW_TEST.match(statement)
    if arrow:
        _translate(arrow.group("body").strip(), aliases, out)
        return
    setter = _SETTER.match(statement)
    if setter:
        out.outputs[setter.group("name")] = _output(setter.group("expr").strip(), aliases)
        return
    if statement.startswith("pm.response.to."):
        out.assertions.append(_response_assertion(statement[len("pm.response.to.") :]))
        return
    expect = _EXPECT.match(statement)
    if expect:
        out.assertions.extend(
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
                if (name or quoted) in _JS_PROPERTIES:
                    raise _Untranslatable(
                        f"'.{name or quoted}' is a JavaScript property (of an array, a string "
                        "or any object), not a JSON key; not translated"
                    )
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
        raise _Untranslatable(
            "Postman's json check has no exact equivalent; add a json_schema assertion"
        )
    raise _Untranslatable(_GENERIC)


def _chain(chain: str) -> tuple[str, list[Any], bool, str]:
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
            return "property", args, negated, name
        if name not in _OPERATORS or len(args) != 1:
            raise _Untranslatable(_GENERIC)
        operator, expected = _OPERATORS[name], args[0]
        if operator == "is_type" and expected not in _TYPES:
            raise _Untranslatable(f"type {expected!r} has no JSON equivalent")
        return operator, [expected], negated, name
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
    return operator, list(args), negated, word


def _expectation(subject: str, chain: str, aliases: set[str]) -> list[dict[str, Any]]:
    """Return the assertions that hold exactly when Chai's expectation holds, or raise.

    Reqflo's `equals` takes "3" for 3 and its `exists` takes null; Chai's `equal(3)` and
    `exist` do not. So a number gets an `is_type: number` beside it, `exist` becomes
    `not_equals: null`, and what has no exact pair (a negated equality, which passes in Chai on
    a missing value; `include` and `lengthOf`, whose meaning depends on the value's type) is
    reported instead.
    """
    operator, args, negated, word = _chain(chain)
    if negated:
        if operator not in _NEGATED:
            raise _Untranslatable(f"a negated '{operator}' has no exact equivalent")
        operator = _NEGATED[operator]
    path = _json_path(subject, aliases)
    if operator == "property":
        if path is None or not isinstance(args[0], str) or len(args) > 2:
            raise _Untranslatable(_GENERIC)
        if args[0] in _JS_PROPERTIES or args[0].isdigit():
            raise _Untranslatable(f"property '{args[0]}' is not only a JSON key in JavaScript")
        path += f"['{args[0]}']" if not re.fullmatch(r"[A-Za-z_]\w*", args[0]) else f".{args[0]}"
        operator, args = ("equals", [args[1]]) if len(args) == 2 else ("exists", [])
        word = "equal"
        if negated:
            operator = _NEGATED[operator]
    if path is not None:
        return _json_assertions(path, operator, args, word)
    if subject == "pm.response.code":
        exact = operator in ("equals", "not_equals", "greater_than", "less_than") and _number(args)
        exact = exact or (operator in ("in", "not_in") and _numbers(args))
        if not exact:
            raise _Untranslatable(f"'{operator}' with {args!r} has no exact status check")
        return [{"type": "status_code", "operator": operator, **_expected(args)}]
    if subject == "pm.response.responseTime":
        if not operator.startswith(("greater", "less")) or not _number(args):
            raise _Untranslatable(f"'{operator}' does not apply to the response time")
        return [{"type": "response_time", "operator": operator, **_expected(args)}]
    if subject in ("pm.response.text()", "responseBody"):
        if operator == "contains" and isinstance(args[0], str):
            return [{"type": "body_contains", **_expected(args)}]
        if operator == "equals" and isinstance(args[0], str):
            return [{"type": "body_equals", **_expected(args)}]
        raise _Untranslatable(f"'{operator}' on the body text has no exact equivalent")
    header = _HEADER_GET.match(subject)
    if header:
        texts = operator in ("equals", "contains", "not_contains", "matches")
        if not (operator in ("exists", "not_exists") or (texts and isinstance(args[0], str))):
            raise _Untranslatable(
                f"'{operator}' on a header has no exact equivalent (a header is text or absent)"
            )
        return [{"type": "header", "name": header["name"], "operator": operator, **_expected(args)}]
    raise _Untranslatable(_GENERIC)


def _json_assertions(path: str, operator: str, args: list[Any], word: str) -> list[dict[str, Any]]:
    def check(op: str, extra: list[Any]) -> dict[str, Any]:
        return {"type": "json_path", "path": path, "operator": op, **_expected(extra)}

    typed = [check("is_type", ["number"])]
    if operator == "equals":
        value = args[0]
        if isinstance(value, dict | list):
            if word in ("equal", "equals", "eq"):
                raise _Untranslatable("Chai's equal compares an object by identity: use eql")
            if _has_number(value):
                raise _Untranslatable(
                    'deep equality with a number inside: Reqflo\'s equals also takes "3" for 3'
                )
            return [check("equals", args)]
        return [*typed, check("equals", args)] if _number(args) else [check("equals", args)]
    if operator == "exists":
        return [check("not_equals", [None])]  # Chai's exist: neither undefined nor null
    if operator == "not_exists" and word == "undefined":
        if path.count(".") + path.count("[") > 1:
            raise _Untranslatable(
                "undefined below the first level: JavaScript fails on a missing parent, "
                "Reqflo's not_exists passes"
            )
        return [check("not_exists", [])]
    if operator == "is_empty":
        return [check("not_equals", [None]), check("is_empty", [])]
    if operator in ("not_empty", "is_type"):
        return [check(operator, args)]
    if operator == "in" and isinstance(args[0], list):
        if all(isinstance(v, str | bool) or v is None for v in args[0]):
            return [check("in", args)]
        if _numbers(args):
            return [*typed, check("in", args)]
    if operator in ("greater_than", "less_than", "greater_or_equal", "less_or_equal") and _number(
        args
    ):
        return [*typed, check(operator, args)]
    if operator == "matches" and not re.search(r"\(\?<[^=!]|\\[kpPu]\{?", str(args[0])):
        return [check("is_type", ["string"]), check("matches", args)]
    raise _Untranslatable(
        f"'{word}' here has no exact Reqflo equivalent: its meaning depends on the value's type "
        "or on a missing value"
    )


def _number(args: list[Any]) -> bool:
    return len(args) == 1 and isinstance(args[0], int | float) and not isinstance(args[0], bool)


def _numbers(args: list[Any]) -> bool:
    return (
        len(args) == 1
        and isinstance(args[0], list)
        and bool(args[0])
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in args[0])
    )


def _has_number(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_number(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_number(item) for item in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


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
