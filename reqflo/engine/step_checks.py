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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
    # What a definition builds of the step where it stands ({index: parts}), for the last few
    # places it stood at: most edits leave most steps where they were.
    built: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)


_BUILT_KEPT = 4
_Parts = TypeVar("_Parts")


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

    def prepare(self, data: Any) -> PreparedSteps | None:
        """Raise ``too_deep`` exactly where ``depth.check_data(data)`` would; return the node
        that checks the steps of the journey document ``data`` through the memory, or None
        when ``data`` holds no list of steps (the memory itself checks any then).

        Each step is looked up (or checked) once here: the depth of a remembered step is known,
        so only the rest of the document is walked for depth.
        """
        journey = data.get("journey") if isinstance(data, dict) else None
        steps = journey.get("steps") if isinstance(journey, dict) else None
        if not isinstance(journey, dict) or not isinstance(steps, list):
            check_data(data)
            return None
        found = {id(step): self._checked(step) for step in steps}
        rest = {**data, "journey": {**journey, "steps": []}}
        if passes(rest, MAX_DEPTH) or any(checked.deep for checked in found.values()):
            check_data(data)  # raises, naming the same place as without the memory
        return PreparedSteps(found)

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
        walk.templates.extend((path + tail, template) for tail, template in found.templates)
        return _issues_and_value(found, path, walk)


def _issues_and_value(found: _Checked, path: str, walk: Walk) -> Any:
    walk.issues.extend(Issue(i.severity, i.code, path + i.path, i.message) for i in found.issues)
    return dict(found.value) if isinstance(found.value, dict) else found.value


class PreparedSteps(Node):
    """The steps of one journey document, each looked up once (``StepChecks.prepare``).

    Its check of a step adds the step's issues to the walk but not its templates: what the
    definition builds of each step, its references included, comes from ``built``.
    """

    def __init__(self, found: dict[int, _Checked]) -> None:
        self.found = found  # by identity: the document's own step values, for this call only
        self.order: list[_Checked] = []  # the steps checked, in the order of the document

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        found = self.found[id(value)]  # the walk goes through the steps ``prepare`` saw
        self.order.append(found)
        return _issues_and_value(found, path, walk)

    def built(
        self, build: Callable[[int, Any, tuple[tuple[str, Template], ...]], _Parts]
    ) -> list[_Parts]:
        """Return ``build(index, value, templates)`` of each step, in order: its index, its
        normalised value and its templates (paths after the step's own).

        Remembered per step and index, so ``build`` must be the same function on every call
        (the definition's).
        """
        parts = []
        for index, checked in enumerate(self.order):
            part = checked.built.get(index)
            if part is None:
                part = build(index, checked.value, checked.templates)
                if len(checked.built) >= _BUILT_KEPT:
                    checked.built.clear()
                checked.built[index] = part
            parts.append(part)
        return parts
