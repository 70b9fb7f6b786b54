"""Schema checks of single steps, remembered by the step's content, for incremental validation.

The editor checks the whole journey after every button press; on a 1,500-step journey the
schema walk of the steps is most of a request (about 160 ms of CPU), although one step changed.
A step's schema check depends on nothing but the step itself, so its outcome (the normalised
step, its issues and its ``{{ }}`` templates) can be kept, keyed by the step's content, and
reused at any index. What spans steps (unique ids, references to other steps' outputs, the
Run check) is computed afresh on every call from the (cheap) remembered parts.

``StepChecks`` is that memory: a bounded LRU, safe to share between threads. The engine's
``definition_from_data(data, step_checks=...)`` uses it; without it nothing is remembered
(the CLI and imports validate everything; the editor's saves go through the memory too).
The memory also knows whether a step nests too deep (``depth.MAX_DEPTH``), so the depth check
of a document walks only what is not a remembered step (``StepChecks.prepare``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from reqflo.engine.depth import MAX_DEPTH, check_data, passes
from reqflo.engine.errors import Issue
from reqflo.engine.journey_schema import STEP
from reqflo.engine.schema import Node, Walk
from reqflo.engine.values import Template

# Where a remembered step was checked; rebased onto ``steps[N]`` when used.
_HOME = "steps[#]"
# The level of a step in a journey document: the document, `journey`, `steps`, the step.
_STEP_LEVEL = 3


@dataclass(frozen=True)
class _Checked:
    value: Any  # the normalised step (shared: copied shallowly when handed out)
    issues: tuple[Issue, ...]  # paths after the step's own (".request.url")
    templates: tuple[tuple[str, Template], ...]  # paths after the step's own
    # Whether the step nests past MAX_DEPTH where a journey's steps stand (then it is not
    # checked: the document is refused as too deep before any check).
    deep: bool = False


def _tail(path: str) -> str:
    """Return the part of a path under ``_HOME`` after it (a step's paths all start with it)."""
    assert path.startswith(_HOME), path
    return path[len(_HOME) :]


class StepChecks(Node):
    """Remember the schema check of up to ``size`` distinct steps (least recently used go first).

    ``node`` is the schema of one step (``journey_schema.STEP``, the default). A step is keyed
    by its ``repr``: exact for parsed data, key order and types kept (``1``, ``1.0``, ``"1"``,
    ``True`` and ``Decimal("1")`` differ); a value whose ``repr`` is not its content (an
    object's address) only misses.
    """

    def __init__(self, node: Node = STEP, size: int = 8192) -> None:
        self.node = node
        self.size = size
        self._items: OrderedDict[str, _Checked] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        """Check one step at ``path`` (``steps[N]``) into ``walk``; return the normalised step.

        The same issues and templates as ``node.check(value, path, walk)``; the returned
        mapping is a fresh (shallow) copy, its nested values are shared with the memory and
        must not be changed.
        """
        found = self._checked(value)
        if found.deep:  # not depth-checked by ``prepare``: walked as without the memory
            return self.node.check(value, path, walk)
        return self._use(found, path, walk)

    def prepare(self, data: Any) -> Node:
        """Raise ``too_deep`` exactly where ``depth.check_data(data)`` would; return the node
        that checks the steps of the journey document ``data`` through the memory.

        Each step is looked up (or checked) once here: the depth of a remembered step is known,
        so only the rest of the document is walked for depth.
        """
        journey = data.get("journey") if isinstance(data, dict) else None
        steps = journey.get("steps") if isinstance(journey, dict) else None
        if not isinstance(journey, dict) or not isinstance(steps, list):
            check_data(data)
            return self
        found = {id(step): self._checked(step) for step in steps}
        rest = {**data, "journey": {**journey, "steps": []}}
        if passes(rest, MAX_DEPTH) or any(checked.deep for checked in found.values()):
            check_data(data)  # raises, naming the same place as without the memory
        return _Prepared(self, found)

    def _checked(self, value: Any) -> _Checked:
        key = repr(value)  # exact for parsed data: 1, 1.0, "1", True and Decimal("1") differ
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
        if isinstance(value, dict | list) and passes(value, MAX_DEPTH - _STEP_LEVEL):
            found = _Checked(None, (), (), deep=True)
        else:
            own = Walk()
            found = _Checked(
                self.node.check(value, _HOME, own),
                tuple(Issue(i.severity, i.code, _tail(i.path), i.message) for i in own.issues),
                tuple((_tail(where), template) for where, template in own.templates),
            )
        with self._lock:
            self.misses += 1
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found

    def _use(self, found: _Checked, path: str, walk: Walk) -> Any:
        """Add a remembered check's issues and templates at ``path``; return its value."""
        walk.issues.extend(
            Issue(i.severity, i.code, path + i.path, i.message) for i in found.issues
        )
        walk.templates.extend((path + tail, template) for tail, template in found.templates)
        return dict(found.value) if isinstance(found.value, dict) else found.value


class _Prepared(Node):
    """The steps of one document, each looked up already (by identity, for this call only)."""

    def __init__(self, checks: StepChecks, found: dict[int, _Checked]) -> None:
        self.checks = checks
        self.found = found

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        found = self.found.get(id(value))
        if found is None:  # not one of the document's steps (never, as the walk goes)
            return self.checks.check(value, path, walk)
        return self.checks._use(found, path, walk)
