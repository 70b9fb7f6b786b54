"""Parse `{{ ns.a.b[0] }}` references and render templates, without ever evaluating code.

A reference is a namespace followed by keys and list indexes, nothing else: no calls, filters,
operators or attribute access. Names starting with two underscores are refused so a template can
never even look like Python internals.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from reqflo.engine import numbers
from reqflo.engine.errors import suggest
from reqflo.engine.redaction.cuts import cut_text

RefKind = Literal["input", "variable", "env", "secret", "step", "run", "generator"]

NAMESPACES: dict[str, RefKind] = {
    "inputs": "input",
    "variables": "variable",
    "env": "env",
    "secrets": "secret",
    "steps": "step",
    "run": "run",
}
GENERATOR_NAMESPACE = "$"
GENERATORS = ("uuid", "timestamp", "now", "random_int")
STEP_FIELDS = ("outputs", "status", "headers", "body")
RUN_FIELDS = ("id",)

_TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Member names after a dot: RFC 9535's shorthand (letters, digits, "_" and every character from
# U+0080 on, surrogates aside, so `body.data.名前` works as `$.data.名前` does), plus "-" and a
# leading digit, which step ids and existing journeys use (`body.invoice-address`).
# Written as "ASCII name character, or any non-ASCII one that is not a surrogate": the same set
# as the class [A-Za-z0-9_\u0080-\ud7ff\ue000-\U0010ffff], which costs ~10 ms to compile (a
# 64K-entry bitmap) at every `reqflo` start; this costs 0.3 ms.
# JSONPaths use the same characters (reqflo.engine.jsonpaths builds its lexer from NON_ASCII).
NON_ASCII = r"(?![\ud800-\udfff])[^\x00-\x7f]"
_NAME_RE = re.compile(rf"(?:[A-Za-z0-9_]|{NON_ASCII})(?:[A-Za-z0-9_-]|{NON_ASCII})*")
_INDEX_RE = re.compile(r"\[\s*(-?\d+)\s*\]")
# Bracketed names are RFC 9535 string literals: either quote, with backslash escapes.
_QUOTED_RE = re.compile(r"""\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\]""", re.DOTALL)
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\"}

Segment = str | int
MAX_ACTUAL_CHARS = 2000


class ReferenceSyntaxError(ValueError):
    """A `{{ ... }}` that is not a plain reference."""


class ResolutionError(LookupError):
    """A reference that names nothing at run time; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference such as `steps.login.outputs.token`."""

    namespace: str
    segments: tuple[Segment, ...]

    @property
    def kind(self) -> RefKind:
        if self.namespace == GENERATOR_NAMESPACE:
            return "generator"
        return NAMESPACES[self.namespace]

    @property
    def name(self) -> str:
        """Return the first name after the namespace (input, variable, secret or step id)."""
        return str(self.segments[0])

    @property
    def text(self) -> str:
        if self.namespace == GENERATOR_NAMESPACE:
            return f"${self.name}"
        out = self.namespace
        for seg in self.segments:
            out += f"[{seg}]" if isinstance(seg, int) else member_text(seg)
        return out

    def describe(self) -> dict[str, Any]:
        """Return the JSON classification the compiler stores for this reference."""
        data: dict[str, Any] = {"kind": self.kind, "ref": self.text}
        if self.kind == "step":
            data["step"] = self.name
            data["field"] = self.segments[1]
            if len(self.segments) > 2:
                data["path"] = list(self.segments[2:])
        elif self.kind in ("run", "generator"):
            data["field"] = self.name
        else:
            data["name"] = self.name
            if len(self.segments) > 1:
                data["path"] = list(self.segments[1:])
        return data


@dataclass(frozen=True, slots=True)
class Template:
    """A string split into literal text and references; `whole` is set for `"{{ ref }}"`."""

    source: str
    parts: tuple[str | Ref, ...]
    whole: Ref | None

    @property
    def refs(self) -> tuple[Ref, ...]:
        return tuple(p for p in self.parts if isinstance(p, Ref))


def parse_reference(expr: str) -> Ref:
    """Parse the inside of `{{ }}`; raise ReferenceSyntaxError with a human reason."""
    text = expr.strip()
    if not text:
        raise ReferenceSyntaxError("empty reference '{{ }}'")
    if "|" in text and "|" in _QUOTED_RE.sub("", text):  # a quoted name may hold a "|"
        raise ReferenceSyntaxError(f"'{text}': filters ('|') are not supported in references")
    if text.startswith(GENERATOR_NAMESPACE):
        generator = text[1:]
        if generator not in GENERATORS:
            known = ", ".join(f"${g}" for g in GENERATORS)
            raise ReferenceSyntaxError(
                f"'{text}' is not a generator; use one of {known}{suggest(generator, GENERATORS)}"
            )
        return Ref(GENERATOR_NAMESPACE, (generator,))
    match = _NAME_RE.match(text)
    if not match or match.group() not in NAMESPACES:
        allowed = ", ".join(NAMESPACES)
        raise ReferenceSyntaxError(
            f"'{text}' is not a reference; it must start with one of {allowed}"
        )
    namespace = match.group()
    pos = match.end()
    segments: list[Segment] = []
    while pos < len(text):
        char = text[pos]
        if char == "." and (name := _NAME_RE.match(text, pos + 1)):
            segments.append(_checked_name(name.group(), text))
            pos = name.end()
        elif char == "[" and (index := _INDEX_RE.match(text, pos)):
            segments.append(int(index.group(1)))
            pos = index.end()
        elif char == "[" and (quoted := _QUOTED_RE.match(text, pos)):
            double, single = quoted.group(1), quoted.group(2)
            key = _unescape(double if double is not None else single, text)
            segments.append(_checked_name(key, text))
            pos = quoted.end()
        else:
            raise ReferenceSyntaxError(_unexpected(text, pos))
    ref = Ref(namespace, tuple(segments))
    _check_shape(ref, text)
    return ref


@lru_cache(maxsize=4096)
def member_text(name: str) -> str:
    """Return `.name`, or `['name']` when the name needs the bracket form."""
    # A name ending in a space character (U+00A0 is one RFC 9535 allows) would be trimmed away
    # with the reference's surrounding spaces: brackets keep it.
    if _NAME_RE.fullmatch(name) and not name[-1].isspace():
        return f".{name}"
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"


def _unescape(body: str, text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u") and len(code) == 5:
            return chr(int(code[1:], 16))
        if code in ("'", '"'):
            return code
        if code in _ESCAPES:
            return _ESCAPES[code]
        raise ReferenceSyntaxError(f"'{text}': unknown escape '\\{code}' in a bracketed name")

    return _ESCAPE_RE.sub(one, body) if "\\" in body else body


def _unexpected(text: str, pos: int) -> str:
    """Explain what cannot be read at `pos`, suggesting the bracket form for a member name
    (`_bracket_hint`)."""
    message = (
        f"'{text}': unexpected '{text[pos:]}'; a reference is names joined by '.' "
        "and list indexes like [0], nothing else"
    )
    hint = _bracket_hint(text, pos)
    if hint is not None:
        name, suggestion = hint
        message += f"; for a member name like '{name}' use the bracket form {suggestion}"
    return message


def _bracket_hint(text: str, pos: int) -> tuple[str, str] | None:
    """Return (member name, the text with that name in the bracket form) for what cannot be
    read at `pos`, or None when no name can be told.

    - A bracket that opens a quoted name not written as an RFC 9535 string literal
      (`['it''s']`, `['it's']`): the name inside, a doubled quote read as one, written as
      `['it\\'s']`.
    - Otherwise a dotted name with characters a name cannot hold (`.it's`, `.a b`): that name
      in brackets.

    A suggestion is made only when its bracketed name reads back as the name (`member_text`),
    and never the text itself.
    """
    if text[pos] == "[":
        close = text.find("]", pos)
        while close != -1:
            inner = text[pos + 1 : close].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                quote = inner[0]
                name = inner[1:-1].replace(quote * 2, quote)
                if _reads_as(member_text(name), name):
                    return name, text[:pos] + member_text(name) + text[close + 1 :]
            close = text.find("]", close + 1)
        return None
    # The member name in trouble starts at this dot, or at the dot before a name that was read.
    start = pos if text[pos] == "." else text.rfind(".", 0, pos)
    if start == -1 or start + 1 >= len(text) or any(c in text[start:pos] for c in "[]"):
        return None
    end = start + 1
    while end < len(text) and text[end] not in ".[":
        end += 1
    name = text[start + 1 : end]
    if not name.strip() or not _reads_as(member_text(name), name):
        return None
    suggestion = text[:start] + member_text(name) + text[end:]
    return None if suggestion == text else (name, suggestion)


def _reads_as(segment: str, name: str) -> bool:
    """Return whether a member's text (`.name` or `['…']`) reads back as that one name."""
    try:
        return parse_reference(f"inputs{segment}").segments == (name,)
    except ReferenceSyntaxError:
        return False


def _checked_name(name: str, text: str) -> str:
    if name.startswith("__"):
        raise ReferenceSyntaxError(f"'{text}': names starting with '__' are not allowed")
    return name


def _check_shape(ref: Ref, text: str) -> None:
    segs = ref.segments
    if not segs or not isinstance(segs[0], str):
        raise ReferenceSyntaxError(f"'{text}': name what to use, e.g. '{ref.namespace}.NAME'")
    if ref.kind == "secret" and len(segs) != 1:
        raise ReferenceSyntaxError(f"'{text}': a secret reference is exactly 'secrets.NAME'")
    if ref.kind == "run" and (len(segs) != 1 or segs[0] not in RUN_FIELDS):
        raise ReferenceSyntaxError(f"'{text}': the run namespace offers only 'run.id'")
    if ref.kind == "step":
        field = str(segs[1]) if len(segs) > 1 else None
        if field not in STEP_FIELDS:
            raise ReferenceSyntaxError(
                f"'{text}': use steps.ID.outputs.NAME, steps.ID.status, "
                "steps.ID.headers.NAME or steps.ID.body.PATH"
            )
        if field == "status" and len(segs) != 2:
            raise ReferenceSyntaxError(f"'{text}': steps.ID.status has no further path")
        if field in ("outputs", "headers") and (len(segs) < 3 or not isinstance(segs[2], str)):
            raise ReferenceSyntaxError(
                f"'{text}': name the {field[:-1]}, e.g. steps.ID.{field}.NAME"
            )
        if field == "headers" and len(segs) != 3:
            raise ReferenceSyntaxError(f"'{text}': steps.ID.headers.NAME has no further path")


def parse_template(source: str) -> Template:
    """Split a string into literal text and references (raises ReferenceSyntaxError)."""
    if "{{" not in source:
        return Template(source, (source,), None)
    parts: list[str | Ref] = []
    pos = 0
    for match in _TEMPLATE_RE.finditer(source):
        if match.start() > pos:
            parts.append(source[pos : match.start()])
        parts.append(parse_reference(match.group(1)))
        pos = match.end()
    tail = source[pos:]
    if "{{" in tail:
        raise ReferenceSyntaxError(f"'{tail.strip()}': '{{{{' is never closed with '}}}}'")
    if tail:
        parts.append(tail)
    whole = parts[0] if len(parts) == 1 and isinstance(parts[0], Ref) else None
    return Template(source, tuple(parts), whole)


def walk_path(value: Any, path: tuple[Segment, ...], what: str) -> Any:
    """Follow keys and indexes into plain data; raise ResolutionError naming the missing part."""
    for seg in path:
        if isinstance(seg, int):
            if isinstance(value, list) and -len(value) <= seg < len(value):
                value = value[seg]
                continue
            raise ResolutionError(f"{what}: no item [{seg}]")
        if isinstance(value, Mapping) and seg in value:
            value = value[seg]
            continue
        raise ResolutionError(f"{what}: no key '{seg}'")
    return value


def to_text(value: Any) -> str:
    """Render a value inside a longer string: JSON for structures, `true`/`null` like JSON."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | dict | list):
        return numbers.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)  # an int, a float's shortest form, a Decimal with all its digits


def generate(name: str) -> Any:
    """Return a fresh value of a built-in generator (`$uuid`, `$timestamp`, `$now`...)."""
    # uuid and secrets are imported here: loading them costs every `reqflo` start ~5 ms.
    if name == "uuid":
        import uuid

        return str(uuid.uuid4())
    if name == "timestamp":
        return int(time.time())
    if name == "now":
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    import secrets

    return secrets.randbelow(1_000_000)


def _fits(value: Any, budget: int) -> int:
    """Return what is left of a size budget after value (negative: it does not fit)."""
    if isinstance(value, str):
        return budget - len(value) - 2
    if isinstance(value, dict):
        budget -= 2
        for key, item in value.items():
            budget = _fits(item, budget - len(key) - 4)
            if budget < 0:
                return budget
        return budget
    if isinstance(value, list):
        budget -= 2
        for item in value:
            budget = _fits(item, budget - 1)
            if budget < 0:
                return budget
        return budget
    return budget - 8


def cap_value(value: Any) -> Any:
    """Return value, or its JSON text cut to MAX_ACTUAL_CHARS when it is larger than that.

    Recorded expected/actual values must stay small: a JSONPath of `$` would otherwise copy a
    whole response body into every assertion result.
    """
    if isinstance(value, str):
        return value if len(value) <= MAX_ACTUAL_CHARS else cut_text(value, MAX_ACTUAL_CHARS) + "…"
    if isinstance(value, dict | list) and _fits(value, MAX_ACTUAL_CHARS) < 0:
        return cut_text(numbers.dumps(value, ensure_ascii=False), MAX_ACTUAL_CHARS) + "…"
    return value
