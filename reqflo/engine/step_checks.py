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
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from reqflo.engine.errors import Issue
from reqflo.engine.journey_schema import STEP
from reqflo.engine.schema import Node, Walk
from reqflo.engine.values import Template

# Where a remembered step was checked; rebased onto ``steps[N]`` when used.
_HOME = "steps[#]"


@dataclass(frozen=True)
class _Checked:
    value: Any  # the normalised step (shared: copied shallowly when handed out)
    issues: tuple[Issue, ...]  # paths after the step's own (".request.url")
    templates: tuple[tuple[str, Template], ...]  # paths after the step's own


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
        key = repr(value)  # exact for parsed data: 1, 1.0, "1", True and Decimal("1") differ
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
        if found is None:
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
        walk.issues.extend(
            Issue(i.severity, i.code, path + i.path, i.message) for i in found.issues
        )
        walk.templates.extend((path + tail, template) for tail, template in found.templates)
        return dict(found.value) if isinstance(found.value, dict) else found.value
