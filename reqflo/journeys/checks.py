"""Run check additions that higher apps register, so the editor shows them without importing them.

The Cloud Runner (``reqflo.runners``) registers its per-workspace limits here at start-up; the
journey editor's Run check adds what every registered hook returns.
"""

from __future__ import annotations

from collections.abc import Callable

from reqflo.core.models import Workspace
from reqflo.engine import Definition, Issue

RunCheckHook = Callable[[Workspace, Definition], list[Issue]]

_hooks: list[RunCheckHook] = []


def register_run_check(hook: RunCheckHook) -> None:
    """Add ``hook(workspace, definition) -> issues`` to every Run check the editor shows."""
    if hook not in _hooks:
        _hooks.append(hook)


def registered_run_check_issues(*, workspace: Workspace, definition: Definition) -> list[Issue]:
    return [issue for hook in _hooks for issue in hook(workspace, definition)]
