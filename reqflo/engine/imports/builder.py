"""Assemble one journey document and prove it with the engine's own parser and Run check.

Converters add steps with the source location each came from. `build` validates the whole
document with `definition_from_data` and the context-free Run check; a step the engine refuses
is left out and reported with the engine's message, so an import never produces a document
that `reqflo run` or the editor would reject.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reqflo.engine import yaml_core
from reqflo.engine.check import run_check
from reqflo.engine.definition import (
    MAX_DOCUMENT_CHARS,
    MAX_DOCUMENT_VALUES,
    definition_from_data,
    expanded_size_exceeds,
    read_document,
    slugify,
)
from reqflo.engine.errors import DefinitionError, Issue
from reqflo.engine.imports.credentials import Sealer, spans
from reqflo.engine.imports.report import ImportedJourney, ImportResult
from reqflo.engine.imports.source import looks_like_credential, step_id
from reqflo.engine.yaml_module import yaml

_STEP_INDEX = re.compile(r"^steps\[(\d+)\]")
_VARIABLE_INDEX = re.compile(r"^variables\[(\d+)\]")
_ASSERTION_INDEX = re.compile(r"^steps\[(\d+)\]\.assertions\[(\d+)\]")
# Run check errors an import must not leave behind: `reqflo run` would refuse the journey.
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_BLOCKING_CHECKS = ("unknown_reference", "later_step", "variable_cycle", "schema_reference")
# The journey's columns (reqflo/journeys/models.py: Journey.name max_length=200, slug 100): an
# imported name or slug longer than that is cut at import (reported), never refused by the
# database. The slug is cut shorter so a `-2` … `-99999` for a taken one still fits; it is also
# the journey file's name, far below any file system's 255 bytes.
MAX_NAME_CHARS = 200
MAX_SLUG_CHARS = 100
_SLUG_ROOM = 6
# `reqflo.yaml` is the CLI's configuration file: a journey never takes that file name.
RESERVED_SLUGS = frozenset({"reqflo"})


def _yaml_size_bound(document: Any) -> int:
    """Return an upper bound of the document's size as a journey file: its JSON text twice
    (quoting), plus for each value a line of indentation (2 a level) and punctuation, plus the
    lines YAML folds long strings into."""
    values, depth = 0, 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, level = stack.pop()
        values += 1
        depth = max(depth, level)
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
    size = len(json.dumps(document, ensure_ascii=False, default=str))
    return 2 * size + values * (2 * depth + 8) + size // 50 * (2 * depth + 4)


class _NoAliasDumper(yaml_core.Dumper):
    """Write every value out: an alias (`*id001`) would make a journey file that a reader
    expands past the journey limits (a YAML alias bomb carried over from the source). Text is
    quoted where the journey loader (YAML 1.2 core) would read another type."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def journey_text(document: Any) -> str:
    """Return a journey document as the YAML a journey file holds (no aliases)."""
    return yaml.dump(
        document, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100
    )


def limit_problem(document: dict[str, Any]) -> str | None:
    """Return why `document` breaks a journey file's limits (size, values, nesting, the rules
    `read_document` applies to every journey `reqflo run` or the editor reads), or None."""
    if expanded_size_exceeds(document, MAX_DOCUMENT_VALUES):
        return f"it holds more than {MAX_DOCUMENT_VALUES} values"
    if _yaml_size_bound(document) <= MAX_DOCUMENT_CHARS:
        return None  # far from the limit: no need to write it out
    text = journey_text(document)
    if len(text) > MAX_DOCUMENT_CHARS:
        return f"it is {len(text)} characters as a journey file"
    try:
        read_document(text)
    except DefinitionError as exc:
        return exc.issues[0].message
    return None


@dataclass
class _Step:
    step: dict[str, Any]
    location: str


@dataclass
class JourneyBuilder:
    """Collect the parts of one journey; inputs and variables are added only when used."""

    name: str
    source: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    steps: list[_Step] = field(default_factory=list)

    def step_id(self, raw: str) -> str:
        """Return a step id made from `raw`, unique in this journey."""
        base = step_id(raw)
        taken = {step.step["id"] for step in self.steps}
        candidate, number = base, 2
        while candidate in taken:
            candidate = f"{base}-{number}"
            number += 1
        return candidate

    def add_input(self, name: str, *, default: Any = None, description: str = "") -> None:
        if name in self.inputs:
            return
        declaration: dict[str, Any] = {"name": name}
        if default is not None:
            declaration["default"] = default
        else:
            declaration["required"] = True
        if description:
            declaration["description"] = description
        self.inputs[name] = declaration

    def add_step(self, step: dict[str, Any], *, location: str) -> None:
        self.steps.append(_Step(step, location))

    def build(self, result: ImportResult, *, taken_slugs: set[str]) -> ImportedJourney | None:
        """Seal credentials, validate, leave out what the engine refuses or what breaks a
        journey file's limits (reported), and return the journey."""
        self._cut_name(result)
        base = cut_slug(slugify(self.name))
        slug = _unique(base, taken_slugs | RESERVED_SLUGS)
        if base != slugify(self.name):
            result.add(
                self.source,
                f"journey '{self.name}' got the slug '{base}': a slug holds at most "
                f"{MAX_SLUG_CHARS - _SLUG_ROOM} characters at import",
                "changed",
            )
        if slug != slugify(self.name) and slugify(self.name) in RESERVED_SLUGS:
            result.add(
                self.source,
                f"journey '{self.name}' got slug '{slug}': '{slugify(self.name)}.yaml' is the "
                "CLI's configuration file",
                "changed",
            )
        self._seal(result)
        self._drop_oversized(result)
        while self.steps:
            document = self._document(slug)
            issues = _problems(document)
            if not issues:
                self._prune_unused(document)
                problem = limit_problem(document)
                if problem is not None:
                    result.add(
                        self.source,
                        f"journey '{self.name}' not created: {problem}; a journey file holds at "
                        f"most {MAX_DOCUMENT_CHARS} characters and {MAX_DOCUMENT_VALUES} values "
                        "(import fewer requests or operations into it)",
                    )
                    return None
                taken_slugs.add(slug)
                return ImportedJourney(document=document, source=self.source)
            refused = self._refuse(issues, result)
            if not refused:
                for issue in issues:
                    result.add(self.source, f"journey '{self.name}' not created: {issue}")
                return None
        result.add(self.source, f"journey '{self.name}' not created: none of its requests mapped")
        return None

    def _cut_name(self, result: ImportResult) -> None:
        """Cut a name longer than a journey's name column to MAX_NAME_CHARS (reported)."""
        if len(self.name) <= MAX_NAME_CHARS:
            return
        cut = self.name[: MAX_NAME_CHARS - 1].rstrip() + "…"
        result.add(
            self.source,
            f"the journey's name was {len(self.name)} characters; cut to {MAX_NAME_CHARS}: '{cut}'",
            "changed",
        )
        self.name = cut

    def _seal(self, result: ImportResult) -> None:
        """Turn every credential-shaped value into a secret reference (`credentials.py`), and
        every input with a credential's name into one (docs/imports.md, Variables rule 3)."""
        self._secret_inputs(result)
        sealer = Sealer(result)
        for step in self.steps:
            sealer.seal_step(step.step, step.location)
        for name, value in self.variables.items():
            if isinstance(value, str):
                where = f"{self.source} › variable {name}"
                self.variables[name] = sealer.template(value, name, where)
        for name, declaration in self.inputs.items():
            default = declaration.get("default")
            if isinstance(default, str) and spans(default):
                result.masked.add(default)
                del declaration["default"]
                declaration["required"] = True
                result.add(
                    f"{self.source} › input {name}",
                    "its default looks like a credential and was left out; the input is required",
                    "changed",
                )

    def _secret_inputs(self, result: ImportResult) -> None:
        """Make `{{ inputs.NAME }}` `{{ secrets.NAME }}` wherever NAME looks like a credential
        (`token`, `apiKey`, `sessionToken` …): a credential typed in as an input would be
        stored with the run; every converter's inputs pass through here."""
        names = [name for name in self.inputs if looks_like_credential(name)]
        if not names:
            return
        pattern = re.compile(
            r"(?<![\w.$])inputs\.(" + "|".join(map(re.escape, names)) + r")(?![\w-])"
        )

        def in_templates(text: str) -> str:
            return _TEMPLATE.sub(lambda m: pattern.sub(r"secrets.\1", m.group()), text)

        for step in self.steps:
            step.step = map_strings(step.step, in_templates)
        self.variables = map_strings(self.variables, in_templates)
        for name in names:
            declaration = self.inputs.pop(name)
            if "default" in declaration:
                result.masked.add(str(declaration["default"]))
            result.add_secret(
                name, location=self.source, reason=f"input '{name}' names a credential"
            )
            result.add(
                self.source,
                f"'{name}' looks like a credential: it became secret '{name}', not an input; "
                "store its value",
                "note",
            )

    def _drop_oversized(self, result: ImportResult) -> None:
        """Leave out a step that alone breaks a journey file's limits (reported)."""
        kept = []
        for step in self.steps:
            problem = None
            if expanded_size_exceeds(step.step, MAX_DOCUMENT_VALUES):
                problem = f"it holds more than {MAX_DOCUMENT_VALUES} values"
            elif len(json.dumps(step.step, default=str)) > MAX_DOCUMENT_CHARS:
                problem = f"it is more than {MAX_DOCUMENT_CHARS} characters"
            if problem is None:
                kept.append(step)
            else:
                result.add(
                    step.location,
                    f"left out: {problem}; a journey file holds at most {MAX_DOCUMENT_CHARS} "
                    f"characters and {MAX_DOCUMENT_VALUES} values",
                )
        self.steps = kept

    def _refuse(self, issues: list[Issue], result: ImportResult) -> bool:
        """Drop every step an issue points at; return False when an issue names no step."""
        by_step: dict[int, list[Issue]] = {}
        names = list(self.variables)
        assertions: dict[tuple[int, int], list[Issue]] = {}
        for issue in issues:
            assertion = _ASSERTION_INDEX.match(issue.path)
            if assertion and issue.code == "schema_reference":
                key = (int(assertion.group(1)), int(assertion.group(2)))
                assertions.setdefault(key, []).append(issue)
                continue
            variable = _VARIABLE_INDEX.match(issue.path)
            if variable:
                name = names[int(variable.group(1))]
                if self.variables.pop(name, None) is not None:
                    result.add(self.source, f"variable '{name}' left out: {issue.message}")
                continue
            match = _STEP_INDEX.match(issue.path)
            if not match:
                return False
            by_step.setdefault(int(match.group(1)), []).append(issue)
        for (index, number), found in sorted(assertions.items(), reverse=True):
            step = self.steps[index]
            step.step["assertions"].pop(number)
            if not step.step["assertions"]:
                del step.step["assertions"]
            reasons = "; ".join(issue.message for issue in found)
            result.add(
                step.location, f"json_schema assertion left out, a run refuses it: {reasons}"
            )
        for index in sorted(by_step, reverse=True):
            dropped = self.steps.pop(index)
            reasons = "; ".join(str(issue).split(": ", 1)[-1] for issue in by_step[index])
            result.add(dropped.location, f"left out, Reqflo refuses it: {reasons}")
        return True

    def _document(self, slug: str) -> dict[str, Any]:
        journey: dict[str, Any] = {"name": self.name, "slug": slug}
        if self.description:
            journey["description"] = self.description
        if self.tags:
            journey["tags"] = list(self.tags)
        if self.inputs:
            journey["inputs"] = list(self.inputs.values())
        if self.variables:
            journey["variables"] = [{"name": k, "value": v} for k, v in self.variables.items()]
        journey["steps"] = [copy.deepcopy(step.step) for step in self.steps]
        return {"journey": journey}

    def _prune_unused(self, document: dict[str, Any]) -> None:
        """Drop inputs and variables no remaining step uses (their steps were left out)."""
        definition = definition_from_data(copy.deepcopy(document))
        used = {(site.ref.kind, site.ref.name) for site in definition.references}
        journey = document["journey"]
        for key, kind in (("inputs", "input"), ("variables", "variable")):
            kept = [item for item in journey.get(key, []) if (kind, item["name"]) in used]
            if kept:
                journey[key] = kept
            else:
                journey.pop(key, None)


def _problems(document: dict[str, Any]) -> list[Issue]:
    try:
        definition = definition_from_data(copy.deepcopy(document))
    except DefinitionError as exc:
        return exc.issues
    return [
        issue
        for issue in run_check(definition)
        if issue.severity == "error" and issue.code in _BLOCKING_CHECKS
    ]


def map_strings(node: Any, change: Callable[[str], str]) -> Any:
    """Return `node` with `change` applied to every string value (keys are left alone)."""
    if isinstance(node, dict):
        return {key: map_strings(value, change) for key, value in node.items()}
    if isinstance(node, list):
        return [map_strings(item, change) for item in node]
    return change(node) if isinstance(node, str) else node


def cut_slug(slug: str) -> str:
    """Return `slug` cut so that it and a `-N` suffix fit MAX_SLUG_CHARS (no trailing `-`)."""
    if len(slug) <= MAX_SLUG_CHARS - _SLUG_ROOM:
        return slug
    return slug[: MAX_SLUG_CHARS - _SLUG_ROOM].rstrip("-") or "journey"


def _unique(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{number}"
        number += 1
    return candidate
