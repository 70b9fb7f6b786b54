"""Load a journey document (YAML or JSON) into a validated, normalised Definition."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from reqflo.engine import numbers, yaml_core
from reqflo.engine.depth import check_data, check_json_text, check_yaml_text
from reqflo.engine.errors import DefinitionError, Issue, suggest
from reqflo.engine.journey_schema import JOURNEY
from reqflo.engine.schema import Field, ListOf, Node, Obj, Walk, join, type_name
from reqflo.engine.step_checks import PreparedSteps, StepChecks
from reqflo.engine.values import Ref, Template
from reqflo.engine.yaml_module import yaml

MAX_DOCUMENT_CHARS = 2_000_000
MAX_DOCUMENT_VALUES = 200_000


@dataclass(frozen=True, slots=True)
class InputDecl:
    name: str
    required: bool
    default: Any
    has_default: bool
    type: str | None
    secret: bool
    description: str


@dataclass(frozen=True, slots=True)
class StepDecl:
    index: int
    id: str
    name: str
    always: bool
    assertion_count: int
    output_names: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RefSite:
    """Where a reference occurs: `path` in the document, and the step or variable owning it."""

    path: str
    ref: Ref
    step_index: int | None
    variable: str | None


@dataclass(frozen=True)
class Definition:
    """A valid journey: `document` is the normalised `journey` mapping (defaults filled in)."""

    name: str
    slug: str
    description: str
    tags: tuple[str, ...]
    idempotency_key: bool
    inputs: tuple[InputDecl, ...]
    variables: dict[str, Any]
    steps: tuple[StepDecl, ...]
    references: tuple[RefSite, ...]
    document: dict[str, Any]
    source: str = "<string>"

    def step(self, step_id: str) -> StepDecl | None:
        """Return the (first) step of that id: one lookup, as the Run check makes one per
        reference (a journey whose every step uses the one before it made that quadratic)."""
        return self._steps_by_id.get(step_id)

    @cached_property
    def _steps_by_id(self) -> dict[str, StepDecl]:
        by_id: dict[str, StepDecl] = {}
        for step in self.steps:
            by_id.setdefault(step.id, step)
        return by_id

    def input(self, name: str) -> InputDecl | None:
        return next((i for i in self.inputs if i.name == name), None)

    def secret_names(self) -> frozenset[str]:
        """Return the names of the secrets the journey references (``{{ secrets.NAME }}``)."""
        return frozenset(site.ref.name for site in self.references if site.ref.kind == "secret")


def parse_document(text: str, *, max_chars: int = MAX_DOCUMENT_CHARS) -> Any:
    """Parse YAML or JSON text; raise DefinitionError naming the line and column of bad syntax.

    `max_chars` is larger for imported sources (an OpenAPI document) than for a journey.
    """
    if len(text) > max_chars:
        raise DefinitionError(
            [Issue("error", "too_large", "", f"document is larger than {max_chars} characters")]
        )
    if text.lstrip().startswith("{"):
        check_json_text(text)
        try:
            return numbers.loads(text)  # decimals with every digit (Decimal where float rounds)
        except json.JSONDecodeError as exc:
            message = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            raise DefinitionError([Issue("error", "json_syntax", "", message)]) from None
    try:
        check_yaml_text(text)
        return yaml_core.load(text)  # YAML 1.2 core types, exact numbers
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = exc.problem or exc.context or "invalid YAML"
        raise DefinitionError(
            [Issue("error", "yaml_syntax", "", f"invalid YAML{where}: {reason}")]
        ) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([Issue("error", "yaml_syntax", "", f"invalid YAML: {exc}")]) from None


def expanded_size_exceeds(data: Any, limit: int) -> bool:
    """Count values as a reader of the document sees them, aliases expanded; stop at limit.

    YAML aliases share one object, so a ten-line "billion laughs" document loads quickly but
    would make every later walk over it (validation, compiling) explode.
    """
    count = 0
    stack = [data]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "journey"


def read_document(text: str) -> Any:
    """Parse YAML or JSON text into plain data, with the limits ``load_definition`` applies.

    For a caller that keeps the parsed document (the author's key order) as well as the
    definition: ``definition_from_data(read_document(text))`` parses the text once.
    """
    data = parse_document(text)
    if expanded_size_exceeds(data, MAX_DOCUMENT_VALUES):
        message = f"the document expands to more than {MAX_DOCUMENT_VALUES} values (YAML aliases?)"
        raise DefinitionError([Issue("error", "too_large", "", message)])
    return data


def load_definition(text: str, *, source: str = "<string>") -> Definition:
    """Parse, validate and normalise a journey document, reporting every problem at once."""
    return definition_from_data(read_document(text), source=source)


def definition_from_data(
    data: Any, *, source: str = "<string>", step_checks: StepChecks | None = None
) -> Definition:
    """Validate already-parsed document data (the editor and import use this).

    With ``step_checks`` each step's schema check is taken from (and kept in) that memory when
    the same step content was checked before; the issues are the same either way. The returned
    definition then shares its steps' nested values with the memory: read it, don't change it.
    """
    prepared = None
    if step_checks is None:
        check_data(data)
        journey = JOURNEY
    else:
        prepared = step_checks.prepare(data)  # the depth check too
        journey = _journey_with(step_checks if prepared is None else prepared)
    walk = Walk()
    if not isinstance(data, dict):
        walk.error(
            "",
            "wrong_type",
            f"the document must be a mapping with a 'journey' key, got {type_name(data)}",
        )
        raise DefinitionError(walk.issues)
    for key in data:
        if key != "journey":
            walk.error(
                str(key),
                "unknown_key",
                f"unknown top-level key '{key}'{suggest(str(key), ['journey'])}",
            )
    if "journey" not in data:
        hint = " (put name, inputs and steps under it)" if "steps" in data else ""
        walk.error("journey", "missing_key", f"'journey' is required{hint}")
        raise DefinitionError(walk.issues)
    doc: dict[str, Any] = journey.check(data["journey"], "", walk)
    _check_unique(doc, walk)
    if walk.issues:
        raise DefinitionError(walk.issues)
    return _build(doc, walk, source, prepared)


def _journey_with(step: Node) -> Obj:
    """Return the journey schema whose steps are checked by ``step``."""
    steps = Field(ListOf(step, non_empty=True), required=True)
    return Obj({**JOURNEY.fields, "steps": steps}, what=JOURNEY.what)


def _check_unique(doc: dict[str, Any], walk: Walk) -> None:
    for collection, key in (("inputs", "name"), ("variables", "name"), ("steps", "id")):
        seen: dict[Any, int] = {}
        for index, item in enumerate(doc.get(collection, [])):
            value = item.get(key)
            if value is None:
                continue
            if value in seen:
                walk.error(
                    join(join(collection, index), key),
                    "duplicate",
                    f"'{value}' is already used by {collection}[{seen[value]}]",
                )
            else:
                seen[value] = index


_STEP_PATH = re.compile(r"steps\[(\d+)\]")
_VARIABLE_PATH = re.compile(r"variables\[(\d+)\]")


def _step_decl(index: int, step: dict[str, Any]) -> StepDecl:
    return StepDecl(
        index=index,
        id=step["id"],
        name=step.get("name", step["id"]),
        always=step["always"],
        assertion_count=len(step["assertions"]),
        output_names=tuple(step["outputs"]),
        tags=tuple(step["tags"]),
    )


def _step_parts(
    index: int, step: dict[str, Any], templates: tuple[tuple[str, Template], ...]
) -> tuple[StepDecl, tuple[RefSite, ...]]:
    """Return a normalised step's declaration and references where it stands at ``index``;
    ``templates`` have paths after the step's own."""
    path = f"steps[{index}]"
    refs = tuple(
        RefSite(path + tail, ref, index, None)
        for tail, template in templates
        for ref in template.refs
    )
    return _step_decl(index, step), refs


def _build(
    doc: dict[str, Any], walk: Walk, source: str, prepared: PreparedSteps | None = None
) -> Definition:
    """Return the definition of a checked journey ``doc``; ``prepared`` are its steps as
    remembered (their references are not in ``walk``, they come from there)."""
    doc["slug"] = doc.get("slug") or slugify(doc["name"])
    inputs = tuple(
        InputDecl(
            name=item["name"],
            required=item.get("required", "default" not in item),
            default=item.get("default"),
            has_default="default" in item,
            type=item.get("type"),
            secret=item["secret"],
            description=item.get("description", ""),
        )
        for item in doc["inputs"]
    )
    for step in doc["steps"]:
        step.setdefault("name", step["id"])
    step_refs: list[RefSite] = []
    if prepared is None:
        steps = [_step_decl(index, step) for index, step in enumerate(doc["steps"])]
    else:
        parts = prepared.built(_step_parts)
        steps = [decl for decl, _ in parts]
        step_refs = [site for _, sites in parts for site in sites]
    references: list[RefSite] = []
    for path, template in walk.templates:
        # Most paths are a step's: the patterns are tried only where they may match.
        step_match = _STEP_PATH.match(path) if path.startswith("steps[") else None
        var_match = _VARIABLE_PATH.match(path) if path.startswith("variables[") else None
        variable = doc["variables"][int(var_match.group(1))]["name"] if var_match else None
        step_index = int(step_match.group(1)) if step_match else None
        references.extend(RefSite(path, ref, step_index, variable) for ref in template.refs)
    references += step_refs  # steps come last in the journey (``JOURNEY``), as in the walk
    return Definition(
        name=doc["name"],
        slug=doc["slug"],
        description=doc["description"],
        tags=tuple(doc["tags"]),
        idempotency_key=doc["idempotency_key"],
        inputs=inputs,
        variables={v["name"]: v["value"] for v in doc["variables"]},
        steps=tuple(steps),
        references=tuple(references),
        document=doc,
        source=source,
    )
