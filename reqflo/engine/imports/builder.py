"""Assemble one journey document and prove it with the engine's own parser and Run check.

Converters add steps with the source location each came from. `build` validates the whole
document with `definition_from_data` and the context-free Run check; a step the engine refuses
is left out and reported with the engine's message, so an import never produces a document
that `reqflo run` or the editor would reject.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from reqflo.engine.check import run_check
from reqflo.engine.definition import definition_from_data, slugify
from reqflo.engine.errors import DefinitionError, Issue
from reqflo.engine.imports.report import ImportedJourney, ImportResult
from reqflo.engine.imports.source import step_id

_STEP_INDEX = re.compile(r"^steps\[(\d+)\]")
_VARIABLE_INDEX = re.compile(r"^variables\[(\d+)\]")
_BLOCKING_CHECKS = ("unknown_reference", "later_step", "variable_cycle")


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
        """Validate, leave out what the engine refuses (reported), and return the journey."""
        slug = _unique(slugify(self.name), taken_slugs)
        while self.steps:
            document = self._document(slug)
            issues = _problems(document)
            if not issues:
                taken_slugs.add(slug)
                self._prune_unused(document)
                return ImportedJourney(document=document, source=self.source)
            refused = self._refuse(issues, result)
            if not refused:
                for issue in issues:
                    result.add(self.source, f"journey '{self.name}' not created: {issue}")
                return None
        result.add(self.source, f"journey '{self.name}' not created: none of its requests mapped")
        return None

    def _refuse(self, issues: list[Issue], result: ImportResult) -> bool:
        """Drop every step an issue points at; return False when an issue names no step."""
        by_step: dict[int, list[Issue]] = {}
        names = list(self.variables)
        for issue in issues:
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


def _unique(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{number}"
        number += 1
    return candidate
