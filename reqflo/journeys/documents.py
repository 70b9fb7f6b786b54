"""Journey documents as the app stores them: parse, validate, fingerprint and render as YAML.

A *document* is the author's mapping ``{"journey": {...}}`` with their key order kept. The
engine validates it and normalises it (defaults filled in); the normalised form is what two
documents are compared by, so YAML written by hand and the same journey built in the form view
count as one definition.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
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


def dump_yaml(document: Any) -> str:
    """Return ``document`` as block-style YAML in the author's key order, written whole."""
    text: str = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


class _StepTexts:
    """The YAML of steps written before, by their ``repr`` (exact for parsed data: ``1``,
    ``1.0``, ``"1"`` and ``True`` differ): at most ``size`` steps and ``chars`` characters,
    least recently used dropped first; safe to share between threads."""

    def __init__(self, size: int = 8192, chars: int = 8 * 1024 * 1024) -> None:
        self.size, self.chars, self._held = size, chars, 0
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def text(self, step: Any) -> str:
        key = repr(step)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        # Written where it stands in a journey (two spaces in), so long lines fold the same.
        text = dump_yaml({"journey": {"steps": [step]}})[len(_STEPS_HEAD) :]
        with self._lock:
            if key not in self._items and len(key) + len(text) <= self.chars:
                self._items[key] = text
                self._held += len(key) + len(text)
            while len(self._items) > self.size or self._held > self.chars:
                old_key, old_text = self._items.popitem(last=False)
                self._held -= len(old_key) + len(old_text)
        return text


_STEPS_HEAD = "journey:\n  steps:\n"
_NO_STEPS = "\n  steps: []\n"
STEP_TEXTS = _StepTexts()


def render_yaml(document: dict[str, Any]) -> str:
    """Return the document as block-style YAML in the author's key order.

    The same text as ``dump_yaml(document)``, written a step at a time: a step written before
    (``STEP_TEXTS``) is not written again, so the YAML view of a 1,500-step journey with one
    step changed writes one step (issue 15).
    """
    journey = document.get("journey")
    steps = journey.get("steps") if isinstance(journey, dict) else None
    if not isinstance(journey, dict) or not isinstance(steps, list) or not steps:
        return dump_yaml(document)
    head = dump_yaml({**document, "journey": {**journey, "steps": []}})
    at = head.find(_NO_STEPS)
    if at < 0 or head.find(_NO_STEPS, at + 1) >= 0:
        return dump_yaml(document)
    items = "".join(STEP_TEXTS.text(step) for step in steps)
    return head[: at + 1] + "  steps:\n" + items + head[at + len(_NO_STEPS) :]


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
    paths = list(paths)
    if not paths:
        return {}  # nothing to point at: the text is not read (0.3 s at 1,500 steps)
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
