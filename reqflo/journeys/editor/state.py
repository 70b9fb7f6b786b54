"""The editor's form state: what the user typed, as strings and checkboxes, plus the choices.

``EditorState`` holds exactly what the user typed, so a page that fails validation re-renders
their input untouched. Scalar values are read and written the way YAML would read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from reqflo.engine import DefinitionError, Issue, numbers, vocabulary, yaml_core
from reqflo.engine.depth import check_yaml_text
from reqflo.engine.values import ReferenceSyntaxError, parse_template

# Re-exported for the editor: the engine's own tables, so a new assertion type, operator or
# output source is one edit in the engine; the editor adds only the words the form shows.
METHODS = vocabulary.METHODS
OPERATORS = vocabulary.OPERATORS
# Assertion types that take an operator (the others would reject one as an unknown key).
OPERATOR_TYPES = vocabulary.OPERATOR_ASSERTION_TYPES

_ASSERTION_LABELS = {
    "status_code": "Status code",
    "json_path": "JSON value",
    "header": "Header",
    "body_contains": "Body contains",
    "body_equals": "Body equals",
    "response_time": "Time (ms)",
    "json_schema": "JSON schema",
}
_OUTPUT_LABELS = {
    "body": "Body (JSONPath)",
    "header": "Header",
    "status": "Status code",
    "cookie": "Cookie",
}


def _label(name: str, labels: dict[str, str]) -> str:
    return labels.get(name) or name.replace("_", " ").capitalize()


# (value, label) pairs: the form shows words, the document keeps the engine's names.
ASSERTION_TYPES = tuple(
    (name, _label(name, _ASSERTION_LABELS)) for name in vocabulary.ASSERTION_TYPES
)
# The operator list as the form shows it; the blank choice lets the engine pick its default.
OPERATOR_CHOICES = tuple((name, name.replace("_", " ")) for name in OPERATORS)
OUTPUT_SOURCES = tuple((name, _label(name, _OUTPUT_LABELS)) for name in vocabulary.OUTPUT_SOURCES)
BODY_KINDS = (
    ("none", "No body"),
    ("json", "JSON"),
    ("form", "Form fields"),
    ("body", "Raw text"),
)

STEP_KEYS = {"id", "name", "request", "timeout_ms", "retries", "always", "assertions", "outputs"}
REQUEST_KEYS = {"method", "url", "headers", "query", "json", "form", "body"}
JOURNEY_KEYS = {"name", "description", "tags", "inputs", "variables", "steps"}
INPUT_KEYS = {"name", "default", "required", "description"}

# Decimal integers the journey's YAML reads as plain ints: not "012", "+12" or "-0" (numbers it
# keeps as written, ``engine.numbers.Literal``), nor "1_000" or "0x1F".
_PLAIN_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,17}")
# Characters YAML reads as line breaks (besides CR and LF, which a one-line field cannot hold).
_YAML_LINE_BREAKS = frozenset("\x85\u2028\u2029")


# --- Scalar values as text ---------------------------------------------------------------------


def text_to_value(text: str) -> Any:
    """Read a typed value the way YAML would (``200`` a number, ``[200, 201]`` a list).

    Text holding a ``{{ reference }}`` stays a string: YAML would read the braces as a mapping.
    Anything YAML cannot read is kept as the string the user typed.
    """
    stripped = text.strip()
    if "{{" in stripped or stripped == "" or _YAML_LINE_BREAKS.intersection(stripped):
        return stripped  # YAML would fold a NEL or line separator in a one-line value to a space
    if _PLAIN_INTEGER.fullmatch(stripped):
        return int(stripped)  # what YAML reads too, without a parser per status code
    try:
        check_yaml_text(stripped)  # "[[[[…" thousands deep would exhaust the recursion limit
        value = yaml_core.load(stripped)  # as the journey's YAML reads it (`on` is text)
    except (yaml.YAMLError, DefinitionError):
        return stripped
    if isinstance(value, dict | list | str | int | float | Decimal | bool) or value is None:
        return value
    return stripped  # dates and other YAML types: keep the text


def value_to_text(value: Any) -> str:
    """Write a value so that ``text_to_value`` reads it back unchanged."""
    if isinstance(value, str) and text_to_value(value) == value:
        return value
    return numbers.dumps(value, ensure_ascii=False)


def pairs_to_text(mapping: Mapping[str, Any], separator: str) -> str:
    return "\n".join(f"{key}{separator}{value_to_text(value)}" for key, value in mapping.items())


def pair_rows(mapping: Mapping[str, Any]) -> list[PairRow]:
    """Return a mapping's items as rows (``{"Accept": "text/plain"}`` → one row)."""
    return [PairRow(str(key), value_to_text(value)) for key, value in mapping.items()]


def rows_to_pairs(rows: list[PairRow], path: str, issues: list[Issue], what: str) -> dict[str, Any]:
    """Return the mapping the rows describe; a row with a value but no name, or a name given
    twice, is an issue at ``path``. Rows left empty (a new row, nothing typed) are skipped.

    A nameless row's value never reaches the document, so the engine never reads it: a broken
    reference in it (a half-typed ``{{``) is an issue here, at ``path[J].value``.
    """
    pairs: dict[str, Any] = {}
    for number, row in enumerate(rows, start=1):
        name = row.name.strip()
        if not name:
            if row.value.strip():
                message = f"row {number} of the {what} has a value but no name"
                # The row's own index: the form marks that row's name field, not the first.
                issues.append(Issue("error", "missing_name", f"{path}[{number - 1}]", message))
                issues.extend(_reference_issues(row.value, f"{path}[{number - 1}].value"))
            continue
        if name in pairs:
            message = f"'{name}' is in the {what} twice (row {number})"
            issues.append(Issue("error", "duplicate", f"{path}.{name}", message))
        pairs[name] = text_to_value(row.value)
    return pairs


def _reference_issues(text: str, path: str) -> list[Issue]:
    """Return the engine's issue with the references in ``text`` (none when they parse)."""
    try:
        parse_template(text)
    except ReferenceSyntaxError as error:
        return [Issue("error", "invalid_reference", path, str(error))]
    return []


def text_to_pairs(
    text: str, separator: str, path: str, issues: list[Issue], what: str
) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, found, value = line.partition(separator)
        if not found or not key.strip():
            issues.append(
                Issue(
                    "error",
                    "invalid_line",
                    path,
                    f"line {number} of the {what} should read 'name{separator}value'",
                )
            )
            continue
        pairs[key.strip()] = text_to_value(value)
    return pairs


# --- State ---------------------------------------------------------------------------------------


@dataclass
class AssertionRow:
    type: str = "status_code"
    operator: str = ""
    target: str = ""
    expected: str = ""
    soft: bool = False


@dataclass
class OutputRow:
    name: str = ""
    source: str = "body"
    path: str = ""
    secret: bool = False


@dataclass
class PairRow:
    """One header or query parameter: a name and a value as typed (read like YAML)."""

    name: str = ""
    value: str = ""


@dataclass
class StepForm:
    id: str = ""
    name: str = ""
    method: str = "GET"
    url: str = ""
    headers: list[PairRow] = field(default_factory=list)
    query: list[PairRow] = field(default_factory=list)
    body_kind: str = "none"
    body: str = ""
    timeout_ms: str = ""
    retries_count: str = ""
    retries_delay_ms: str = ""
    always: bool = False
    assertions: list[AssertionRow] = field(default_factory=list)
    outputs: list[OutputRow] = field(default_factory=list)
    extra: str = ""  # JSON of the step keys the form has no field for
    # The ids the step's sends ran under, space-separated, newest first: its id in the saved
    # version the page opened, then the ids it had before (``JourneyVersion.step_aliases``);
    # "" for a step added or duplicated since. Its last-send mark follows it through renames,
    # on screen and across saves (issue 15).
    sent_ids: str = ""
    # The packed text this step was read from (``editor.packing``), or "": a hint only, used
    # once the step is found still equal to what that text reads as (a step may be changed).
    packed: str = field(default="", compare=False, repr=False)


@dataclass
class InputRow:
    name: str = ""
    default: str = ""
    required: bool = False
    description: str = ""
    extra: str = ""


@dataclass
class VariableRow:
    name: str = ""
    value: str = ""


@dataclass
class EditorState:
    name: str = ""
    description: str = ""
    tags: str = ""
    extra: str = ""
    inputs: list[InputRow] = field(default_factory=list)
    variables: list[VariableRow] = field(default_factory=list)
    steps: list[StepForm] = field(default_factory=list)


# A step keeps at most this many earlier ids (a posted field is bounded like any other).
MAX_SENT_IDS = 8


def sent_id_list(text: str) -> list[str]:
    """Return the ids of a ``sent_ids`` field (``"b a"`` → ``["b", "a"]``), at most eight."""
    return text.split()[:MAX_SENT_IDS]


def step_aliases(steps: list[StepForm], statuses: Mapping[str, str]) -> dict[str, list[str]]:
    """Return {step id: its earlier ids, newest first} for the steps that had other ids (what a
    save stores in ``JourneyVersion.step_aliases``).

    Only earlier ids a finished Send ran under (keys of ``statuses``) are kept: the others
    could never give a mark, and leaving them out keeps a step renamed many times short.
    """
    aliases: dict[str, list[str]] = {}
    for step in steps:
        earlier = [
            i for i in dict.fromkeys(sent_id_list(step.sent_ids)) if i != step.id and i in statuses
        ]
        if step.id and earlier:
            aliases[step.id] = earlier[: MAX_SENT_IDS - 1]
    return aliases


def last_send(step: StepForm, statuses: Mapping[str, str]) -> str:
    """Return the step's status in the last Send that ran it, under any of its ids, or "".

    Its current id first (a send since a rename ran under it), then the ids it had before.
    A duplicated or added step has no earlier ids: it shows only what ran under its own id.
    """
    if not statuses:
        return ""  # nothing sent yet (most journeys): no ids to split, for every step
    for step_id in (step.id, *sent_id_list(step.sent_ids)):
        status = statuses.get(step_id)
        if status:
            return status
    return ""


def extra_json(mapping: Mapping[str, Any], known: set[str]) -> str:
    rest = {key: value for key, value in mapping.items() if key not in known}
    return numbers.dumps(rest, ensure_ascii=False) if rest else ""
