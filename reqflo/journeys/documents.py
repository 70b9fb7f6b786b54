"""Journey documents as the app stores them: parse, validate, fingerprint and render as YAML.

A *document* is the author's mapping ``{"journey": {...}}`` with their key order kept. The
engine validates it and normalises it (defaults filled in); the normalised form is what two
documents are compared by, so YAML written by hand and the same journey built in the form view
count as one definition.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from reqflo.engine import (
    Definition,
    DefinitionError,
    Issue,
    definition_from_data,
    numbers,
    read_document,
    yaml_core,
)
from reqflo.engine.step_checks import StepChecks

_Dumper = yaml_core.Dumper
_Loader = yaml_core.Loader


@dataclass(frozen=True)
class CheckedDocument:
    """A document the engine accepted, with its parsed definition and content fingerprint."""

    document: dict[str, Any]
    definition: Definition
    digest: str

    def to_json(self) -> str:
        return document_json(self.document)


def document_json(document: dict[str, Any]) -> str:
    """Return the document as compact JSON text, keeping key order (how versions store it)."""
    return numbers.dumps(document, ensure_ascii=False, separators=(",", ":"))


def fingerprint(definition: Definition) -> str:
    """Return the SHA-256 of the normalised journey: equal for documents that mean the same."""
    journey = dict(definition.document)
    # The engine leaves an input's implied ``required`` unset; spell it out so writing it or
    # not means the same.
    journey["inputs"] = [
        {**item, "required": item.get("required", "default" not in item)}
        for item in journey.get("inputs", [])
    ]
    canonical = numbers.dumps(journey, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_document(document: Any, *, step_checks: StepChecks | None = None) -> CheckedDocument:
    """Validate a parsed document with the engine; raise ``DefinitionError`` with every issue.

    With ``step_checks`` (the editor's memory of step schema checks) a step whose exact content
    was checked before is not walked again: the issues, the definition and the digest are the
    full check's (``tests/engine/test_step_checks.py``), and nothing may change the definition.
    """
    if not isinstance(document, dict):
        raise DefinitionError(
            [
                Issue(
                    "error", "wrong_type", "", "the document must be a mapping with a 'journey' key"
                )
            ]
        )
    definition = definition_from_data(document, step_checks=step_checks)
    return CheckedDocument(document=document, definition=definition, digest=fingerprint(definition))


def check_text(text: str, *, source: str = "<editor>") -> CheckedDocument:
    """Parse YAML or JSON text once and validate it; raise ``DefinitionError`` with every issue.

    The engine's parser rejects duplicate keys, names the line of a syntax error and keeps the
    author's key order, so its data is both what is validated and what is stored.
    """
    document = read_document(text)
    definition = definition_from_data(document, source=source)
    return CheckedDocument(document=document, definition=definition, digest=fingerprint(definition))


def render_yaml(document: dict[str, Any]) -> str:
    """Return the document as block-style YAML in the author's key order."""
    text: str = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _child(node: yaml.Node | None, key: str) -> tuple[yaml.Node, int] | None:
    """Return a mapping node's value for ``key`` and the line of the key."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node, key_node.start_mark.line + 1
    return None


def _item(node: yaml.Node | None, index: int) -> tuple[yaml.Node, int] | None:
    if isinstance(node, yaml.SequenceNode) and 0 <= index < len(node.value):
        item: yaml.Node = node.value[index]
        return item, item.start_mark.line + 1
    return None


def yaml_lines(text: str, paths: Iterable[str]) -> dict[str, int]:
    """Return the 1-based line of YAML ``text`` that each issue path points at.

    Paths are the engine's, under the ``journey`` key (``steps[2].request.url``); a path that
    goes further than the text does stops at the deepest part found. Text that does not parse
    gives no lines (its syntax error names its own).
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return {}
    journey = _child(root, "journey")
    if journey is None:
        return {}
    lines: dict[str, int] = {}
    for path in paths:
        node, line = journey
        for key, index in _PATH_PART.findall(path):
            found = _child(node, key) if key else _item(node, int(index))
            if found is None:
                break
            node, line = found
        lines[path] = line
    return lines
